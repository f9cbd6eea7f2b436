/**
 * select guarantees on one thread: exactly one op commits, losers leave no trace, priority and
 * random start, default / timeout, cancellation, promise and timer ops, single-use ops, bad input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chan, MAX_PENDING } from '../../src/core/chan.js';
import { afterOp, promiseOp, seedSelect, select } from '../../src/core/select.js';
import { CancelledError, TimeoutError, TooManyPendingError } from '../../src/core/errors.js';
import { runInTask } from '../../src/core/context.js';
import { throwsCode } from '../fixtures/errors.js';

const settle = () => new Promise<void>((r) => setImmediate(r));

function within<T>(p: Promise<T>, ms = 2000): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`wait took over ${ms} ms`)), ms)));
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await within(p);
  } catch (e) {
    return e;
  }
  assert.unreachable('expected a rejection');
}

test('a ready take wins at once and the other ops are untouched', async () => {
  const a = chan<number>();
  const b = chan<number>(1);
  a.tryPut(1);
  const r = await select([a.takeOp(), b.putOp(5)], { priority: true });
  assert.equal(r, { index: 0, value: 1 });
  assert.is(b.stats().buffered, 0, 'the losing put op put nothing');
});

test('priority: the first ready op in declaration order wins', async () => {
  const a = chan<number>();
  const b = chan<number>();
  a.tryPut(1);
  b.tryPut(2);
  for (let i = 0; i < 5; i++) {
    const r = await select([b.takeOp(), a.takeOp()], { priority: true });
    assert.is(r.index, 0);
    b.tryPut(2);
  }
  assert.is(a.tryTake(), 1, 'the losing take consumed nothing');
});

test('without priority the start is random: both ready ops win sometimes (seeded)', async () => {
  seedSelect(12345);
  const a = chan<number>();
  const b = chan<number>();
  const wins = [0, 0];
  for (let i = 0; i < 200; i++) {
    a.tryPut(1);
    b.tryPut(2);
    const r = await select([a.takeOp(), b.takeOp()]);
    wins[r.index]!++;
    // put the loser's value back in balance: exactly one value was taken
    assert.is(a.stats().buffered + b.stats().buffered, 1);
    a.tryTake();
    b.tryTake();
  }
  assert.ok(wins[0]! > 50 && wins[1]! > 50, `wins ${wins.join('/')}`);
});

test('a parked select is committed by the first counterpart; the other ops leave no trace', async () => {
  const a = chan<number>();
  const b = chan<number>(0);
  const out = chan<string>(0);
  const p = select([a.takeOp(), b.takeOp(), out.putOp('x')]);
  await settle();
  assert.is(a.stats().pendingTakes, 1);
  assert.is(out.stats().pendingPuts, 1);
  b.tryPut(7);
  assert.equal(await within(p), { index: 1, value: 7 });
  assert.is(a.stats().pendingTakes, 0, 'take op unparked');
  assert.is(out.stats().pendingPuts, 0, 'put op unparked');
  assert.is(out.tryTake(), undefined, "the losing put's value is never delivered");
  a.tryPut(1);
  assert.is(a.tryTake(), 1, 'the losing take consumed nothing');
});

test('a put op commits when a taker arrives, with true', async () => {
  const c = chan<string>(0);
  const p = select([c.putOp('v'), afterOp(60_000)]);
  assert.is(await within(c.take()), 'v');
  assert.equal(await within(p), { index: 0, value: true });
});

test('on a closed channel a put op commits with false and a take op with undefined', async () => {
  const c = chan<number>(0);
  c.close();
  assert.equal(await select([c.putOp(1)]), { index: 0, value: false });
  assert.equal(await select([c.takeOp()]), { index: 0, value: undefined });
  const d = chan<number>(0);
  const p = select([d.putOp(1), d.takeOp()]);
  d.close();
  const r = await within(p);
  assert.ok(r.index === 0 ? r.value === false : r.value === undefined, JSON.stringify(r));
});

test('default: returned at once when nothing is ready', async () => {
  const c = chan<number>();
  assert.equal(await select([c.takeOp()], { default: 'none' }), { index: -1, value: 'none' });
  assert.is(c.stats().pendingTakes, 0);
});

test('timeout: default after the time, or TimeoutError; no trace left', async () => {
  const c = chan<number>();
  assert.equal(await within(select([c.takeOp()], { timeout: 5, default: 0 })), { index: -1, value: 0 });
  const e = await rejection(select([c.takeOp()], { timeout: 5 }));
  assert.instance(e, TimeoutError);
  assert.is(c.stats().pendingTakes, 0);
  c.tryPut(1);
  assert.is(c.tryTake(), 1);
});

test('afterOp commits with undefined after its time; afterOp(0) is ready at once', async () => {
  const c = chan<number>();
  assert.equal(await within(select([c.takeOp(), afterOp(5)])), { index: 1, value: undefined });
  assert.equal(await select([c.takeOp(), afterOp(0)], { priority: true }), { index: 1, value: undefined });
  assert.is(c.stats().pendingTakes, 0);
});

test('a promise (bare or promiseOp) commits with its value; a rejection rejects select', async () => {
  const c = chan<number>();
  assert.equal(await within(select([c.takeOp(), Promise.resolve('p')])), { index: 1, value: 'p' });
  assert.equal(await within(select([promiseOp(Promise.resolve(3)), c.takeOp()])), { index: 0, value: 3 });
  const boom = new Error('boom');
  assert.is(await rejection(select([c.takeOp(), Promise.reject(boom)])), boom);
  assert.is(c.stats().pendingTakes, 0);
});

test('a losing promise op does nothing when its promise settles later', async () => {
  const c = chan<number>();
  let resolveLate!: (v: string) => void;
  const late = new Promise<string>((r) => (resolveLate = r));
  const p = select([late, c.takeOp()]);
  c.tryPut(1);
  assert.equal(await within(p), { index: 1, value: 1 });
  resolveLate('late');
  await settle();
  c.tryPut(2);
  assert.is(c.tryTake(), 2);
});

test('a promise seen settled by an earlier select is ready at once (a poll sees it)', async () => {
  const c = chan<number>();
  const p = Promise.resolve('done');
  assert.equal(await select([p], { default: 'not yet' }), { index: -1, value: 'not yet' });
  for (let i = 0; i < 3; i++) assert.equal(await within(select([c.takeOp(), p])), { index: 1, value: 'done' });
  assert.equal(await select([p], { default: 'not yet' }), { index: 0, value: 'done' });
  const boom = new Error('boom');
  const bad = Promise.reject(boom);
  assert.is(await rejection(select([bad, c.takeOp()])), boom);
  assert.is(await rejection(select([bad], { default: 0 })), boom, 'a known rejection commits in the poll');
  assert.is(c.stats().pendingTakes, 0);
});

test('select result types are the union of the op values', async () => {
  const a = chan<number>();
  const b = chan<string>(1);
  a.tryPut(1);
  const r = await select([a.takeOp(), b.putOp('s'), afterOp(10)], { priority: true });
  const v: number | boolean | undefined = r.value; // compile-time check
  assert.is(v, 1);
});

test('a signal cancels a parked select: CancelledError, and no op commits', async () => {
  const a = chan<number>(0);
  const b = chan<number>(0);
  const ac = new AbortController();
  const p = select([a.takeOp(), b.putOp(1)], { signal: ac.signal });
  await settle();
  ac.abort('bye');
  const e = await rejection(p);
  assert.instance(e, CancelledError);
  assert.is((e as Error).cause, 'bye');
  assert.equal([a.stats().pendingTakes, b.stats().pendingPuts], [0, 0]);
  assert.is(a.tryPut(5), false, 'no parked take left to receive it');
  assert.is(b.tryTake(), undefined, 'no parked put left to give');
  await rejection(select([a.takeOp()], { signal: AbortSignal.abort() }));
});

test('the ambient task signal cancels a parked select', async () => {
  const a = chan<number>();
  const ac = new AbortController();
  const p = runInTask({ signal: ac.signal }, () => select([a.takeOp()]));
  await settle();
  ac.abort();
  assert.instance(await rejection(p), CancelledError);
  assert.is(a.stats().pendingTakes, 0);
});

test('using an op twice throws TypeError at the call site, in one select or two', async () => {
  const c = chan<number>();
  c.tryPut(1);
  const op = c.takeOp();
  await select([op]);
  throwsCode(() => select([op]), TypeError, 'ERR_INVALID_ARG_VALUE');
  const twice = c.takeOp();
  const fresh = c.putOp(2);
  throwsCode(() => select([fresh, twice, twice]), TypeError, 'ERR_INVALID_ARG_VALUE');
  assert.is(fresh.used, false, 'a rejected call claims no op');
  assert.equal(await select([fresh]), { index: 0, value: true });
});

test('bad input throws at the call site', () => {
  const c = chan<number>();
  throwsCode(() => select('x' as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsCode(() => select([42] as never), TypeError, 'ERR_INVALID_ARG_TYPE');
  throwsCode(() => select([]), TypeError, 'ERR_INVALID_ARG_VALUE');
  throwsCode(() => select([c.takeOp()], { timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE');
  throwsCode(() => afterOp(NaN), RangeError, 'ERR_OUT_OF_RANGE');
  throwsCode(() => afterOp(1.5), RangeError, 'ERR_OUT_OF_RANGE');
  throwsCode(() => promiseOp(5 as never), TypeError, 'ERR_INVALID_ARG_TYPE');
});

test('a select whose park hits the pending cap throws and leaves no trace', async () => {
  const full = chan<number>(0);
  const other = chan<number>(0);
  const ac = new AbortController();
  const ps = Array.from({ length: MAX_PENDING }, () => full.take({ signal: ac.signal }).catch(() => 0));
  // priority: other's op parks first, then full's throws; other's must be unparked
  throwsCode(
    () => select([other.takeOp(), full.takeOp()], { priority: true }),
    TooManyPendingError,
    'ERR_SHOAL_TOO_MANY_PENDING',
  );
  assert.is(other.stats().pendingTakes, 0);
  ac.abort();
  await Promise.all(ps);
});

test('select over both ends of one rendezvous channel parks both and is served by others', async () => {
  const c = chan<number>(0);
  const p = select([c.putOp(1), c.takeOp()]);
  assert.is(await within(c.take()), 1);
  assert.equal(await within(p), { index: 0, value: true });
  assert.equal(c.stats().pendingTakes, 0);
});

test.run();
