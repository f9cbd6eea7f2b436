/**
 * Shared channel — a channel whose buffer lives in a SharedArrayBuffer, usable from every thread
 * that holds it, with the core channel's API (`put`/`take`/`tryPut`/`tryTake`/`close`/`takeOp`/
 * `putOp`/`for await`) and fixed, dropping and sliding buffers. Values cross through the value
 * codec (codec.ts). Layout, words and invariants: shared-chan-layout.ts; parking:
 * shared-chan-waiters.ts; creation, revival and the SHOAL_TRANSPORT switch: shared-chan-factory.ts.
 *
 * Runs on any thread; one `SharedChan` object is one thread's handle (build another on another
 * thread from `descriptor()`). Owns that handle's parked puts and takes; the channel state itself
 * is owned by no thread (every transition is an atomic operation on the shared words).
 *
 * Guarantees (beyond the layout's invariants):
 *  1. Every value put is taken at most once, by exactly one taker on one thread; values from one
 *     producer reach any one consumer in the order they were put (slot queue FIFO positions).
 *  2. A parked op commits only through its own thread's atomic attempt after a wake-up (op.ts,
 *     invariant 5), so select over shared and local ops commits exactly one, and a cancelled or
 *     timed-out wait consumed nothing and delivers nothing.
 *  3. Encoding happens at the call site: a value the codec refuses, or one larger than
 *     `valueBytes` encoded, throws there with nothing sent.
 */
import type { TransferListItem } from 'node:worker_threads';
import { onCancel, throwIfCancelled } from '../core/context.js';
import { TimeoutError, TooManyPendingError } from '../core/errors.js';
import { NOT_READY, Op, codeError, validateOptions, validateSignal, validateTimeout, type Handler, type NotReady } from '../core/op.js';
import type { ChanStats, PutOptions, TakeOptions } from '../core/chan.js';
import { decode, encode } from './codec.js';
import {
  CLOSED,
  COUNT_MASK,
  DROPPING,
  FIXED,
  PUTTERS,
  PUT_SEQ,
  STATE,
  TAKERS,
  TAKE_SEQ,
  attachSharedChan,
  type SharedChanDescriptor,
} from './shared-chan-layout.js';
import { SlotQueue } from './slot-queue.js';
import type { PortChanDescriptor } from './port-chan.js';
import { WaitEntry, WaitList } from './shared-chan-waiters.js';

/** Parked puts (and, separately, takes) one handle holds before refusing with TooManyPendingError. */
export const MAX_SHARED_PENDING = 1024;

/**
 * Spins of a put waiting out another thread's synchronous section (a taker between claim and
 * release, layout invariant 2a; a value in flight for a sliding eviction) before it reports a
 * thread that died inside one. Seconds, far beyond any preemption.
 */
const SPIN_LIMIT = 200_000_000;
/** Attempts of a plain put / take before it parks (each a few atomic loads: about 2-5 µs in all). */
const PARK_SPIN = 200;

const TRUE_P = Promise.resolve(true);
const FALSE_P = Promise.resolve(false);
const UNDEFINED_P = Promise.resolve(undefined);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * What every cross-thread channel offers, whichever transport carries it (shared memory, or
 * MessagePort under SHOAL_TRANSPORT=message). Same meaning as the core `Chan` methods.
 */
export interface SharedChannel<T> extends AsyncIterable<T> {
  readonly closed: boolean;
  put(v: T, opts?: PutOptions): Promise<boolean>;
  take(): Promise<T | undefined>;
  take<D = never>(opts: TakeOptions<D>): Promise<T | undefined | D>;
  tryPut(v: T): boolean;
  tryTake(): T | undefined;
  close(): void;
  takeOp(): Op<T | undefined>;
  putOp(v: T): Op<boolean>;
  stats(): ChanStats;
  /** What to send to another thread (with `transfer`, for postMessage's transfer list). */
  descriptor(): { descriptor: SharedChanDescriptor | PortChanDescriptor; transfer: TransferListItem[] };
}

