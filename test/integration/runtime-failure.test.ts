/**
 * Runtime failure paths on real workers, under both transports: crashed workers, cancellation and
 * timeouts of running and queued tasks, close under load, hung tasks made visible.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { CancelledError, ClosedError, TimeoutError, WorkerExitedError } from '../../src/core/errors.js';
import { flagged, newFlag } from '../fixtures/flag-wait.js';

const url = new URL('../fixtures/tasks-basic.js', import.meta.url);

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`runtime failures [${transport}]`);

  for (const [what, name, args, opts] of [
    ['process.exit in a task', 'exitNow', [3], {}],
    ['an uncaught exception', 'throwUncaught', [], {}],
    [
      'out of memory under resourceLimits',
      'oom',
      [],
      { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } },
    ],
  ] as const) {
    t(
      `a worker killed by ${what} rejects its in-flight tasks with WorkerExitedError, and its replacement works`,
      async () => {
        const rt = await Runtime.start({ workers: 1, transport, ...opts });
        try {
          const flag = newFlag();
          const bystander = rt.run(url, 'waitForAbort', [flag]);
          await flagged(flag, 0); // the bystander runs on the worker about to die
          const killer = rt.run(url, name, [...args]);
          const [b, k] = await Promise.allSettled([bystander, killer]);
          assert.is(b.status, 'rejected');
          assert.is(k.status, 'rejected');
          assert.instance((b as PromiseRejectedResult).reason, WorkerExitedError);
          assert.instance((k as PromiseRejectedResult).reason, WorkerExitedError);
          assert.is(((k as PromiseRejectedResult).reason as WorkerExitedError).code, 'ERR_SHOAL_WORKER_EXITED');
          assert.is(await rt.run(url, 'add', [1, 2]), 3, 'the replacement runs tasks');
          assert.is(rt.stats().workers[0]!.restarts, 1);
        } finally {
          await rt.close({ timeout: 1000 });
        }
      },
    );
  }

  t(
    'aborting a running task rejects it with CancelledError, the task sees its signal, the worker lives on',
    async () => {
      const rt = await Runtime.start({ workers: 1, transport });
      try {
        const flag = newFlag();
        const ac = new AbortController();
        const p = rt.run(url, 'waitForAbort', [flag], { signal: ac.signal });
        await flagged(flag, 0);
        ac.abort('user said stop');
        const e = (await p.catch((x: unknown) => x)) as CancelledError;
        assert.instance(e, CancelledError);
        assert.is(e.cause, 'user said stop');
        await flagged(flag, 1); // the task function observed the abort through this.signal
        assert.is(await rt.run(url, 'add', [2, 2]), 4);
        assert.is(rt.stats().workers[0]!.restarts, 0);
      } finally {
        await rt.close({ timeout: 1000 });
      }
    },
  );

  t('a per-task timeout rejects with TimeoutError and cancels the task through its ambient signal', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const e = (await rt
        .run(url, 'waitForAmbientAbort', [], { timeout: 50 })
        .catch((x: unknown) => x)) as TimeoutError;
      assert.instance(e, TimeoutError);
      assert.match(e.message, /waitForAmbientAbort/);
      // the worker-side task ended too (it rejected on its aborted signal): nothing left running
      for (let i = 0; i < 1000 && rt.stats().workers[0]!.running > 0; i++) await new Promise((r) => setTimeout(r, 10)); // bounded poll, 10 s
      assert.is(rt.stats().workers[0]!.running, 0);
      assert.is(await rt.run(url, 'add', [1, 1]), 2);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('aborting and timing out queued tasks rejects them without ever starting them', async () => {
    const rt = await Runtime.start({ workers: 1, transport, maxRunningPerWorker: 1 });
    try {
      const flag = newFlag();
      const blocker = rt.run(url, 'spin', [flag, 10_000]);
      blocker.catch(() => {}); // awaited below; a failed assertion must not turn it into a crash
      await flagged(flag, 0); // the only worker is busy, so the next tasks stay queued
      const ac = new AbortController();
      const queued = rt.run(url, 'add', [1, 1], { signal: ac.signal });
      const timed = rt.run(url, 'add', [1, 1], { timeout: 20 });
      ac.abort();
      assert.instance(await queued.catch((x: unknown) => x), CancelledError);
      assert.instance(await timed.catch((x: unknown) => x), TimeoutError);
      assert.is(rt.stats().inFlight, 1, 'only the spinner is still in flight');
      Atomics.store(flag, 1, 1); // release the spinner
      await blocker;
      assert.is(await rt.run(url, 'add', [5, 5]), 10);
      assert.is(rt.stats().workers[0]!.completed, 2, 'only the spinner and the last task ever ran');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('an already-aborted signal rejects at once with nothing sent', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const e = await rt.run(url, 'add', [1, 1], { signal: AbortSignal.abort('no') }).catch((x: unknown) => x);
      assert.instance(e, CancelledError);
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('a hung task is visible in rt.tasks() and stats, even after its caller gave up', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const flag = newFlag();
      const ac = new AbortController();
      const p = rt.run(url, 'hang', [flag], { signal: ac.signal });
      await flagged(flag, 0);
      ac.abort();
      assert.instance(await p.catch((x: unknown) => x), CancelledError);
      const live = await rt.tasks();
      assert.is(live.length, 1);
      assert.match(live[0]!.name, /tasks-basic\.js#hang/);
      assert.is(live[0]!.abandoned, true);
      assert.is(live[0]!.state, 'cancelling');
      assert.is(rt.stats().workers[0]!.running, 1);
    } finally {
      await rt.close({ timeout: 100 });
    }
  });

  t(
    'close under load settles every promise: each one resolves or rejects with ClosedError, hung ones reject',
    async () => {
      const rt = await Runtime.start({ workers: 2, transport });
      const ps: Promise<unknown>[] = [];
      const hung = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        if (i % 500 === 0) hung.add(i);
        ps.push(hung.has(i) ? rt.run(url, 'hang', []) : rt.run(url, 'echoLater', [i]));
      }
      const closing = rt.close({ timeout: 300 });
      assert.instance(await rt.run(url, 'add', [1, 1]).catch((x: unknown) => x), ClosedError);
      const rs = await Promise.allSettled(ps);
      await closing;
      let ok = 0;
      let closed = 0;
      rs.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          ok++;
          assert.is(r.value, i, 'a finished task resolves with its own result');
        } else if (r.reason instanceof ClosedError) closed++;
        if (hung.has(i)) assert.instance((r as PromiseRejectedResult).reason, ClosedError);
      });
      assert.is(ok + closed, 2000, 'every promise settled, each one way or the other');
    },
  );

  t('destroy rejects everything at once with ClosedError', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    const settled = Promise.allSettled([rt.run(url, 'hang', []), rt.run(url, 'hang', [])]);
    await rt.destroy();
    for (const r of await settled) {
      assert.is(r.status, 'rejected');
      assert.instance((r as PromiseRejectedResult).reason, ClosedError);
    }
  });

  t.run();
}
