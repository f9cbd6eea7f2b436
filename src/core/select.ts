/**
 * `select`: wait for the first of several operations, of which exactly one commits; plus the two
 * non-channel ops, `afterOp(ms)` and `promiseOp(p)`.
 *
 * Runs on any thread. Owns the select waiter (its shared Handler, see op.ts for the protocol) and
 * the PRNG that picks the starting op.
 *
 * Timers are read from `globalThis` at call time so a test's fake clock can stand in for them.
 *
 * How one select runs (the code below reads in this order):
 *  1. Check arguments at the call site (ops, options, single use); claim every op.
 *  2. Reject with CancelledError if the explicit or ambient signal is already aborted.
 *  3. Try each op once, synchronously, from a random start (or in order with `priority`); the first
 *     that commits wins and nothing else is touched.
 *  4. Nothing ready: with `default` and no `timeout`, resolve `{ index: -1, value: default }`.
 *  5. Park every op on one shared handler, then arm the timeout and the cancellation listener.
 *  6. The first committer claims the handler; the handler unparks every op and settles the promise.
 */
import { TimeoutError } from './errors.js';
import { onCancel, throwIfCancelled } from './context.js';
import {
  NOT_READY,
  Op,
  codeError,
  isOp,
  opReusedError,
  validateOptions,
  validateSignal,
  validateTimeout,
  type Handler,
  type NotReady,
} from './op.js';
import { isThenable } from './thenable.js';

/** What `select` resolves with: the winning op's position and its value (-1: default/timeout). */
export interface Selected<V> {
  readonly index: number;
  readonly value: V;
}

/** Options of `select`. */
export interface SelectOptions<D = never> {
  /** Try ops in declaration order instead of from a random start (default false: fairness). */
  priority?: boolean;
  /** Abort the wait: select rejects with CancelledError and no op commits. */
  signal?: AbortSignal;
  /** Give up after this many ms (integer): `{ index: -1, value: default }`, or TimeoutError. */
  timeout?: number;
  /** Without `timeout`: returned at once if no op is ready. With it: returned on timeout. */
  default?: D;
}

/** An entry of select's array: an op, or a promise / thenable (treated as `promiseOp`). */
export type SelectArg = Op<unknown> | PromiseLike<unknown>;

/** The value type an op (or promise) commits with. */
export type OpValue<A> = A extends Op<infer T> ? T : A extends PromiseLike<infer T> ? T : never;

/**
 * Wait until one of `ops` commits; exactly one does, and the others leave no trace (no value
 * taken, nothing put, timers cleared). A take op commits with the value (undefined once its
 * channel is closed and drained); a put op with true, or false on a closed channel; `afterOp`
 * with undefined; a promise op with the promise's value (if it rejects, select rejects with that
 * reason). Rejects with CancelledError when `signal` or the ambient task aborts.
 *
 * Throws at the call site: TypeError for a non-array, a non-op entry, or an op used before;
 * RangeError for a bad timeout; TooManyPendingError when a channel has too many parked ops.
 *
 * @example
 * const r = await select([jobs.takeOp(), results.putOp(last), afterOp(100)]);
 * if (r.index === 0) handle(r.value);
 */
