/**
 * Channels (core.async / Fennel async style) for one thread: unbounded, fixed (backpressure),
 * rendezvous (`chan(0)`), dropping and sliding; with `takeOp`/`putOp` for `select`.
 *
 * Runs on any thread; a channel is used by the thread that made it (src/shm/ has the cross-thread
 * kind). Owns the channel state: the buffer, the queues of parked puts and takes, `closed`.
 *
 * State invariants (checked by the property tests in test/unit/chan-props.test.ts):
 *  1. A live parked take implies an empty buffer: values reach the buffer only through `offer`,
 *     which hands a value to the oldest live parked take first.
 *  2. A live parked put implies a full fixed buffer, or no buffer (rendezvous). Unbounded,
 *     dropping and sliding channels never park a put.
 *  3. FIFO: values leave in the order their puts committed; parked puts and takes are served
 *     oldest first. A put that has to wait never overtakes one already waiting.
 *  4. Once closed: no parked put or take remains (close settles them with false / undefined), a put
 *     commits with false and delivers nothing, a take gets buffered values, then undefined.
 *  5. A parked op that gave up (cancelled, timed out, lost a select) is never served: its queue
 *     entry is uncounted at once and skipped (and compacted away) later; its value is never
 *     delivered and it consumes nothing. At most MAX_PENDING live entries per queue.
 *
 * Timers are read from `globalThis` at call time so a test's fake clock can stand in for them.
 */
import { type CancelledError, TimeoutError, TooManyPendingError } from './errors.js';
import { onCancel } from './context.js';
import { chanIterator, startPut, startTake, type PutBack, type TakeBack } from './chan-front.js';
import { Parked, Ring, WaitQueue, isBufferSpec, validateSize, type BufferSpec } from './buffers.js';
import { NOT_READY, Op, codeError, type Handler, type NotReady } from './op.js';

/** Parked puts (and, separately, takes) one channel holds before refusing with TooManyPendingError. */
export const MAX_PENDING = 1024;

/** Options of a waiting put. */
export interface PutOptions {
  /** Abort the wait; the put rejects with CancelledError and its value is never delivered. */
  signal?: AbortSignal;
}

/** Options of a waiting take. */
export interface TakeOptions<D = never> {
  /** Abort the wait; the take rejects with CancelledError and consumes nothing. */
  signal?: AbortSignal;
  /** Give up after this many ms (an integer): resolve with `default`, or reject with TimeoutError. */
  timeout?: number;
  /** Returned when nothing arrives in time; without `timeout`, when nothing is ready *now*. */
  default?: D;
}

/** A snapshot of a channel's counters. */
export interface ChanStats {
  readonly buffered: number;
  /** Buffer size; Infinity when unbounded, 0 for a rendezvous channel. */
  readonly capacity: number;
  readonly pendingPuts: number;
  readonly pendingTakes: number;
  readonly closed: boolean;
}

// Buffer kinds (plain numbers: compared on every put).
const Kind = { Unbounded: 0, Fixed: 1, Dropping: 2, Sliding: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** The handler of one plain (non-select) parked put or take: it is its own queue entry. */
class Solo<T> extends Parked<T> implements Handler {
  active = true;
  off: () => void = noop;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  constructor(
    v: T | undefined,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: unknown) => void,
  ) {
    super(null as unknown as Handler, 0, v);
    this.h = this; // a plain wait is its own handler: one allocation, not two
  }
  claim(): boolean {
    if (!this.active) return false;
    this.active = false;
    return true;
  }
  commit(_i: number, value: unknown): void {
    this.#done();
    this.resolve(value);
  }
  fail(_i: number, error: unknown): void {
    this.#done();
    this.reject(error);
  }
  #done(): void {
    this.off();
    if (this.timer !== undefined) globalThis.clearTimeout(this.timer);
  }
}

