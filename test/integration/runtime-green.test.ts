/**
 * Green threads inside pool tasks: every core primitive works in a task, many tasks share a
 * worker, the task's cancellation reaches shoal's waits inside it, and rt.tasks() shows the green
 * threads a task spawned (with spawn stacks when tracing). Both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { CancelledError } from '../../src/core/errors.js';
import { flagged } from '../fixtures/flag-wait.js';

const url = new URL('../fixtures/tasks-green.js', import.meta.url);

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`green threads in tasks [${transport}]`);

  t('spawn, scope, chan and sleep work inside a task', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      assert.is(await rt.run(url, 'pipeline', [100]), 5050);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('select inside a task picks the first ready event', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      assert.is(await rt.run(url, 'race', [1, 10_000]), 'channel');
      assert.is(await rt.run(url, 'race', [10_000, 1]), 'timeout');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('the ambient context goes off once no task runs (its promise hook taxed the worker for good)', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const flag = new Int32Array(new SharedArrayBuffer(8));
      await rt.run(url, 'leaveTimer', [flag]);
      await flagged(flag, 0); // the timer fired, with no task running since
      assert.is(Atomics.load(flag, 0), 2, 'a timer left behind no longer runs as the settled task');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('one worker runs many waiting tasks at once', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const flags = Array.from({ length: 50 }, () => new Int32Array(new SharedArrayBuffer(8)));
      const ps = flags.map((f) => {
        const ac = new AbortController();
        const p = rt.run(url, 'sleepyParent', [f], { signal: ac.signal });
        return { ac, p };
      });
      for (const f of flags) await flagged(f, 0); // all 50 started while none finished
      for (const { ac } of ps) ac.abort();
      for (const { p } of ps) assert.instance(await p.catch((e: unknown) => e), CancelledError);
      for (const f of flags) await flagged(f, 1); // each one's sleep saw the cancellation
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t(
    "rt.tasks() lists a task's green threads with spawn stacks when tracing, and where the task was submitted",
    async () => {
      const rt = await Runtime.start({ workers: 1, transport, tracing: true });
      try {
        const flag = new Int32Array(new SharedArrayBuffer(8));
        const ac = new AbortController();
        const p = rt.run(url, 'sleepyParent', [flag], { signal: ac.signal });
        await flagged(flag, 0);
        const live = await rt.tasks();
        const task = live.find((x) => x.kind === 'task');
        const child = live.find((x) => x.kind === 'green' && x.name === 'child-sleeper');
        assert.ok(task, 'the pool task is listed');
        assert.match(task!.name, /tasks-green\.js#sleepyParent/);
        assert.is(task!.state, 'running');
        assert.ok(child, 'its green thread is listed');
        assert.is(child!.worker, 0);
        assert.match(child!.stack ?? '', /tasks-green\.js/);
        // the pool task: where the caller submitted it (this file), without shoal's own frames
        assert.match(task!.stack ?? '', /runtime-green\.test\.js/);
        assert.not.match(task!.stack ?? '', /[/\\]src[/\\](pool|runtime)[/\\]/);
        ac.abort();
        await p.catch(() => {});
        await flagged(flag, 1);
      } finally {
        await rt.close({ timeout: 1000 });
      }
    },
  );

  t.run();
}
