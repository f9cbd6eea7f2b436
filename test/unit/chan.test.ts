/**
 * Channel guarantees on one thread: the seed examples from the issue, close semantics, iteration,
 * the pending cap, bad input and cancellation. Ordering comes from handshakes and `settle()`
 * (one macrotask turn, which drains every microtask), never from sleeps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chan, MAX_PENDING } from '../../src/core/chan.js';
import { dropping, fixed, sliding } from '../../src/core/buffers.js';
import { CancelledError, TimeoutError, TooManyPendingError } from '../../src/core/errors.js';
import { runInTask } from '../../src/core/context.js';
import { throwsCode } from '../fixtures/errors.js';

/** Let every pending microtask run (one macrotask turn). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Bound a wait so a bug fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms = 2000, what = 'wait'): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>(
    (_, rej) => (t = setTimeout(() => rej(new Error(`${what} took over ${ms} ms`)), ms)),
  );
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

function drain<T>(c: { tryTake(): T | undefined }): T[] {
  const out: T[] = [];
  for (let v = c.tryTake(); v !== undefined; v = c.tryTake()) out.push(v);
  return out;
}

async function rejectsWith(p: Promise<unknown>, Cls: abstract new (...a: never[]) => Error): Promise<Error> {
  try {
    await within(p);
  } catch (e) {
    assert.instance(e, Cls);
    return e as Error;
  }
  assert.unreachable(`expected a ${Cls.name} rejection`);
  throw new Error('unreachable');
}

test('a dropping buffer of 1 given 1..5 keeps 1, and every put succeeds', async () => {
  const c = chan<number>(dropping(1));
  for (let i = 1; i <= 5; i++) assert.is(await c.put(i), true);
  assert.equal(drain(c), [1]);
});

test('a sliding buffer of 3 given 1..5 keeps 3, 4, 5', async () => {
  const c = chan<number>(sliding(3));
  for (let i = 1; i <= 5; i++) assert.is(await c.put(i), true);
  assert.equal(drain(c), [3, 4, 5]);
});

test('a fixed buffer of 1 lets a producer of 5 values advance only as values are taken', async () => {
  const c = chan<number>(1);
  let sent = 0;
  const producer = (async () => {
    for (let i = 1; i <= 5; i++) {
      await c.put(i);
      sent++;
    }
  })();
  await settle();
  assert.is(sent, 1, 'the first put fills the buffer, the second waits');
  assert.equal(c.stats().pendingPuts, 1);
  for (let k = 1; k <= 5; k++) {
    assert.is(await within(c.take()), k);
    await settle();
    assert.is(sent, Math.min(5, k + 1), `after ${k} takes`);
  }
  await within(producer);
});

test('a take with a timeout returns its default', async () => {
  const c = chan<number>();
  assert.is(await within(c.take({ timeout: 5, default: 'none' })), 'none');
  assert.is(await c.take({ timeout: 0, default: null }), null);
  assert.is(await c.take({ timeout: 5, default: undefined }), undefined, 'an explicit undefined default counts');
  assert.equal(c.stats().pendingTakes, 0, 'the timed-out take left no trace');
});

test('a take with a timeout and no default rejects with TimeoutError', async () => {
  const c = chan<number>();
  const e = await rejectsWith(c.take({ timeout: 2 }), TimeoutError);
  assert.is((e as TimeoutError).code, 'ERR_SHOAL_TIMEOUT');
  await rejectsWith(c.take({ timeout: 0 }), TimeoutError);
});

test('a take with a default and no timeout is a poll', async () => {
  const c = chan<number>();
  assert.is(await c.take({ default: -1 }), -1);
  c.tryPut(7);
  assert.is(await c.take({ default: -1 }), 7);
});

test('an unbounded channel keeps everything in order (past the ring growth points)', async () => {
  const c = chan<number>();
  for (let i = 0; i < 5000; i++) assert.ok(c.tryPut(i));
  for (let i = 0; i < 2500; i++) assert.is(await c.take(), i);
  for (let i = 5000; i < 7000; i++) await c.put(i);
  const rest = drain(c);
  assert.is(rest.length, 4500);
  rest.forEach((v, k) => assert.is(v, 2500 + k));
});

test('chan(0) is a rendezvous: a put waits for a taker and hands the value over', async () => {
  const c = chan<string>(0);
  assert.is(c.tryPut('x'), false, 'nobody is taking');
  let done = false;
  const p = c.put('a').then((ok) => ((done = true), ok));
  await settle();
  assert.is(done, false);
  assert.is(c.stats().buffered, 0);
  assert.is(c.tryTake(), 'a');
  assert.is(await within(p), true);
  const t = c.take();
  assert.is(c.tryPut('b'), true, 'a parked taker makes tryPut succeed');
  assert.is(await within(t), 'b');
  assert.equal(fixed(0), { kind: 'fixed', size: 0 });
});

test('close: pending and later puts get false, buffered values can still be taken, then undefined', async () => {
  const c = chan<number>(2);
  await c.put(1);
  await c.put(2);
  const pending = c.put(3);
  c.close();
  c.close(); // idempotent
  assert.is(c.closed, true);
  assert.is(await within(pending), false);
  assert.is(await c.put(4), false);
  assert.is(c.tryPut(5), false);
  assert.is(await c.take(), 1);
  assert.is(await c.take(), 2);
  assert.is(await c.take(), undefined);
  assert.is(c.tryTake(), undefined);
});

test('close wakes every pending taker with undefined', async () => {
  const c = chan<number>();
  const takers = [c.take(), c.take(), c.take({ timeout: 10_000 })];
  await settle();
  c.close();
  assert.equal(await within(Promise.all(takers)), [undefined, undefined, undefined]);
});

test('for await yields every value in order and ends on close', async () => {
  const c = chan<number>(1);
  void (async () => {
    for (let i = 1; i <= 4; i++) await c.put(i);
    c.close();
  })();
  const seen: number[] = [];
  await within(
    (async () => {
      for await (const v of c) seen.push(v);
    })(),
  );
  assert.equal(seen, [1, 2, 3, 4]);
});

test('breaking out of for await does not close the channel', async () => {
  const c = chan<number>();
  c.tryPut(1);
  c.tryPut(2);
  for await (const v of c) if (v === 1) break;
  assert.is(c.closed, false);
  assert.is(c.tryTake(), 2);
});

test('at most 1024 pending takes (or puts) per channel: the next throws TooManyPendingError', async () => {
  const c = chan<number>(0);
  const ac = new AbortController();
  const takes = Array.from({ length: MAX_PENDING }, () => c.take({ signal: ac.signal }).catch((e: unknown) => e));
  throwsCode(() => c.take(), TooManyPendingError, 'ERR_SHOAL_TOO_MANY_PENDING');
  ac.abort();
  const out = await within(Promise.all(takes));
  assert.ok(out.every((e) => e instanceof CancelledError));
  assert.is(c.stats().pendingTakes, 0, 'cancelled takes free their slots');
  const puts = Array.from({ length: MAX_PENDING }, (_, i) => c.put(i + 1));
  throwsCode(() => c.put(0), TooManyPendingError, 'ERR_SHOAL_TOO_MANY_PENDING');
  c.close();
  assert.ok((await within(Promise.all(puts))).every((ok) => ok === false));
});

test('bad input throws at the call site with a code', () => {
  for (const bad of [-1, NaN, 1.5, Infinity]) {
    throwsCode(() => chan(bad), RangeError, 'ERR_OUT_OF_RANGE');
    throwsCode(() => dropping(bad), RangeError, 'ERR_OUT_OF_RANGE');
    throwsCode(() => sliding(bad), RangeError, 'ERR_OUT_OF_RANGE');
    throwsCode(() => fixed(bad), RangeError, 'ERR_OUT_OF_RANGE');
  }
  throwsCode(() => dropping(0), RangeError, 'ERR_OUT_OF_RANGE');
  throwsCode(() => chan('3' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsCode(() => chan({ kind: 'weird', size: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  const c = chan<number | undefined>();
  throwsCode(() => c.put(undefined), TypeError, 'ERR_INVALID_ARG_VALUE');
  throwsCode(() => c.tryPut(undefined), TypeError, 'ERR_INVALID_ARG_VALUE');
  throwsCode(() => c.putOp(undefined), TypeError, 'ERR_INVALID_ARG_VALUE');
  for (const t of [-1, NaN, 1.5, 2 ** 31]) throwsCode(() => c.take({ timeout: t }), RangeError, 'ERR_OUT_OF_RANGE');
  throwsCode(() => c.take({ timeout: '5' as unknown as number }), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsCode(() => c.take({ signal: {} as AbortSignal }), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsCode(() => c.put(1, 5 as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('a cancelled put leaves no trace: its value is never delivered', async () => {
  const c = chan<string>(1);
  await c.put('kept');
  const ac = new AbortController();
  const p = c.put('cancelled', { signal: ac.signal });
  const q = c.put('after');
  await settle();
  ac.abort('stop');
  const e = await rejectsWith(p, CancelledError);
  assert.is(e.cause, 'stop');
  assert.is(await c.take(), 'kept');
  assert.is(await within(q), true);
  assert.is(await c.take(), 'after');
  assert.equal(c.stats(), { buffered: 0, capacity: 1, pendingPuts: 0, pendingTakes: 0, closed: false });
});

test('a cancelled take consumes nothing; the next taker gets the value', async () => {
  const c = chan<number>();
  const ac = new AbortController();
  const p = c.take({ signal: ac.signal });
  const q = c.take();
  ac.abort();
  await rejectsWith(p, CancelledError);
  c.tryPut(42);
  assert.is(await within(q), 42);
  assert.is(c.stats().pendingTakes, 0);
});

test('an already-aborted signal rejects before touching the channel', async () => {
  const c = chan<number>();
  c.tryPut(1);
  await rejectsWith(c.take({ signal: AbortSignal.abort() }), CancelledError);
  await rejectsWith(c.put(2, { signal: AbortSignal.abort() }), CancelledError);
  assert.equal(drain(c), [1]);
});

test('the ambient task signal cancels a parked take (level-triggered)', async () => {
  const c = chan<number>();
  const ac = new AbortController();
  const p = runInTask({ signal: ac.signal }, () => c.take());
  await settle();
  ac.abort();
  await rejectsWith(p, CancelledError);
  await rejectsWith(
    runInTask({ signal: ac.signal }, () => c.put(1)),
    CancelledError,
  );
  assert.is(c.stats().buffered, 0, 'a put in a cancelled task does nothing');
});

test('cancelled waits do not count towards the pending cap', async () => {
  const c = chan<number>();
  for (let round = 0; round < 50; round++) {
    const ac = new AbortController();
    const ps = Array.from({ length: 100 }, () => c.take({ signal: ac.signal }).catch(() => 0));
    ac.abort();
    await Promise.all(ps);
  }
  assert.is(c.stats().pendingTakes, 0);
  const takes = Array.from({ length: MAX_PENDING }, () => c.take());
  for (let i = 0; i < MAX_PENDING; i++) c.tryPut(i + 1);
  const got = await within(Promise.all(takes));
  assert.equal(
    got,
    Array.from({ length: MAX_PENDING }, (_, i) => i + 1),
    'served in FIFO order',
  );
});

test.run();
