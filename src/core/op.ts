/**
 * The operation protocol: what `select` needs from anything it can wait on.
 *
 * Runs on any thread. Owns the `Op` base class, the `Handler` contract, the `NOT_READY` sentinel,
 * and the call-site checks every waiter applies to its options (signal, timeout). Implemented by
 * channel ops (chan.ts: `takeOp`, `putOp`), `afterOp` and `promiseOp` (select.ts), and later by the shared-memory channels (src/shm/), whose state lives in a
 * SharedArrayBuffer. The protocol is core.async's handler protocol (`active?` / `commit`) split so
 * that a commit may be decided either synchronously by a counterpart on this thread, or by an
 * atomic operation on shared memory after an asynchronous wake-up (a doorbell).
 *
 * The parties: a *waiter* (a `select` call, or one plain `put`/`take`) owns one `Handler` and
 * offers it to one or more ops; an op *commits* when its effect happens (a value leaves or enters a
 * channel, a timer fires, a promise settles); a *counterpart* is whatever commits a parked op from
 * the other side (a `put` on this thread meeting a parked take, or the op itself re-trying after a
 * doorbell when the counterpart is on another thread).
 *
 * Invariants:
 *  1. An `Op` is single-use: `claimOp` marks it used the first time a waiter takes it, and throws a
 *     TypeError (ERR_INVALID_ARG_VALUE) at the call site on any second use, in the same select or
 *     another.
 *  2. `try()` is synchronous and either commits *now* and returns the committed value (or throws:
 *     the op committed with that error, e.g. a rejected promise), or returns `NOT_READY` having
 *     changed nothing observable. The waiter calls it while its handler is
 *     still private (nobody else can claim it), so a `try` that commits needs no claim.
 *  3. The waiter calls `try()` on every op (in priority or random order) before it `park()`s any.
 *     Nothing runs in between (one synchronous section), so no op can become ready between its
 *     failed `try` and its `park`, and no op can meet a parked op of its own waiter.
 *  4. `park(h, index)` registers interest and returns without committing. If it cannot register
 *     (e.g. TooManyPendingError) it throws *before* leaving any trace, and the waiter unparks the
 *     ops it already parked and rethrows.
 *  5. Whoever commits a parked op first calls `h.claim()`; only a `true` result allows the commit,
 *     and `claim()` returns `true` at most once per handler (it clears `h.active`). On one thread
 *     "check active, do the irrevocable step, claim" must happen in one synchronous section. A
 *     shared-memory op therefore re-tries after a doorbell as: `if (!h.active) return;` then the
 *     atomic commit on shared memory (pairs with the counterpart thread's atomic), then
 *     `h.claim()` (cannot fail: nothing ran in between) and `h.commit(index, value)`.
 *  6. After a successful claim the committer calls exactly one of `h.commit(index, value)` or
 *     `h.fail(index, error)`. The handler's owner then calls `unpark()` on every op it parked,
 *     synchronously, inside commit/fail (so the winner's `unpark` must be harmless).
 *  7. `unpark()` removes every trace of the registration (queue entry, timer, listener, doorbell
 *     interest), is idempotent, and never commits. A value offered by an unparked put op is never
 *     delivered afterwards; a take op that was unparked never consumes one.
 *  8. A waiter that gives up (cancellation, timeout) first claims its own handler — so no
 *     counterpart can commit any of its ops afterwards — then unparks them all.
 *  9. `commit` and `fail` never run user code synchronously (they settle promises), so a
 *     counterpart may call them in the middle of its own channel operation.
 *
 * A shared-memory op (src/shm/) fits as follows. `try()` is the lock-free attempt on shared memory
 * (e.g. a compareExchange on the ring's head), committing or not. `park(h, i)` publishes interest
 * on the channel's doorbell (the waiter-count word the other side checks before notifying) and
 * starts an `Atomics.waitAsync`; it never blocks. On each wake-up the op first re-arms its interest,
 * then re-tries as in invariant 5 (re-arm before re-try, so a counterpart that commits between the
 * failed attempt and the next wait still rings a bell someone listens to: no lost wake-up). It
 * keeps re-trying until it commits or `h.active` is false. `unpark()` withdraws the interest and
 * abandons the pending waitAsync (its later resolution finds `h.active` false and does nothing).
 * Because a counterpart on another thread cannot call `claim()` on this thread's handler, a shared
 * channel never hands a value from a put straight to a parked take: the value always goes through
 * shared memory, and the parked side collects it itself after the doorbell.
 */
import { codeError, validateOptions, validateSignal, validateTimeout } from './args.js';
import { throwIfCancelled } from './context.js';
import { TimeoutError } from './errors.js';

// The call-site checks moved to args.ts; importable from here as before.
export { MAX_TIMEOUT_MS, codeError, validateOptions, validateSignal, validateTimeout } from './args.js';

