/**
 * The low-load paths of the shared-memory transport (src/pool/shared/{main,worker,wake}.ts): a
 * runtime whose workers went to their idle park still answers, call after call, including calls
 * spaced out the way a lightly loaded service sends them; an idle runtime leaves nothing
 * scheduled on main's event loop (no polling immediate, no timer: main parks, it does not spin);
 * a worker that parks while a finished task's timer is pending still runs that timer; a burst
 * after an idle spell settles completely. Behaviour only, no timing thresholds.
 *
 * This file is also the task module of its test (the workers import it; the suites are defined
 * on the main thread only).
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime, sharedChan, type SharedChannel } from '../../src/index.js';
import { until } from '../fixtures/settle.js';

/** Task: echo `x` with the worker's thread id. */
export function echo(x: number): [number, number] {
  return [x, threadId];
}

/** Task: the performance.timeOrigin-based time it started, then put 0..n-1 on `ch` and close it. */
export async function produceInto(ch: SharedChannel<number>, n: number): Promise<number> {
  const started = performance.timeOrigin + performance.now();
  for (let i = 0; i < n; i++) await ch.put(i);
  ch.close();
  return started;
}

/** Task: set a (ref'd) timer that, when it fires, stores 1 into `flag[0]` and notifies; return at once. */
export function armTimer(flag: SharedArrayBuffer, ms: number): void {
  setTimeout(() => {
    const a = new Int32Array(flag);
    Atomics.store(a, 0, 1);
    Atomics.notify(a, 0);
  }, ms);
}

const waitAsync = (
  Atomics as unknown as {
    waitAsync: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** Main-thread resources other than the ones present before the runtime started. */
function extraResources(before: string[]): string[] {
  const left = [...before];
  const extra: string[] = [];
  for (const r of process.getActiveResourcesInfo()) {
    const i = left.indexOf(r);
    if (i >= 0) left.splice(i, 1);
    else extra.push(r);
  }
  return extra;
}

if (isMainThread) {
  const me = new URL(import.meta.url);
  const t = suite('pool_shared_idle');

  t('a worker that went to its idle park wakes and answers, call after call', async () => {
    const rt = await Runtime.start({ workers: 2, transport: 'shared' });
    try {
      assert.equal((await rt.run<[number, number]>(me, 'echo', [1]))[0], 1);
      const parked = (): number => rt.stats().workers.reduce((n, w) => n + w.parks, 0);
      const p0 = parked();
      assert.ok(await until(() => parked() > p0, 10_000), 'a worker parks once the runtime is idle');
      for (let i = 0; i < 20; i++) {
        // spaced the way a lightly loaded service calls: every call meets a parked worker
        if (i % 2) await new Promise((r) => setTimeout(r, 2));
        else await new Promise((r) => setImmediate(r));
        const [x] = await rt.run<[number, number]>(me, 'echo', [i]);
        assert.is(x, i);
      }
    } finally {
      await rt.close();
    }
  });

  t('an idle runtime leaves no immediate and no timer on main (main parks, it does not poll)', async () => {
    await new Promise((r) => setImmediate(r));
    const before = process.getActiveResourcesInfo();
    const rt = await Runtime.start({ workers: 2, transport: 'shared' });
    try {
      for (let i = 0; i < 50; i++) await rt.run(me, 'echo', [i]);
      const quiet = (): boolean => {
        const extra = extraResources(before);
        return !extra.includes('Immediate') && !extra.includes('Timeout');
      };
      assert.ok(await until(quiet, 5000), `left on main: ${extraResources(before).join(', ')}`);
      // and it still answers afterwards
      assert.is((await rt.run<[number, number]>(me, 'echo', [7]))[0], 7);
    } finally {
      await rt.close();
    }
  });

  t("a finished task's timer still fires on a worker that went idle", async () => {
    const rt = await Runtime.start({ workers: 1, transport: 'shared' });
    try {
      const flag = new SharedArrayBuffer(4);
      await rt.run(me, 'armTimer', [flag, 30]);
      const keep = setInterval(() => {}, 1000); // waitAsync alone does not hold main's loop
      const r = waitAsync(new Int32Array(flag), 0, 0, 10_000);
      const outcome = r.async ? await (r.value as Promise<string>) : r.value;
      clearInterval(keep);
      assert.is.not(outcome, 'timed-out', 'the timer fired while the worker had nothing else to do');
      assert.is(Atomics.load(new Int32Array(flag), 0), 1);
    } finally {
      await rt.close();
    }
  });

  t('a burst after an idle spell settles every task, and a lone call after it too', async () => {
    const rt = await Runtime.start({ workers: 2, transport: 'shared' });
    try {
      await rt.run(me, 'echo', [0]);
      await new Promise((r) => setTimeout(r, 30));
      const xs = await Promise.all(Array.from({ length: 2000 }, (_, i) => rt.run<[number, number]>(me, 'echo', [i])));
      assert.equal(
        xs.map(([x]) => x),
        Array.from({ length: 2000 }, (_, i) => i),
      );
      for (let i = 0; i < 100; i++) assert.is((await rt.run<[number, number]>(me, 'echo', [i]))[0], i);
    } finally {
      await rt.close();
    }
  });

  t(
    'a task sent on a port (a channel argument) starts at once, though its ring was spent while the worker ran',
    async () => {
      // A task whose arguments hold a SharedArrayBuffer travels on the worker's port, and main rings
      // the bell after posting it. When that ring lands while the worker is running or spinning, it
      // is spent there; the worker then blocked in Atomics.wait with the task undelivered in its
      // port, for the whole idle park (5 s): 2 of 6 rounds of this loop did. The bound below is half
      // of that park, far above what the start takes even on a loaded machine (about 1 ms).
      const rt = await Runtime.start({ workers: 2, transport: 'shared' });
      try {
        for (let round = 0; round < 8; round++) {
          const ch = sharedChan<number>(1024);
          const asked = performance.timeOrigin + performance.now();
          const task = rt.run<number>(me, 'produceInto', [ch, 30_000]);
          let n = 0;
          for await (const _ of ch) n++;
          const started = await task;
          assert.is(n, 30_000);
          const waited = started - asked;
          assert.ok(waited < 2_500, `round ${round}: the task started ${waited.toFixed(0)} ms after rt.run`);
        }
      } finally {
        await rt.close();
      }
    },
  );

  t.run();
}