export function select<const A extends readonly SelectArg[], D = never>(
  ops: A,
  opts?: SelectOptions<D>,
): Promise<Selected<OpValue<A[number]> | D>> {
  // 1. arguments
  if (!Array.isArray(ops)) throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'select expects an array of ops');
  let priority = false;
  let signal: AbortSignal | undefined;
  let timeout: number | undefined;
  let hasDefault = false;
  if (opts !== undefined) {
    validateOptions(opts);
    priority = opts.priority === true;
    signal = validateSignal(opts.signal);
    if (opts.timeout !== undefined) timeout = validateTimeout(opts.timeout);
    hasDefault = 'default' in opts;
  }
  const n = ops.length;
  if (n === 0 && timeout === undefined && !hasDefault) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'select needs at least one op, a timeout or a default');
  }
  const list = toOps(ops);
  for (let i = 0; i < n; i++) list[i]!.claimOp();
  type R = Selected<OpValue<A[number]> | D>;
  // 2. already cancelled
  try {
    throwIfCancelled(signal);
  } catch (e) {
    return Promise.reject(e);
  }
  // 3. try each op once
  const start = priority || n < 2 ? 0 : nextRandom() % n;
  try {
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const v = list[i]!.try();
      if (v !== NOT_READY) return Promise.resolve({ index: i, value: v } as R);
    }
  } catch (e) {
    return Promise.reject(e); // an op that commits with an error (a rejected promise op)
  }
  // 4. poll
  if (hasDefault && (timeout === undefined || timeout === 0)) {
    return Promise.resolve({ index: -1, value: opts!.default } as R);
  }
  if (timeout === 0) return Promise.reject(new TimeoutError('select timed out'));
  // 5. park
  let resolve!: (r: R) => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const h = new SelectHandler(list, resolve as (r: Selected<unknown>) => void, reject);
  let parked = 0;
  try {
    for (; parked < n; parked++) {
      const i = (start + parked) % n;
      list[i]!.park(h, i);
    }
  } catch (e) {
    // Invariant 4: a park that throws left no trace; undo the ones before it.
    h.claim();
    for (let k = 0; k < parked; k++) list[(start + k) % n]!.unpark();
    throw e;
  }
  if (timeout !== undefined) {
    const dflt = opts!.default;
    h.timer = globalThis.setTimeout(() => {
      if (!h.claim()) return;
      h.cleanup();
      if (hasDefault) resolve({ index: -1, value: dflt } as R);
      else reject(new TimeoutError(`select timed out after ${timeout} ms`));
    }, timeout);
  }
  h.off = onCancel(signal, (err) => {
    if (!h.claim()) return;
    h.cleanup();
    reject(err);
  });
  return p;
}

/** The handler shared by all ops of one parked select (op.ts, invariants 5-8). */
class SelectHandler implements Handler {
  active = true;
  off: () => void = noop;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  constructor(
    readonly ops: Op<unknown>[],
    readonly resolve: (r: Selected<unknown>) => void,
    readonly reject: (e: unknown) => void,
  ) {}
  claim(): boolean {
    if (!this.active) return false;
    this.active = false;
    return true;
  }
  commit(index: number, value: unknown): void {
    this.cleanup();
    this.resolve({ index, value });
  }
  fail(_index: number, error: unknown): void {
    this.cleanup();
    this.reject(error);
  }
  /** Unpark every op (the winner's unpark is a no-op), drop the listener and the timer. */
  cleanup(): void {
    for (const op of this.ops) op.unpark();
    this.off();
    if (this.timer !== undefined) globalThis.clearTimeout(this.timer);
  }
}

function toOps(args: readonly SelectArg[]): Op<unknown>[] {
  const n = args.length;
  const out = new Array<Op<unknown>>(n);
  for (let i = 0; i < n; i++) {
    const a: unknown = args[i];
    if (isOp(a)) {
      if (a.used || out.indexOf(a) !== -1) throw opReusedError(a);
      out[i] = a;
    } else if (isThenable(a)) {
      out[i] = new PromiseOp(a);
    } else {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `select: entry ${i} is not an op or a promise`);
    }
  }
  return out;
}

