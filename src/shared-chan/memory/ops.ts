/**
 * Shared channel — the waiters of one handle: the handler of a plain parked put or take
 * (`Solo`), the `select` ops (`takeOp` / `putOp`), and the per-handle cap on parked ops. They
 * plug the op protocol (src/core/op.ts) into a handle's wait lists (waiters.ts).
 *
 * Runs on any thread, on the thread of the handle that made them. Owns nothing shared: a parked
 * op is an entry in its handle's WaitList; it commits only through that list's attempt, on this
 * thread, after a wake-up (op.ts invariant 5).
 */
import { TooManyPendingError } from '../../core/errors.js';
import { Op, type Handler, type NotReady } from '../../core/op.js';
import { WaitEntry, type WaitList } from './waiters.js';

/** Parked puts (and, separately, takes) one handle holds before refusing with TooManyPendingError. */
export const MAX_SHARED_PENDING = 1024;

/** The handler of one plain (non-select) parked put or take. */
export class Solo implements Handler {
  active = true;
  off: () => void = noop;
  timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: unknown) => void,
  ) {}
  claim(): boolean {
    if (!this.active) return false;
    this.active = false;
    return true;
  }
  commit(_i: number, value: unknown): void {
    this.done();
    this.resolve(value);
  }
  fail(_i: number, error: unknown): void {
    this.done();
    this.reject(error);
  }
  done(): void {
    this.off();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

/** Refuse a park beyond MAX_SHARED_PENDING (op.ts invariant 4: before leaving any trace). */
export function checkPending(list: WaitList, puts: boolean): void {
  if (list.live >= MAX_SHARED_PENDING) {
    throw new TooManyPendingError(
      `a shared channel handle has ${MAX_SHARED_PENDING} pending ${puts ? 'puts' : 'takes'} already; use a bigger buffer or fewer concurrent waiters`,
    );
  }
}

/** select's take on a shared channel: `attempt` is the handle's take-now. */
export class SharedTakeOp<T> extends Op<T | undefined> {
  #entry: WaitEntry | undefined;
  constructor(
    readonly list: WaitList,
    readonly attempt: () => unknown,
  ) {
    super();
  }
  try(): T | undefined | NotReady {
    return this.attempt() as T | undefined | NotReady;
  }
  park(h: Handler, index: number): void {
    checkPending(this.list, false);
    this.#entry = new WaitEntry(h, index, 0, undefined, undefined);
    this.list.add(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) this.list.remove(this.#entry);
  }
}

/** select's put on a shared channel: the value was staged (and a codec frame copied) when made. */
export class SharedPutOp extends Op<boolean> {
  #entry: WaitEntry | undefined;
  constructor(
    readonly list: WaitList,
    readonly attempt: (tag: number, v: unknown, frame: Uint8Array | undefined) => boolean | NotReady,
    readonly tag: number,
    readonly v: unknown,
    readonly frame: Uint8Array | undefined,
  ) {
    super();
  }
  try(): boolean | NotReady {
    return this.attempt(this.tag, this.v, this.frame);
  }
  park(h: Handler, index: number): void {
    checkPending(this.list, true);
    this.#entry = new WaitEntry(h, index, this.tag, this.v, this.frame);
    this.list.add(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) this.list.remove(this.#entry);
  }
}

function noop(): void {}