/**
 * Returned by `Op.try()` when the op cannot commit right now (for authors of custom ops; see `Op`).
 *
 * @example
 * try() { return this.flag.set ? (true as const) : NOT_READY; }
 */
export const NOT_READY: unique symbol = Symbol('shoal.notReady');
/** The type of NOT_READY: what a custom `Op.try()` returns when it cannot commit now. */
export type NotReady = typeof NOT_READY;

/**
 * The waiter side of the protocol: one per `select` (shared by all of its ops) or per plain
 * parked `put`/`take`. See invariants 5, 6 and 8.
 */
export interface Handler {
  /** True until some op of this waiter commits, or the waiter gives up. */
  readonly active: boolean;
  /** Become the one committer: true at most once; afterwards `active` is false. */
  claim(): boolean;
  /** Deliver op `index`'s committed value. Call only after a successful `claim()`. */
  commit(index: number, value: unknown): void;
  /** Op `index` committed with an error (e.g. a promise op whose promise rejected). */
  fail(index: number, error: unknown): void;
}

/**
 * Something `select` can wait on. Subclasses implement `try`, `park` and `unpark` per the
 * invariants in this module's header; `T` is the value the op commits with.
 *
 * @example
 * // a custom op that is ready when a flag is set (see afterOp for a complete one)
 * class FlagOp extends Op<true> {
 *   constructor(private flag: { set: boolean }) { super(); }
 *   try() { return this.flag.set ? (true as const) : NOT_READY; }
 *   park(h: Handler, i: number) { ... }   // arrange h.claim() && h.commit(i, true) later
 *   unpark() { ... }                      // undo what park did
 * }
 */
export abstract class Op<T> {
  #used = false;

  /** Commit now and return the value, or return NOT_READY having changed nothing (invariant 2). */
  abstract try(): T | NotReady;
  /** Register interest; a counterpart (or a wake-up) may commit later through `h` (4, 5). */
  abstract park(h: Handler, index: number): void;
  /** Remove every trace of `park`; idempotent; never commits (7). */
  abstract unpark(): void;

  /** True once a waiter has taken this op. */
  get used(): boolean {
    return this.#used;
  }

  /** Mark this op as taken by a waiter; throws TypeError on a second use (invariant 1). */
  claimOp(): void {
    if (this.#used) throw opReusedError(this);
    this.#used = true;
  }
}

/** The TypeError for an op given to a waiter a second time. */
export function opReusedError(op: Op<unknown>): TypeError {
  return codeError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `${op.constructor.name} was already used: an op is single-use; make a new one per select`,
  );
}

/** True when `x` is an Op. */
export function isOp(x: unknown): x is Op<unknown> {
  return x instanceof Op;
}

/**
 * A take's options, checked at the call site. Every channel kind (core, shared, port) parses its
 * `take(opts)` through `takeRequest`, so they agree on what is valid and on what a poll is.
 */
export interface TakeRequest {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly hasDefault: boolean;
  readonly dflt: unknown;
  /** The take may not wait: `timeout: 0`, or a `default` without a timeout. */
  readonly poll: boolean;
}

const NO_OPTIONS: TakeRequest = Object.freeze({
  signal: undefined,
  timeout: undefined,
  hasDefault: false,
  dflt: undefined,
  poll: false,
});

/** Check `take` options; bad input throws TypeError/RangeError (the call site's error). */
export function takeRequest(
  opts: { signal?: AbortSignal; timeout?: number; default?: unknown } | undefined,
): TakeRequest {
  if (opts === undefined) return NO_OPTIONS;
  validateOptions(opts);
  const signal = validateSignal(opts.signal);
  const timeout = opts.timeout === undefined ? undefined : validateTimeout(opts.timeout);
  const hasDefault = 'default' in opts;
  return {
    signal,
    timeout,
    hasDefault,
    dflt: opts.default,
    poll: timeout === 0 || (hasDefault && timeout === undefined),
  };
}

/** Check `put` / `putMany` options (the same rules as take's `signal`) and return the signal. */
export function putSignal(opts: { signal?: AbortSignal } | undefined): AbortSignal | undefined {
  if (opts === undefined) return undefined;
  validateOptions(opts);
  return validateSignal(opts.signal);
}

/** A rejected promise when the explicit or ambient signal is already aborted, else undefined. */
export function rejectIfCancelled(signal: AbortSignal | undefined): Promise<never> | undefined {
  try {
    throwIfCancelled(signal);
    return undefined;
  } catch (e) {
    return Promise.reject(e);
  }
}

/** What a take that found nothing and may not wait gives: its default, or TimeoutError. */
export function missedPoll<D>(req: TakeRequest): Promise<D> {
  return req.hasDefault ? Promise.resolve(req.dflt as D) : Promise.reject(new TimeoutError('take timed out'));
}
