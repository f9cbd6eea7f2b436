/**
 * Fault suite, call sites: every bad option is refused where it is given, with a code and a
 * message naming it, before anything reaches a worker; so no task runs on bad input, no worker is
 * wedged, and nothing stays pending. Rows 4, 6, 7, 8, 9, 10 and the option checks of #17 item 10
 * in docs/design.md "Faults", on both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { errorOf, outcome, syncCode } from '../fixtures/settle.js';

const url = new URL('../fixtures/tasks-faults.js', import.meta.url);
const BIG = 2 ** 31;

const start = suite('Runtime.start options');

for (const [opts, code, names] of [
  [{ transport: 'tcp' }, 'ERR_INVALID_ARG_VALUE', /options\.transport.*"tcp"/],
  [{ workers: 0 }, 'ERR_OUT_OF_RANGE', /options\.workers.*0/],
  [{ workers: Number.NaN }, 'ERR_OUT_OF_RANGE', /options\.workers.*NaN/],
  [{ workers: 1.5 }, 'ERR_OUT_OF_RANGE', /options\.workers.*1\.5/],
  [{ workers: '2' }, 'ERR_INVALID_ARG_TYPE', /options\.workers.*"2"/],
  [{ blockingThreads: Number.NaN }, 'ERR_OUT_OF_RANGE', /options\.blockingThreads.*NaN/],
  [{ blockingThreads: 0 }, 'ERR_OUT_OF_RANGE', /options\.blockingThreads.*0/],
  [{ blockingThreads: -3 }, 'ERR_OUT_OF_RANGE', /options\.blockingThreads.*-3/],
  [{ maxRunningPerWorker: 0 }, 'ERR_OUT_OF_RANGE', /options\.maxRunningPerWorker/],
  [{ ambient: 'yes' }, 'ERR_INVALID_ARG_TYPE', /options\.ambient/],
  [{ allowModules: 'file:' }, 'ERR_INVALID_ARG_TYPE', /options\.allowModules/],
  // a misspelt option would leave the real one at its default without a word
  [{ worker: 2 }, 'ERR_INVALID_ARG_VALUE', /options\.worker is not an option of Runtime\.start \(known: workers,/],
] as const) {
  start(
    `refuses ${JSON.stringify(opts, (_k, v) => (Number.isNaN(v) ? 'NaN' : v))} naming the option and the value`,
    async () => {
      const e = await errorOf(() => Runtime.start({ ...(opts as object) } as never));
      assert.ok(e, 'it must throw');
      assert.is(e!.code, code);
      assert.match(e!.message, names);
    },
  );
}
start.run();

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`call-site checks [${transport}]`);
  let rt: Runtime;
  t.before(async () => {
    rt = await Runtime.start({ workers: 1, transport, blockingThreads: 1 });
  });
  t.after(async () => {
    await rt.close({ timeout: 1000 });
  });

  t('a bad transfer list is refused at the call site and the worker goes on', async () => {
    const ab = new ArrayBuffer(8);
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    for (const transfer of [[1], 'x', [ab, ab], [new SharedArrayBuffer(8)], [detached], [{}]]) {
      const code = syncCode(() => rt.run(url, 'add', [1, 2], { transfer: transfer as never }));
      assert.ok(code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE', `${String(transfer)}: ${code}`);
    }
    assert.is(rt.stats().inFlight, 0, 'nothing was sent');
    assert.equal(await outcome(rt.run(url, 'add', [1, 2])), { state: 'fulfilled', value: 3 });
    // a good transfer list still moves the buffer
    const buf = new ArrayBuffer(4);
    assert.equal(await outcome(rt.run(url, 'echo', [buf], { transfer: [buf] })), {
      state: 'fulfilled',
      value: new ArrayBuffer(4),
    });
    assert.is(buf.byteLength, 0, 'moved');
  });

  t('a misspelt option is refused at the call site, naming it and the known ones', async () => {
    const w0 = rt.stats().workers[0]!;
    const ran = w0.completed + w0.failed;
    const cases: Array<[() => unknown, RegExp]> = [
      [() => rt.run(url, 'add', [1, 2], { timeOut: 5 } as never), /options\.timeOut is not an option of rt\.run/],
      [() => rt.load(url, { transfer: [] } as never), /options\.transfer is not an option of rt\.load/],
      [() => rt.map([1], url, 'add', { concurency: 2 } as never), /options\.concurency is not an option of rt\.map/],
      [
        () => rt.blocking(url, 'add', [1, 2], { timeout: 5 } as never),
        /options\.timeout is not an option of rt\.blocking/,
      ],
    ];
    for (const [call, msg] of cases) {
      const e = await errorOf(call as () => Promise<unknown>);
      assert.is(e?.code, 'ERR_INVALID_ARG_VALUE', String(msg));
      assert.match(e!.message, msg);
    }
    const listen = await errorOf(() =>
      rt.listen({ port: 0, handler: new URL('../fixtures/tcp-echo.js', import.meta.url), maxConnection: 5 } as never),
    );
    assert.is(listen?.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(listen!.message, /options\.maxConnection is not an option of rt\.listen/);
    assert.is(rt.stats().inFlight, 0, 'nothing was sent');
    const w = rt.stats().workers[0]!;
    assert.is(w.completed + w.failed, ran, 'no task ran');
  });

  t('an invalid signal is refused before the task is sent', async () => {
    const w0 = rt.stats().workers[0]!;
    const ran = w0.completed + w0.failed;
    for (const signal of [{}, 'x', 1]) {
      assert.is(
        syncCode(() => rt.run(url, 'hostile', ['code'], { signal: signal as never })),
        'ERR_INVALID_ARG_TYPE',
      );
      assert.is(
        syncCode(() => rt.map([1], url, 'add', { signal: signal as never })),
        'ERR_INVALID_ARG_TYPE',
      );
      assert.is(
        syncCode(() => rt.load(url, { signal: signal as never })),
        'ERR_INVALID_ARG_TYPE',
      );
      assert.is(
        syncCode(() => rt.blocking(url, 'add', [1, 2], { signal: signal as never })),
        'ERR_INVALID_ARG_TYPE',
      );
    }
    assert.is(rt.stats().inFlight, 0);
    const w = rt.stats().workers[0]!;
    assert.is(w.completed + w.failed, ran, 'no task ran');
  });

  t(
    'timeouts of 2^31 ms or more, negative, NaN or not numbers are refused everywhere with the core error',
    async () => {
      for (const timeout of [BIG, 2 ** 40, -5, Number.NaN, 'x', Infinity]) {
        const expect = typeof timeout === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE';
        const o = { timeout: timeout as never };
        assert.is(
          syncCode(() => rt.run(url, 'add', [1, 2], o)),
          expect,
          `run ${timeout}`,
        );
        assert.is(
          syncCode(() => rt.map([1], url, 'add', o)),
          expect,
          `map ${timeout}`,
        );
        assert.is(
          syncCode(() => rt.load(url, o)),
          expect,
          `load ${timeout}`,
        );
        assert.is(
          syncCode(() => rt.close(o)),
          expect,
          `close ${timeout}`,
        );
      }
      const srv = await rt.listen({
        port: 0,
        host: '127.0.0.1',
        handler: new URL('../fixtures/tcp-echo.js', import.meta.url),
      });
      assert.is(
        syncCode(() => srv.close({ timeout: BIG })),
        'ERR_OUT_OF_RANGE',
      );
      await srv.close({ timeout: 1000 });
      // a valid timeout still works: within the bound it settles with the value
      assert.equal(await outcome(rt.run(url, 'add', [1, 2], { timeout: BIG - 1 })), { state: 'fulfilled', value: 3 });
      assert.equal(
        await outcome(rt.load<typeof import('../fixtures/tasks-faults.js')>(url, { timeout: 1000 }).add(2, 2)),
        {
          state: 'fulfilled',
          value: 4,
        },
      );
    },
  );

  t('an onProgress callback that throws fails the map, not the process', async () => {
    const boom = new Error('progress says no');
    const e = await errorOf(async () => {
      for await (const _ of rt.map([1, 2, 3, 4], url, 'whoami', {
        onProgress: () => {
          throw boom;
        },
      })) {
        /* consume */
      }
    });
    assert.is(e, boom);
    assert.is(
      syncCode(() => rt.map([1], url, 'add', { onProgress: 'x' as never })),
      'ERR_INVALID_ARG_TYPE',
    );
    assert.is(
      syncCode(() => rt.map([1], url, 'add', { concurrency: 0 })),
      'ERR_OUT_OF_RANGE',
    );
  });

  t('rt.blocking follows rt.run: uncloneable arguments throw ERR_SHOAL_UNCLONEABLE synchronously', async () => {
    assert.is(
      syncCode(() => rt.blocking(url, 'add', [() => 1])),
      'ERR_SHOAL_UNCLONEABLE',
    );
    assert.is(
      syncCode(() => rt.run(url, 'add', [() => 1])),
      'ERR_SHOAL_UNCLONEABLE',
    );
  });

  t('an uncloneable result fails its task with a coded Error on rt.run and rt.blocking alike', async () => {
    for (const p of [rt.run(url, 'uncloneable', []), rt.blocking(url, 'uncloneable', [])]) {
      const o = await outcome(p);
      assert.is(o.state, 'rejected');
      const e = (o as { reason: Error & { code?: string } }).reason;
      assert.instance(e, Error);
      assert.is(e.code, 'ERR_SHOAL_UNCLONEABLE');
    }
    assert.equal(await outcome(rt.blocking(url, 'add', [1, 2])), { state: 'fulfilled', value: 3 });
  });

  t('100k tasks sharing one signal share one listener and all cancel together', async () => {
    const ac = new AbortController();
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 100_000; i++) ps.push(rt.run(url, 'add', [i, 1], { signal: ac.signal }).catch((e) => e));
    ac.abort('stop');
    const outs = await Promise.all(ps);
    assert.is(outs.length, 100_000);
    assert.is(rt.stats().inFlight, 0);
  });

  t('data: modules are refused unless allowed; allowModules restricts what runs', async () => {
    const data = 'data:text/javascript,export const f = () => 1';
    assert.is(
      syncCode(() => rt.run(data, 'f')),
      'ERR_SHOAL_MODULE_NOT_ALLOWED',
    );
    const strict = await Runtime.start({
      workers: 1,
      transport,
      allowModules: [new URL('../fixtures/', import.meta.url).href, 'data:'],
    });
    try {
      assert.is(
        syncCode(() => strict.run('node:child_process', 'execSync', ['true'])),
        'ERR_SHOAL_MODULE_NOT_ALLOWED',
      );
      assert.is(
        syncCode(() => strict.blocking('node:child_process', 'execSync', ['true'])),
        'ERR_SHOAL_MODULE_NOT_ALLOWED',
      );
      assert.equal(await outcome(strict.run(data, 'f')), { state: 'fulfilled', value: 1 });
      assert.equal(await outcome(strict.run(url, 'add', [1, 1])), { state: 'fulfilled', value: 2 });
    } finally {
      await strict.close({ timeout: 1000 });
    }
  });

  t.run();
}
