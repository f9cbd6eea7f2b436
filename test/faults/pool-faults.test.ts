/**
 * Fault suite, pool: whatever a task returns or throws, and however its worker dies, every
 * promise settles exactly once, the worker goes on (or is replaced), and nothing stays pending.
 * Rows 1, 2, 3 and 11 of docs/design.md "Faults", on both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime, WorkerExitedError } from '../../src/index.js';
import { outcome } from '../fixtures/settle.js';

const url = new URL('../fixtures/tasks-faults.js', import.meta.url);

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`pool faults [${transport}]`);

  t('a result nested deeper than the codec limit rejects with a RangeError, and the worker goes on', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      for (const depth of [5000, 20_000]) {
        const o = await outcome(rt.run(url, 'deep', [depth]));
        assert.is(o.state, 'rejected', `depth ${depth}`);
        const e = (o as { reason: RangeError & { code: string } }).reason;
        assert.instance(e, RangeError);
        assert.is(e.code, 'ERR_OUT_OF_RANGE');
        assert.match(e.message, /nesting deeper than 1000/);
        assert.equal(await outcome(rt.run(url, 'add', [1, 2])), { state: 'fulfilled', value: 3 });
      }
      const thrown = await outcome(rt.run(url, 'throwDeep', [5000]));
      assert.is(thrown.state, 'rejected', 'a deep thrown value fails its task too, described');
      assert.equal(await outcome(rt.run(url, 'add', [1, 2])), { state: 'fulfilled', value: 3 });
      const ok = await outcome(rt.run(url, 'deep', [900]));
      assert.is(ok.state, 'fulfilled', 'a value within the limit still arrives');
      assert.is(rt.stats().workers[0]!.restarts, 0);
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('an argument nested deeper than the codec limit is refused at the call site, nothing sent', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      let v: unknown = 0;
      for (let i = 0; i < 5000; i++) v = [v];
      let code: unknown;
      try {
        void rt.run(url, 'depthOf', [v]);
      } catch (e) {
        code = (e as { code?: unknown }).code;
      }
      assert.is(code, 'ERR_OUT_OF_RANGE');
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('a hostile thrown value fails only its own task: the worker and its neighbours live on', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const kinds = [
        'code',
        'message',
        'name',
        'stack',
        'cause',
        'custom',
        'proxy',
        'toString',
        'nullProto',
        'symbolToPrimitive',
      ];
      const runs = kinds.map((k) => rt.run(url, 'hostile', [k]));
      const bystander = rt.run(url, 'add', [2, 3]);
      const outs = await Promise.all(runs.map((p) => outcome(p)));
      outs.forEach((o, i) => assert.is(o.state, 'rejected', kinds[i]));
      const named = outs[0] as { reason: Error };
      assert.instance(named.reason, Error);
      assert.is(named.reason.message, 'base', 'the readable fields of an error still arrive');
      assert.equal(await outcome(bystander), { state: 'fulfilled', value: 5 });
      assert.is(rt.stats().workers[0]!.restarts, 0, 'no worker died');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('task-caused deaths in a row are not boot failures: the worker is replaced every time', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      for (let i = 0; i < 7; i++) {
        const o = await outcome(rt.run(url, 'exitNow', [1]));
        assert.is(o.state, 'rejected');
        const e = (o as { reason: WorkerExitedError }).reason;
        assert.instance(e, WorkerExitedError);
        assert.is(e.started, true, 'the dead worker had taken the task');
        assert.match(e.message, /may run it twice/);
      }
      assert.equal(await outcome(rt.run(url, 'add', [1, 1])), { state: 'fulfilled', value: 2 });
      assert.is(rt.stats().workers[0]!.restarts, 7);
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('when no worker can boot any more, queued and new tasks reject (started: false) instead of pending', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    const old = process.env.SHOAL_NET_HOLD_US;
    // replacements inherit this environment and refuse it at boot (src/config.ts): they die
    // before taking any task, which is what a boot failure is
    process.env.SHOAL_NET_HOLD_US = 'abc';
    try {
      const killer = await outcome(rt.run(url, 'exitNow', [1]));
      assert.is(killer.state, 'rejected');
      // bound generous: five boots under a doubling backoff on a busy machine
      const queued = await outcome(rt.run(url, 'add', [1, 2]), 90_000);
      assert.is(queued.state, 'rejected', 'a task no worker can take must not pend');
      const e = (queued as { reason: WorkerExitedError }).reason;
      assert.instance(e, WorkerExitedError);
      assert.is(e.started, false);
      assert.match(e.message, /SHOAL_NET_HOLD_US/);
      const later = await outcome(rt.run(url, 'add', [1, 2]));
      assert.is(later.state, 'rejected');
      assert.is(rt.stats().inFlight, 0);
    } finally {
      if (old === undefined) delete process.env.SHOAL_NET_HOLD_US;
      else process.env.SHOAL_NET_HOLD_US = old;
      await rt.close({ timeout: 1000 });
    }
  });

  t('a burst beside dying tasks: every promise settles exactly once, workers replaced, none pending', async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      let settledCount = 0;
      const ps: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        const p = i % 50 === 7 ? rt.run(url, 'exitNow', [1]) : rt.run(url, 'add', [i, 1]);
        ps.push(
          p.then(
            (v) => (settledCount++, v),
            (e) => (settledCount++, e),
          ),
        );
      }
      const outs = await Promise.all(ps.map((p) => outcome(p)));
      assert.ok(
        outs.every((o) => o.state === 'fulfilled'),
        'every promise settled',
      );
      assert.is(settledCount, 200, 'exactly once each');
      const restarts = rt.stats().workers.reduce((n, w) => n + w.restarts, 0);
      // one replacement per death; two killers taken by one worker die with it once
      assert.ok(restarts >= 1 && restarts <= 4, `restarts ${restarts}`);
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('a sparse array costs what it holds, not its length, both ways', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const a: unknown[] = [];
      a[1e8] = 1;
      // an O(length) walk would take seconds here (and 1e9 never settled); the bound only catches a hang
      assert.equal(await outcome(rt.run(url, 'sparseInfo', [a])), { state: 'fulfilled', value: [1e8 + 1, 1] });
      const back = await outcome(rt.run(url, 'sparse', [1e8]));
      assert.is(back.state, 'fulfilled');
      const v = (back as { value: unknown[] }).value;
      assert.is(v.length, 1e8 + 1);
      assert.is(v[1e8], 1);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t.run();
}

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`module bound [${transport}]`);
  const mod = (i: number): string => `data:text/javascript,export const f = (x) => x + ${i};`;

  t('a worker that loaded maxModulesPerWorker modules is recycled; no task is lost or failed', async () => {
    const rt = await Runtime.start({ workers: 1, transport, maxModulesPerWorker: 3, allowModules: ['data:'] });
    try {
      for (let i = 0; i < 12; i++)
        assert.equal(await outcome(rt.run(mod(i), 'f', [1])), { state: 'fulfilled', value: 1 + i });
      // and many at once, over more modules than the bound
      const outs = await Promise.all(Array.from({ length: 60 }, (_, i) => outcome(rt.run(mod(i % 20), 'f', [i]))));
      outs.forEach((o, i) => assert.equal(o, { state: 'fulfilled', value: i + (i % 20) }));
      const w = rt.stats().workers[0]!;
      assert.ok(w.recycled >= 2, `recycled ${w.recycled}`);
      assert.is(w.restarts, 0, 'a recycling is not a death');
      assert.is(rt.stats().inFlight, 0);
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('maxModulesPerWorker is checked', async () => {
    let code: unknown;
    try {
      await Runtime.start({ workers: 1, transport, maxModulesPerWorker: 0 });
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    assert.is(code, 'ERR_OUT_OF_RANGE');
  });

  t.run();
}