// Lets the op classes below reach Chan's private state without making it public API.
let offerOf: <T>(c: Chan<T>, v: T) => boolean | NotReady;
let pollOf: <T>(c: Chan<T>) => T | undefined | NotReady;
let queuesOf: <T>(c: Chan<T>) => { takers: WaitQueue<T>; putters: WaitQueue<T> };

/**
 * A channel. Make one with `chan()`; see the module header for its guarantees.
 *
 * @example
 * const c = chan<string>(16);
 * void (async () => { for (const w of ['a', 'b']) await c.put(w); c.close(); })();
 * for await (const w of c) console.log(w); // a, b
 */
export class Chan<T> implements AsyncIterable<T> {
  readonly #kind: Kind;
  readonly #size: number;
  readonly #buf: Ring<T> | null;
  readonly #takers = new WaitQueue<T>();
  readonly #putters = new WaitQueue<T>();
  #closed = false;
  /** this kind's back halves for the shared put / take / iterator (chan-front.ts) */
  readonly #takeBack: TakeBack<T> = {
    takeNow: () => this.#poll(),
    parkTake: (q) => this.#park(this.#takers, undefined, q.signal, q.timeout, q.hasDefault, q.dflt),
  };
  readonly #putBack: PutBack<T, undefined> = {
    stage: (v) => {
      if (v === undefined) throw undefinedValue();
      return undefined;
    },
    putNow: (v) => this.#offer(v),
    parkPut: (v, _s, signal) => this.#park(this.#putters, v, signal, undefined, false, undefined) as Promise<boolean>,
  };

  static {
    offerOf = (c, v) => c.#offer(v);
    pollOf = (c) => c.#poll();
    queuesOf = (c) => ({ takers: c.#takers, putters: c.#putters });
  }

  /** Use `chan()`. */
  constructor(buffer?: number | BufferSpec) {
    if (buffer === undefined) {
      this.#kind = Kind.Unbounded;
      this.#size = Infinity;
    } else if (typeof buffer === 'number') {
      this.#kind = Kind.Fixed;
      this.#size = validateSize(buffer, 'buffer size', 0);
    } else if (isBufferSpec(buffer)) {
      const min = buffer.kind === 'fixed' ? 0 : 1;
      this.#size = validateSize(buffer.size, `${buffer.kind} buffer size`, min);
      this.#kind = buffer.kind === 'fixed' ? Kind.Fixed : buffer.kind === 'dropping' ? Kind.Dropping : Kind.Sliding;
    } else {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'buffer must be a size, fixed(n), dropping(n) or sliding(n)');
    }
    this.#buf = this.#size === 0 ? null : new Ring<T>(Math.min(this.#size, 16));
  }

  /** True once `close()` was called (buffered values may still be taken). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Put `v`, waiting while a fixed buffer is full (or, for `chan(0)`, until a taker comes).
   * Resolves `true` once the value is in the channel, `false` if the channel is or becomes closed
   * (the value is then never delivered). Rejects with CancelledError when `signal` or the ambient
   * task aborts while waiting; a cancelled put never delivers its value. Throws TypeError for
   * `undefined` (it means "closed") and TooManyPendingError when MAX_PENDING puts already wait.
   *
   * @example
   * if (!(await c.put(job, { signal }))) console.log('channel closed, job not queued');
   */
  put(v: T, opts?: PutOptions): Promise<boolean> {
    return startPut(this.#putBack, v, opts);
  }

  /**
   * Take the oldest value, waiting until there is one. Resolves `undefined` once the channel is
   * closed and drained. With `timeout`: after that many ms resolves `default` if one was given
   * (even `undefined`), else rejects with TimeoutError. With `default` and no `timeout`: resolves
   * `default` at once when nothing is ready (a poll). Rejects with CancelledError on `signal` or
   * ambient cancellation, consuming nothing.
   *
   * @example
   * const v = await c.take({ timeout: 100, default: 'none' });
   */
  take(): Promise<T | undefined>;
  take<D = never>(opts: TakeOptions<D>): Promise<T | undefined | D>;
  take<D>(opts?: TakeOptions<D>): Promise<T | undefined | D> {
    return startTake<T, D>(this.#takeBack, opts);
  }

  /**
   * Put without waiting: true if the value is now in the channel (or was dropped by a dropping or
   * sliding buffer, which counts as a successful put), false if the put would wait or the channel
   * is closed. Throws TypeError for `undefined`.
   *
   * @example
   * if (!c.tryPut(v)) metrics.dropped++;
   */
  tryPut(v: T): boolean {
    if (v === undefined) throw undefinedValue();
    return this.#offer(v) === true;
  }

  /**
   * Take without waiting: the oldest value, or undefined when there is none (or closed and drained).
   *
   * @example
   * for (let v = c.tryTake(); v !== undefined; v = c.tryTake()) handle(v);
   */
  tryTake(): T | undefined {
    const r = this.#poll();
    return r === NOT_READY ? undefined : r;
  }

  /**
   * Close the channel (idempotent). Parked and later puts get `false`; buffered values can still
   * be taken; parked takes get `undefined` (there are none while values are buffered).
   *
   * @example
   * producerDone.then(() => c.close());
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let e = this.#takers.shift(); e !== undefined; e = this.#takers.shift()) {
      if (e.h.claim()) e.h.commit(e.i, undefined);
    }
    for (let e = this.#putters.shift(); e !== undefined; e = this.#putters.shift()) {
      if (e.h.claim()) e.h.commit(e.i, false);
    }
  }

  /**
   * An op for `select` that takes a value (or `undefined` once closed and drained). Single-use.
   *
   * @example
   * const { index, value } = await select([a.takeOp(), b.takeOp()]);
   */
  takeOp(): Op<T | undefined> {
    return new TakeOp(this);
  }

  /**
   * An op for `select` that puts `v`; it commits with `true`, or `false` if the channel is closed
   * (a closed channel makes the op ready, as in core.async). Single-use. Throws TypeError for
   * `undefined`.
   *
   * @example
   * const { index } = await select([out.putOp(v), afterOp(100)]);
   */
  putOp(v: T): Op<boolean> {
    if (v === undefined) throw undefinedValue();
    return new PutOp(this, v);
  }

  /**
   * A snapshot of the channel's counters.
   *
   * @example
   * const { buffered, pendingPuts } = c.stats();
   */
  stats(): ChanStats {
    return Object.freeze({
      buffered: this.#buf?.length ?? 0,
      capacity: this.#size,
      pendingPuts: this.#putters.live,
      pendingTakes: this.#takers.live,
      closed: this.#closed,
    });
  }

  /**
   * Iterate values until the channel is closed and drained. Breaking out does not close it.
   *
   * @example
   * for await (const job of jobs) await handle(job);
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return chanIterator(this.#takeBack);
  }

  /** Commit a put now if possible: true (delivered/buffered/dropped), false (closed), or NOT_READY. */
  #offer(v: T): boolean | NotReady {
    if (this.#closed) return false;
    if (this.#takers.live > 0) {
      // Invariant 1: the buffer is empty, so hand the value to the oldest live take.
      for (let e = this.#takers.shift(); e !== undefined; e = this.#takers.shift()) {
        if (e.h.claim()) {
          e.h.commit(e.i, v);
          return true;
        }
      }
    }
    const buf = this.#buf;
    if (buf === null) return NOT_READY;
    if (buf.length < this.#size) buf.push(v);
    else if (this.#kind === Kind.Fixed) return NOT_READY;
    else if (this.#kind === Kind.Sliding) {
      buf.shift();
      buf.push(v);
    } // Dropping: the new value is dropped, the put still succeeds.
    return true;
  }

  /** Commit a take now if possible: the value, undefined (closed and drained), or NOT_READY. */
  #poll(): T | undefined | NotReady {
    const buf = this.#buf;
    if (buf !== null && buf.length > 0) {
      const v = buf.shift() as T;
      if (this.#putters.live > 0) {
        // Invariant 2: a slot just opened in a full fixed buffer; move the oldest live put in.
        for (let e = this.#putters.shift(); e !== undefined; e = this.#putters.shift()) {
          if (e.h.claim()) {
            buf.push(e.v as T);
            e.h.commit(e.i, true);
            break;
          }
        }
      }
      return v;
    }
    if (this.#putters.live > 0) {
      // Rendezvous: take straight from the oldest live put.
      for (let e = this.#putters.shift(); e !== undefined; e = this.#putters.shift()) {
        if (e.h.claim()) {
          e.h.commit(e.i, true);
          return e.v;
        }
      }
    }
    return this.#closed ? undefined : NOT_READY;
  }

  #park(
    q: WaitQueue<T>,
    v: T | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hasDefault: boolean,
    dflt: unknown,
  ): Promise<unknown> {
    checkPending(q, q === this.#putters ? 'puts' : 'takes');
    return new Promise((resolve, reject) => {
      const w = new Solo<T>(v, resolve, reject);
      q.ring.push(w);
      w.off = onCancel(signal, (err: CancelledError) => {
        if (!w.claim()) return;
        q.remove(w);
        if (w.timer !== undefined) globalThis.clearTimeout(w.timer);
        reject(err);
      });
      if (timeout !== undefined) {
        w.timer = globalThis.setTimeout(() => {
          if (!w.claim()) return;
          q.remove(w);
          w.off();
          if (hasDefault) resolve(dflt);
          else reject(new TimeoutError(`take timed out after ${timeout} ms`));
        }, timeout);
      }
    });
  }
}

/**
 * Make a channel: `chan()` unbounded, `chan(n)` fixed buffer of n (put waits while full),
 * `chan(0)` rendezvous (put waits for a taker), `chan(dropping(n))` keeps the first values,
 * `chan(sliding(n))` keeps the latest. Sizes must be integers (RangeError otherwise).
 *
 * @example
 * const jobs = chan<Job>(16);
 * const latest = chan<number>(sliding(1));
 */
export function chan<T>(buffer?: number | BufferSpec): Chan<T> {
  return new Chan<T>(buffer);
}

function checkPending<T>(q: WaitQueue<T>, what: string): void {
  if (q.live >= MAX_PENDING) {
    throw new TooManyPendingError(
      `a channel has ${MAX_PENDING} pending ${what} already; use a buffer or fewer concurrent waiters`,
    );
  }
}

function undefinedValue(): TypeError {
  return codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'cannot put undefined on a channel: undefined means "closed"');
}

function noop(): void {}

/** select's take on a local channel. */
class TakeOp<T> extends Op<T | undefined> {
  #entry: Parked<T> | undefined;
  constructor(readonly chan: Chan<T>) {
    super();
  }
  try(): T | undefined | NotReady {
    return pollOf(this.chan);
  }
  park(h: Handler, index: number): void {
    const { takers } = queuesOf(this.chan);
    checkPending(takers, 'takes');
    this.#entry = new Parked<T>(h, index, undefined);
    takers.ring.push(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) queuesOf(this.chan).takers.remove(this.#entry);
  }
}

/** select's put on a local channel. */
class PutOp<T> extends Op<boolean> {
  #entry: Parked<T> | undefined;
  constructor(
    readonly chan: Chan<T>,
    readonly value: T,
  ) {
    super();
  }
  try(): boolean | NotReady {
    return offerOf(this.chan, this.value);
  }
  park(h: Handler, index: number): void {
    const { putters } = queuesOf(this.chan);
    checkPending(putters, 'puts');
    this.#entry = new Parked<T>(h, index, this.value);
    putters.ring.push(this.#entry);
  }
  unpark(): void {
    if (this.#entry !== undefined) queuesOf(this.chan).putters.remove(this.#entry);
  }
}