/** The handler of one plain (non-select) parked put or take. */
class Solo implements Handler {
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

// Let the op classes reach SharedChan's private state without making it public API.
let offerOf: (c: SharedChan<unknown>, bytes: Uint8Array) => boolean | NotReady;
let pollOf: (c: SharedChan<unknown>) => unknown;
let listOf: (c: SharedChan<unknown>, puts: boolean) => WaitList;

/**
 * One thread's handle on a channel in shared memory. Make one with `sharedChan()` (or
 * `rt.channel()`); on another thread it arrives as a task argument, or revive it with
 * `fromDescriptor()`. Same API and meaning as the core `Chan`, across threads.
 *
 * @example
 * const jobs = sharedChan<number>(1024);
 * await rt.run(url, 'consume', [jobs]);     // the worker gets a SharedChan on the same memory
 * for (let i = 0; i < 10; i++) await jobs.put(i);
 * jobs.close();
 */
export class SharedChan<T> implements SharedChannel<T> {
  readonly #d: SharedChanDescriptor;
  readonly #w: Int32Array;
  readonly #q: SlotQueue;
  readonly #kind: number;
  readonly #cap: number;
  readonly #takers: WaitList;
  readonly #putters: WaitList;

  static {
    offerOf = (c, b) => c.#offer(b);
    pollOf = (c) => c.#poll();
    listOf = (c, puts) => (puts ? c.#putters : c.#takers);
  }

  /** Attach to the channel `d` describes (validated against the memory). Use `fromDescriptor`. */
  constructor(d: SharedChanDescriptor) {
    const a = attachSharedChan(d);
    this.#d = d;
    this.#w = a.words;
    this.#q = new SlotQueue(a.queue);
    this.#kind = a.kind;
    this.#cap = d.capacity;
    this.#takers = new WaitList(a.words, TAKERS, PUT_SEQ, () => this.#poll());
    this.#putters = new WaitList(a.words, PUTTERS, TAKE_SEQ, (e) => this.#offer(e.bytes!));
  }

  /** True once any thread closed the channel (buffered values may still be taken). */
  get closed(): boolean {
    return (Atomics.load(this.#w, STATE) & CLOSED) !== 0; // pairs with: shared-chan.ts close (Atomics.or)
  }

  /**
   * Put `v`, waiting while a fixed buffer is full. Resolves `true` once the value is in the
   * channel (or was dropped by a dropping / sliding buffer), `false` if the channel is or becomes
   * closed (the value is then never delivered). Rejects with CancelledError on `signal` or ambient
   * cancellation, delivering nothing. Throws TypeError for `undefined` or a value the codec
   * refuses, RangeError for a value whose encoding exceeds `valueBytes`.
   *
   * @example
   * if (!(await ch.put({ id: 7 }, { signal }))) console.log('closed');
   */
  put(v: T, opts?: PutOptions): Promise<boolean> {
    let signal: AbortSignal | undefined;
    if (opts !== undefined) {
      validateOptions(opts);
      signal = validateSignal(opts.signal);
    }
    const bytes = this.#encode(v);
    try {
      throwIfCancelled(signal);
    } catch (e) {
      return Promise.reject(e);
    }
    let r = this.#offer(bytes);
    // Spin before parking: a counterpart running on another core frees room within a few µs,
    // while parking costs a promise, a wake-up and a notify on the other side.
    for (let k = PARK_SPIN; r === NOT_READY && k > 0; k--) r = this.#offer(bytes);
    if (r !== NOT_READY) return r ? TRUE_P : FALSE_P;
    return this.#park(true, bytes.slice(), signal, undefined, false, undefined) as Promise<boolean>;
  }

  /**
   * Take the oldest value, waiting until there is one; `undefined` once closed and drained.
   * `timeout` / `default` as in the core `Chan.take`. Rejects with CancelledError on `signal` or
   * ambient cancellation, consuming nothing.
   *
   * @example
   * const job = await ch.take({ timeout: 100, default: null });
   */
  take(): Promise<T | undefined>;
  take<D = never>(opts: TakeOptions<D>): Promise<T | undefined | D>;
  take<D>(opts?: TakeOptions<D>): Promise<T | undefined | D> {
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    let hasDefault = false;
    if (opts !== undefined) {
      validateOptions(opts);
      signal = validateSignal(opts.signal);
      if (opts.timeout !== undefined) timeout = validateTimeout(opts.timeout);
      hasDefault = 'default' in opts;
    }
    try {
      throwIfCancelled(signal);
    } catch (e) {
      return Promise.reject(e);
    }
    let r = this.#poll();
    const poll = timeout === 0 || (hasDefault && timeout === undefined);
    for (let k = poll ? 0 : PARK_SPIN; r === NOT_READY && k > 0; k--) r = this.#poll(); // as in put
    if (r !== NOT_READY) return r === undefined ? UNDEFINED_P : Promise.resolve(r as T);
    if (poll) {
      return hasDefault ? Promise.resolve(opts!.default as D) : Promise.reject(new TimeoutError('take timed out'));
    }
    return this.#park(false, undefined, signal, timeout, hasDefault, opts?.default) as Promise<T | undefined | D>;
  }

  /**
   * Put without waiting: true if the value is in the channel (or dropped by a dropping / sliding
   * buffer), false if a fixed buffer is full or the channel is closed.
   *
   * @example
   * if (!ch.tryPut(sample)) dropped++;
   */
  tryPut(v: T): boolean {
    return this.#offer(this.#encode(v)) === true;
  }

  /**
   * Take without waiting: the oldest value, or undefined when there is none.
   *
   * @example
   * for (let v = ch.tryTake(); v !== undefined; v = ch.tryTake()) handle(v);
   */
  tryTake(): T | undefined {
    const r = this.#poll();
    return r === NOT_READY ? undefined : (r as T | undefined);
  }

  /**
   * Close the channel for every thread (idempotent). Later puts resolve false; buffered values can
   * still be taken; takes parked on any thread get `undefined` once the buffer is drained.
   *
   * @example
   * await Promise.all(producers); ch.close();
   */
  close(): void {
    const w = this.#w;
    if ((Atomics.or(w, STATE, CLOSED) & CLOSED) !== 0) return; // pairs with: shared-chan.ts #offer (compareExchange STATE)
    // layout invariant 6: everyone parked looks again
    wake(w, PUT_SEQ);
    wake(w, TAKE_SEQ);
    this.#takers.kick();
    this.#putters.kick();
  }

  /**
   * An op for `select` that takes a value (or `undefined` once closed and drained). Single-use.
   *
   * @example
   * const r = await select([shared.takeOp(), local.takeOp(), afterOp(50)]);
   */
  takeOp(): Op<T | undefined> {
    return new SharedTakeOp<T>(this as SharedChan<unknown>);
  }

  /**
   * An op for `select` that puts `v` (commits `true`, or `false` when closed). Encodes `v` now,
   * so a refused value throws here. Single-use.
   *
   * @example
   * const r = await select([out.putOp(result), afterOp(100)]);
   */
  putOp(v: T): Op<boolean> {
    return new SharedPutOp(this as SharedChan<unknown>, this.#encode(v).slice());
  }

  /**
   * A snapshot: `buffered` and `closed` are the channel's (all threads); `pendingPuts` and
   * `pendingTakes` count this handle's parked ops only.
   *
   * @example
   * const { buffered, capacity } = ch.stats();
   */
  stats(): ChanStats {
    const s = Atomics.load(this.#w, STATE);
    return Object.freeze({
      buffered: Math.min(s & COUNT_MASK, this.#cap),
      capacity: this.#cap,
      pendingPuts: this.#putters.live,
      pendingTakes: this.#takers.live,
      closed: (s & CLOSED) !== 0,
    });
  }

  /**
   * The serializable descriptor (plain data and the SharedArrayBuffer, nothing to transfer).
   *
   * @example
   * const { descriptor } = ch.descriptor();
   * worker.postMessage({ ch: descriptor }); // the worker: fromDescriptor(msg.ch)
   */
  descriptor(): { descriptor: SharedChanDescriptor; transfer: TransferListItem[] } {
    return { descriptor: this.#d, transfer: [] };
  }

  /**
   * Iterate values until the channel is closed and drained. Breaking out does not close it.
   *
   * @example
   * for await (const job of jobs) await handle(job);
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    const next = (v: T | undefined): IteratorResult<T, undefined> => (v === undefined ? DONE : { done: false, value: v });
    return {
      next: () => this.take().then(next),
      return: () => Promise.resolve(DONE),
    };
  }

  /** Encode at the call site; the view is this thread's scratch (copy it before parking). */
  #encode(v: T): Uint8Array {
    if (v === undefined) {
      throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'cannot put undefined on a channel: undefined means "closed"');
    }
    const bytes = encode(v);
    if (bytes.length > this.#q.slotBytes) {
      throw codeError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `value encodes to ${bytes.length} bytes, more than this channel's valueBytes (${this.#q.slotBytes}); create it with a larger valueBytes`,
      );
    }
    return bytes;
  }

  /** Commit a put now: true (in the channel, or dropped), false (closed), or NOT_READY (full). */
  #offer(bytes: Uint8Array): boolean | NotReady {
    const w = this.#w;
    const cap = this.#cap;
    for (;;) {
      const s = Atomics.load(w, STATE); // pairs with: shared-chan.ts #poll (Atomics.sub) / close (Atomics.or)
      if ((s & CLOSED) !== 0) return false;
      const n = s & COUNT_MASK;
      if (n < cap) {
        // layout invariant 1: take a token; this compareExchange is the put's commit point
        if (Atomics.compareExchange(w, STATE, s, s + 1) === s) break;
        continue;
      }
      if (this.#kind === FIXED) return NOT_READY;
      if (this.#kind === DROPPING) return true;
      if (n === cap && Atomics.compareExchange(w, STATE, s, s + 1) === s) {
        this.#evictOldest();
        break;
      }
      // another sliding put is evicting (COUNT = cap + 1): it finishes within its synchronous section
    }
    const q = this.#q;
    let off = q.reserve();
    // layout invariant 2a: the slot is still claimed by a taker finishing its synchronous section
    for (let k = 0; off < 0; k++) {
      if (k === SPIN_LIMIT) throw new Error('shared channel: a slot stayed claimed for too long (a thread died inside a take?)');
      off = q.reserve();
    }
    q.bytes.set(bytes, off);
    q.commit(bytes.length);
    wakeIf(w, TAKERS, PUT_SEQ);
    this.#takers.kick();
    return true;
  }

  /** Sliding, holding token cap + 1: drop the oldest value (or wait out a taker that takes one). */
  #evictOldest(): void {
    const w = this.#w;
    const q = this.#q;
    for (let k = 0; k < SPIN_LIMIT; k++) {
      if (q.claim() >= 0) {
        q.release();
        Atomics.sub(w, STATE, 1); // pairs with: shared-chan.ts #offer (compareExchange STATE)
        return;
      }
      // The queue looks empty: the values counted are in flight on other threads. If a taker
      // finished meanwhile, COUNT dropped to cap and our token needs no eviction.
      if ((Atomics.load(w, STATE) & COUNT_MASK) <= this.#cap) return;
    }
    throw new Error('shared channel: a sliding put found no value to evict for too long (a thread died inside a put or take?)');
  }

  /** Commit a take now: the value, undefined (closed and drained), or NOT_READY. */
  #poll(): unknown {
    const q = this.#q;
    const w = this.#w;
    if (q.claim() < 0) {
      const s = Atomics.load(w, STATE); // pairs with: shared-chan.ts close (Atomics.or) / #offer
      return (s & CLOSED) !== 0 && (s & COUNT_MASK) === 0 ? undefined : NOT_READY;
    }
    let v: unknown;
    try {
      v = decode(q.bytes, q.claimOffset, q.claimLength);
    } finally {
      q.release();
      const prev = Atomics.sub(w, STATE, 1); // pairs with: shared-chan.ts #offer (load / compareExchange STATE)
      if (this.#kind === FIXED) wakeIf(w, PUTTERS, TAKE_SEQ);
      // the last value of a closed channel: parked takers must learn it is drained
      if (prev === (CLOSED | 1)) wakeIf(w, TAKERS, PUT_SEQ);
      this.#putters.kick();
    }
    return v;
  }

  #park(
    puts: boolean,
    bytes: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hasDefault: boolean,
    dflt: unknown,
  ): Promise<unknown> {
    const list = puts ? this.#putters : this.#takers;
    checkPending(list, puts);
    return new Promise((resolve, reject) => {
      const h = new Solo(resolve, reject);
      const e = new WaitEntry(h, 0, bytes);
      list.add(e);
      h.off = onCancel(signal, (err) => {
        if (!h.claim()) return;
        list.remove(e);
        if (h.timer !== undefined) clearTimeout(h.timer);
        reject(err);
      });
      if (timeout !== undefined) {
        h.timer = setTimeout(() => {
          if (!h.claim()) return;
          list.remove(e);
          h.off();
          if (hasDefault) resolve(dflt);
          else reject(new TimeoutError(`take timed out after ${timeout} ms`));
        }, timeout);
      }
    });
  }
}

/** Layout invariant 4: when a handle flagged that it may sleep on `seq`, wake it (once per flag). */
function wakeIf(w: Int32Array, flag: number, seq: number): void {
  if (
    Atomics.load(w, flag) !== 0 && // pairs with: shared-chan-waiters.ts #run (Atomics.store flag 1)
    Atomics.exchange(w, flag, 0) !== 0
  ) {
    wake(w, seq);
  }
}

/** Bump `seq` and wake every thread parked on it. */
function wake(w: Int32Array, seq: number): void {
  Atomics.add(w, seq, 1); // pairs with: shared-chan-waiters.ts #run (Atomics.load SEQ before waitAsync)
  Atomics.notify(w, seq); // pairs with: shared-chan-waiters.ts #run (waitAsync SEQ)
}

function checkPending(list: WaitList, puts: boolean): void {
  if (list.live >= MAX_SHARED_PENDING) {
    throw new TooManyPendingError(
      `a shared channel handle has ${MAX_SHARED_PENDING} pending ${puts ? 'puts' : 'takes'} already; use a bigger buffer or fewer concurrent waiters`,
    );
  }
}

function noop(): void {}

/** select's take on a shared channel. */
class SharedTakeOp<T> extends Op<T | undefined> {
  #entry: WaitEntry | undefined;
  constructor(readonly chan: SharedChan<unknown>) {
    super();
  }
  try(): T | undefined | NotReady {
    return pollOf(this.chan) as T | undefined | NotReady;
  }
  park(h: Handler, index: number): void {
    const list = listOf(this.chan, false);
    checkPending(list, false);
    this.#entry = new WaitEntry(h, index, undefined);
    list.add(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) listOf(this.chan, false).remove(this.#entry);
  }
}

/** select's put on a shared channel (the value is encoded when the op is made). */
class SharedPutOp extends Op<boolean> {
  #entry: WaitEntry | undefined;
  constructor(
    readonly chan: SharedChan<unknown>,
    readonly bytes: Uint8Array,
  ) {
    super();
  }
  try(): boolean | NotReady {
    return offerOf(this.chan, this.bytes);
  }
  park(h: Handler, index: number): void {
    const list = listOf(this.chan, true);
    checkPending(list, true);
    this.#entry = new WaitEntry(h, index, this.bytes);
    list.add(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) listOf(this.chan, true).remove(this.#entry);
  }
}
