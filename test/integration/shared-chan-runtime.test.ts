/**
 * Channels made by `rt.channel()` cross to pool workers as task arguments (top level and nested in
 * a plain object) and work there, under both runtime transports: the worker sees a channel, not a
 * descriptor; values flow both ways; close is seen across the pool.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';

const tasks = new URL('../fixtures/shared-chan-tasks.js', import.meta.url);

for (const transport of ['shared', 'message'] as const) {
  const test = suite(`rt.channel [${transport}]`);

  test('a channel passed to rt.run arrives as a channel, top level and nested', async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      const ch = rt.channel<number>(8);
      assert.is(await rt.run(tasks, 'isChannel', [ch]), true);
      assert.is(await rt.run(tasks, 'isChannel', [{ inner: ch }, 'inner']), true);
      assert.is(await rt.run(tasks, 'isChannel', [{ inner: 1 }, 'inner']), false);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  test('main puts, a pool task takes until close: every value arrives once', async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      const ch = rt.channel<number>(16);
      const done = rt.run<{ count: number; sum: number }>(tasks, 'sum', [ch], { timeout: 30_000 });
      const n = 2000;
      for (let i = 0; i < n; i++) assert.ok(await ch.put(i));
      ch.close();
      assert.equal(await done, { count: n, sum: (n * (n - 1)) / 2 });
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  test('a pool task produces into a channel nested in its argument and closes it; main drains it', async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      const out = rt.channel<number>(4);
      const task = rt.run<number>(tasks, 'produce', [{ out, n: 500 }], { timeout: 30_000 });
      const got: number[] = [];
      for await (const v of out) got.push(v);
      assert.is(await task, 500);
      assert.equal(
        got,
        Array.from({ length: 500 }, (_, i) => i),
      );
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  test.run();
}
