/**
 * Runtime happy paths and error fidelity, on real workers, under both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { TaskLoadError } from '../../src/core/errors.js';

type Fixture = typeof import('../fixtures/tasks-basic.js');
const url = new URL('../fixtures/tasks-basic.js', import.meta.url);
const topThrow = new URL('../fixtures/tasks-toplevel-throw.js', import.meta.url);

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`runtime basics [${transport}]`);
  t.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  t.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t("run resolves with the export's result", async ({ rt }) => {
    assert.is(await rt.run(url, 'add', [2, 3]), 5);
    assert.is(await rt.run(url, 'echoLater', ['x']), 'x');
  });

  t('load gives a typed proxy whose calls run on the pool', async ({ rt }) => {
    const m = rt.load<Fixture>(url);
    assert.is(await m.add(20, 22), 42);
    assert.type(await m.whoami(), 'number');
    assert.is((m as unknown as { then?: unknown }).then, undefined);
  });

  t('a task error keeps name, message, stack, code, cause and custom properties', async ({ rt }) => {
    const e = (await rt.run(url, 'fail', ['custom']).catch((x: unknown) => x)) as Error & {
      code: string;
      detail: unknown;
    };
    assert.instance(e, Error);
    assert.is(e.name, 'CustomError');
    assert.is(e.message, 'custom failure');
    assert.is(e.code, 'E_CUSTOM');
    assert.equal(e.detail, { n: 1 });
    assert.match(e.stack ?? '', /tasks-basic\.js/);
    assert.instance(e.cause, RangeError);
    assert.is((e.cause as Error).message, 'root cause');
    const te = await rt.run(url, 'fail', ['type']).catch((x: unknown) => x);
    assert.instance(te, TypeError);
    const later = (await rt.run(url, 'failLater', []).catch((x: unknown) => x)) as Error & { code: string };
    assert.is(later.code, 'E_LATER');
    assert.is(await rt.run(url, 'fail', ['value']).catch((x: unknown) => x), 42);
  });

  t('an unknown export is a TaskLoadError naming module and export', async ({ rt }) => {
    const e = (await rt.run(url, 'nope', []).catch((x: unknown) => x)) as TaskLoadError;
    assert.instance(e, TaskLoadError);
    assert.is(e.code, 'ERR_SHOAL_TASK_LOAD');
    assert.match(e.message, /'nope'/);
    assert.match(e.message, /tasks-basic\.js/);
    const n = (await rt.run(url, 'notAFunction', []).catch((x: unknown) => x)) as Error;
    assert.match(n.message, /not a function/);
  });

  t('an unknown module is a TaskLoadError naming it', async ({ rt }) => {
    const missing = new URL('../fixtures/tasks-does-not-exist.js', import.meta.url);
    const e = (await rt.run(missing, 'x', []).catch((x: unknown) => x)) as TaskLoadError;
    assert.instance(e, TaskLoadError);
    assert.match(e.message, /tasks-does-not-exist\.js/);
  });

  t('a module that throws at top level fails its task with the cause, and the worker stays healthy', async ({ rt }) => {
    const before = rt.stats().workers.map((w) => w.restarts);
    const e = (await rt.run(topThrow, 'never', []).catch((x: unknown) => x)) as TaskLoadError;
    assert.instance(e, TaskLoadError);
    assert.match((e.cause as Error).message, /module top-level failure/);
    assert.is(await rt.run(url, 'add', [1, 1]), 2);
    assert.equal(
      rt.stats().workers.map((w) => w.restarts),
      before,
    );
  });

  t('uncloneable arguments are refused at the call site with nothing sent', async ({ rt }) => {
    const done = () => rt.stats().workers.reduce((s, w) => s + w.completed + w.failed, 0);
    const before = done();
    assert.throws(
      () => rt.run(url, 'echo', [{ f: () => 1 }]),
      (e: Error & { code?: string }) =>
        e instanceof TypeError && e.code === 'ERR_SHOAL_UNCLONEABLE' && /args\[0\]\.f/.test(e.message),
    );
    assert.throws(() => rt.run(url, 'echo', [Symbol('s')]), TypeError);
    assert.throws(() => rt.run(url, 'echo', [Promise.resolve(1)]), TypeError);
    assert.throws(() => rt.run(url, 'echo', [new WeakMap()]), TypeError);
    assert.is(rt.stats().inFlight, 0);
    assert.is(await rt.run(url, 'add', [1, 2]), 3); // the next task is unaffected
    assert.is(done(), before + 1);
  });

  t('values of every structured-clone kind round-trip', async ({ rt }) => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const values: unknown[] = [
      undefined,
      null,
      true,
      false,
      0,
      -0,
      1.5,
      NaN,
      Infinity,
      -Infinity,
      2n ** 70n,
      -5n,
      '',
      'héllo ✓',
      'x'.repeat(100_000),
      [1, [2, [3]]],
      [, 1],
      { a: 1, b: { c: [true] } },
      new Date(1234567890123),
      /ab+c/gi,
      new Map<unknown, unknown>([
        [1, 'a'],
        ['b', { c: 2 }],
      ]),
      new Set([1, 'two', 3n]),
      new Uint8Array([1, 2, 255]),
      new Float64Array([0.5, -1]),
      new BigInt64Array([1n, -2n]),
      new DataView(new Uint8Array([9, 8, 7]).buffer),
      new Uint8Array(1 << 20).fill(7).buffer,
      new Error('boxed error'),
      Object(1),
      Object('s'),
      cyclic,
    ];
    const back = (await Promise.all(values.map((v) => rt.run(url, 'echo', [v])))) as unknown[];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v instanceof Error) {
        assert.is((back[i] as Error).message, 'boxed error');
      } else if (v === cyclic) {
        const c = back[i] as Record<string, unknown>;
        assert.is(c.self, c);
      } else if (v instanceof DataView) {
        assert.equal([...new Uint8Array((back[i] as DataView).buffer)], [9, 8, 7]);
      } else if (v instanceof ArrayBuffer) {
        const b = back[i] as ArrayBuffer;
        assert.is(b.byteLength, 1 << 20);
        assert.is(new Uint8Array(b)[12345], 7);
      } else if (typeof v === 'number' && Object.is(v, -0)) {
        assert.ok(Object.is(back[i], -0), 'keeps -0');
      } else if (typeof v === 'object' && v !== null && (v instanceof Number || v instanceof String)) {
        assert.is((back[i] as object).valueOf(), v.valueOf());
      } else {
        assert.equal(back[i], v, `value ${i}`);
      }
    }
  });

  t('transfer moves an ArrayBuffer instead of copying it', async ({ rt }) => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const sum = await rt.run(url, 'sumBytes', [bytes], { transfer: [bytes.buffer] });
    assert.is(sum, 10);
    assert.is(
      bytes.byteLength,
      0,
      'detached after the move (both transports: a transfer list sends the task beside the queue)',
    );
  });

  t('100k tasks in flight all settle', async ({ rt }) => {
    const n = 100_000;
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) ps.push(rt.run(url, 'add', [i, 1]));
    assert.ok(rt.stats().inFlight >= n - 1000, 'they are in flight at once');
    const rs = (await Promise.all(ps)) as number[];
    let bad = 0;
    for (let i = 0; i < n; i++) if (rs[i] !== i + 1) bad++;
    assert.is(bad, 0);
    assert.is(rt.stats().inFlight, 0);
  });

  t('bad arguments are TypeError/RangeError at the call site', ({ rt }) => {
    assert.throws(
      () => rt.run(url, 42 as unknown as string),
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE',
    );
    assert.throws(() => rt.run(url, 'add', 'x' as unknown as unknown[]), TypeError);
    assert.throws(() => rt.run(url, 'add', [], { timeout: -1 }), RangeError);
    assert.throws(() => rt.run('', 'add', []), TypeError);
  });

  t.run();
}