/** Timer op: ready `ms` after its select parks it (`afterOp(0)` is ready at once). */
class AfterOp extends Op<undefined> {
  #timer: ReturnType<typeof setTimeout> | undefined;
  constructor(readonly ms: number) {
    super();
  }
  try(): undefined | NotReady {
    return this.ms === 0 ? undefined : NOT_READY;
  }
  park(h: Handler, index: number): void {
    this.#timer = globalThis.setTimeout(() => {
      this.#timer = undefined;
      if (h.claim()) h.commit(index, undefined);
    }, this.ms);
  }
  unpark(): void {
    if (this.#timer !== undefined) globalThis.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * What is known about one promise used in selects: one subscription per promise, however many
 * selects watch it. Without this, a loop like `select([c.takeOp(), stopped])` would attach one
 * more reaction to `stopped` per iteration, each kept alive until `stopped` settles.
 */
interface Watch {
  /** 0 pending, 1 fulfilled, 2 rejected */
  state: 0 | 1 | 2;
  value: unknown;
  parked: Set<PromiseOp<unknown>>;
}
const watches = new WeakMap<object, Watch>();

function watch(p: PromiseLike<unknown>): Watch {
  let w = watches.get(p);
  if (w === undefined) {
    const fresh: Watch = { state: 0, value: undefined, parked: new Set() };
    watches.set(p, fresh);
    const settle = (state: 1 | 2, value: unknown) => {
      fresh.state = state;
      fresh.value = value;
      const ops = [...fresh.parked];
      fresh.parked.clear();
      for (const op of ops) op.settled(fresh);
    };
    Promise.resolve(p).then(
      (v) => settle(1, v),
      (e: unknown) => settle(2, e),
    );
    w = fresh;
  }
  return w;
}

/**
 * Promise op: commits when the promise settles; a rejection is its outcome (select rejects).
 * Ready in `try` once a previous select saw the promise settle.
 */
class PromiseOp<T> extends Op<T> {
  #h: Handler | undefined;
  #index = -1;
  constructor(readonly promise: PromiseLike<T>) {
    super();
  }
  try(): T | NotReady {
    const w = watches.get(this.promise);
    if (w === undefined || w.state === 0) return NOT_READY;
    if (w.state === 2) throw w.value; // op.ts invariant 2: the op commits with this error
    return w.value as T;
  }
  park(h: Handler, index: number): void {
    this.#h = h;
    this.#index = index;
    watch(this.promise).parked.add(this as PromiseOp<unknown>);
  }
  unpark(): void {
    this.#h = undefined;
    watches.get(this.promise)?.parked.delete(this as PromiseOp<unknown>);
  }
  /** Called by the promise's Watch once it settles. */
  settled(w: Watch): void {
    const h = this.#h;
    if (h === undefined || !h.claim()) return;
    if (w.state === 2) h.fail(this.#index, w.value);
    else h.commit(this.#index, w.value);
  }
}

/**
 * An op for `select` that commits (with `undefined`) `ms` after the select starts waiting; the
 * timer only runs while the select waits. `ms` is an integer in [0, 2^31-1]. Single-use.
 *
 * @example
 * const r = await select([c.takeOp(), afterOp(100)]);
 * if (r.index === 1) console.log('nothing within 100 ms');
 */
export function afterOp(ms: number): Op<undefined> {
  return new AfterOp(validateTimeout(ms, 'ms'));
}

/**
 * An op for `select` that commits with the promise's value when it settles; a rejection makes the
 * select reject with the same reason (if the op wins). A bare promise in select's array is the
 * same. A losing promise op marks the promise as handled. Single-use.
 *
 * @example
 * const r = await select([promiseOp(fetch(url)), afterOp(1000)]);
 */
export function promiseOp<T>(p: PromiseLike<T>): Op<T> {
  if (!isThenable(p)) throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'promiseOp expects a promise or thenable');
  return new PromiseOp(p);
}

// xorshift32: a cheap PRNG for the starting op (fairness, not security). Seeded from Math.random.
let seed = (Math.random() * 0xffffffff) | 0 || 1;

function nextRandom(): number {
  let x = seed;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  seed = x;
  return x >>> 0;
}

/**
 * Seed select's start-order PRNG (for reproducible tests). Internal: not exported by the package.
 */
export function seedSelect(s: number): void {
  seed = s | 0 || 1;
}

function noop(): void {}
