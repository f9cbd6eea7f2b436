/**
 * The front half every channel kind shares: the start of a plain `put` and `take` (the call-site
 * checks, cancellation, the attempt to commit at once, then the park) and the async iterator. The
 * core channel (chan.ts), the shared-memory channel (src/shared-chan/memory/) and the port
 * channel (src/shared-chan/port/) each supply their back half (`PutBack`, `TakeBack`: commit now,
 * park) and call these, so the three agree on order, errors and fast paths by construction.
 *
 * Runs on any thread, on the thread of the handle. Owns nothing (functions and frozen constants).
 *
 * A put, in order:
 *   1. check the options (bad input throws at the call site: TypeError / RangeError);
 *   2. stage the value (the kind's own check: `undefined`, codec refusal, size), throwing at the
 *      call site as well;
 *   3. reject with CancelledError if the explicit or the ambient signal is already aborted;
 *   4. commit now if possible: resolves with a shared, already-resolved promise (no allocation,
 *      no park: what an awaited put in a loop pays when the buffer has room);
 *   5. park.
 * A take: options (1), cancellation (3), commit now (4; `mayWait` tells the kind it may spin
 * first), a poll that missed gives its default or TimeoutError, else park.
 * The iterator: each `next()` checks the ambient signal, takes now without parsing any options,
 * and parks only when nothing is there; it never takes a value it does not yield, and `return()`
 * (a `break`) does not close the channel.
 */
import { ambientSignal, cancelledError } from './context.js';
import { missedPoll, NOT_READY, putSignal, takeRequest, type NotReady, type TakeRequest } from './op.js';

/** The already-resolved outcomes a put or take that commits at once returns (shared, immutable). */
export const TRUE_P: Promise<boolean> = Promise.resolve(true);
export const FALSE_P: Promise<boolean> = Promise.resolve(false);
export const UNDEFINED_P: Promise<undefined> = Promise.resolve(undefined);
/** The iterator's last result. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

const PLAIN_TAKE = takeRequest(undefined);

/** A channel kind's take side. */
export interface TakeBack<T> {
  /**
   * Commit a take now: the value, `undefined` (closed and drained), or NOT_READY having changed
   * nothing. `mayWait`: the caller parks next if this misses (a kind may spin briefly first).
   */
  takeNow(mayWait: boolean): T | undefined | NotReady;
  /** Park a take that missed; resolves the value, `undefined` once closed, or the request's default. */
  parkTake(q: TakeRequest): Promise<unknown>;
}

/** A channel kind's put side; `S` is what staging the value produced (a tag, encoded bytes...). */
export interface PutBack<T, S> {
  /** Check (and encode) `v` at the call site; throws for a value the kind refuses. */
  stage(v: T): S;
  /** Commit now: true (in the channel, or dropped by a dropping/sliding buffer), false (closed), or NOT_READY. */
  putNow(v: T, s: S): boolean | NotReady;
  /** Park a put that could not commit. */
  parkPut(v: T, s: S, signal: AbortSignal | undefined): Promise<boolean>;
}

/** Step 3: a rejected promise when the explicit or ambient signal is aborted, else undefined. */
export function cancelledNow(signal: AbortSignal | undefined): Promise<never> | undefined {
  if (signal?.aborted) return Promise.reject(cancelledError(signal));
  const a = ambientSignal();
  return a?.aborted ? Promise.reject(cancelledError(a)) : undefined;
}

/**
 * A plain `put(v, opts)` on any channel kind (steps 1-5 of the header).
 *
 * @example
 * put(v: T, opts?: PutOptions): Promise<boolean> { return startPut(this.#putBack, v, opts); }
 */
export function startPut<T, S>(
  back: PutBack<T, S>,
  v: T,
  opts: { signal?: AbortSignal } | undefined,
): Promise<boolean> {
  const signal = opts === undefined ? undefined : putSignal(opts);
  const s = back.stage(v);
  const cancelled = cancelledNow(signal);
  if (cancelled !== undefined) return cancelled;
  let r: boolean | NotReady;
  try {
    r = back.putNow(v, s);
  } catch (e) {
    return Promise.reject(e); // a corrupt shared channel (RingCorruptError): an awaiting call rejects
  }
  if (r !== NOT_READY) return r ? TRUE_P : FALSE_P;
  return back.parkPut(v, s, signal);
}

/**
 * A plain `take(opts)` on any channel kind.
 *
 * @example
 * take<D>(opts?: TakeOptions<D>) { return startTake<T, D>(this.#takeBack, opts); }
 */
export function startTake<T, D>(
  back: TakeBack<T>,
  opts: { signal?: AbortSignal; timeout?: number; default?: unknown } | undefined,
): Promise<T | undefined | D> {
  const q = opts === undefined ? PLAIN_TAKE : takeRequest(opts);
  const cancelled = cancelledNow(q.signal);
  if (cancelled !== undefined) return cancelled;
  let r: T | undefined | NotReady;
  try {
    r = back.takeNow(!q.poll);
  } catch (e) {
    return Promise.reject(e); // a corrupt shared channel (RingCorruptError): an awaiting call rejects
  }
  if (r !== NOT_READY) return r === undefined ? UNDEFINED_P : Promise.resolve(r);
  if (q.poll) return missedPoll<D>(q);
  return back.parkTake(q) as Promise<T | undefined | D>;
}

/**
 * The async iterator of any channel kind: values until closed and drained.
 *
 * @example
 * [Symbol.asyncIterator]() { return chanIterator(this.#takeBack); }
 */
export function chanIterator<T>(back: TakeBack<T>): AsyncIterator<T, undefined> {
  const wrap = (v: unknown): IteratorResult<T, undefined> => (v === undefined ? DONE : { done: false, value: v as T });
  return {
    next: () => {
      const cancelled = cancelledNow(undefined);
      if (cancelled !== undefined) return cancelled;
      let r: T | undefined | NotReady;
      try {
        r = back.takeNow(true);
      } catch (e) {
        return Promise.reject(e); // RingCorruptError from a shared channel
      }
      if (r !== NOT_READY) return Promise.resolve(r === undefined ? DONE : { done: false, value: r });
      return back.parkTake(PLAIN_TAKE).then(wrap);
    },
    return: () => Promise.resolve(DONE),
  };
}
