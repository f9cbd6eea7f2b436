/**
 * Shared channel — a channel whose buffer lives in a SharedArrayBuffer, usable from every thread
 * that holds it, with the core channel's API (`put`/`take`/`tryPut`/`tryTake`/`close`/`takeOp`/
 * `putOp`/`for await`) plus batches (`putMany`/`takeMany`), and fixed, dropping and sliding
 * buffers. Layout, words and invariants: layout.ts; the lock-free transitions:
 * core.ts; values in slots: value.ts; parking: waiters.ts;
 * select ops: ops.ts; creation and the SHOAL_TRANSPORT switch: shared-chan/index.ts.
 *
 * Runs on any thread; one `SharedChan` object is one thread's handle (build another on another
 * thread from `descriptor()`). Owns that handle's parked puts and takes; the channel state itself
 * is owned by no thread (every transition is an atomic operation on the shared words).
 *
 * Guarantees (beyond the layout's invariants):
 *  1. Every value put is taken at most once, by exactly one taker on one thread; values from one
 *     producer reach any one consumer in the order they were put (slot positions are FIFO).
 *  2. A parked op commits only through its own thread's atomic attempt after a wake-up (op.ts,
 *     invariant 5), so select over shared and local ops commits exactly one, and a cancelled or
 *     timed-out wait consumed nothing and delivers nothing.
 *  3. Staging happens at the call site: a value the codec refuses, or one larger than
 *     `valueBytes` encoded, throws there with nothing sent (value.ts invariant 1).
 *  4. A put or take that can commit at once returns an already-settled promise (no parking, no
 *     extra microtask); one that cannot spins briefly on shared memory before it parks.
 */
import type { TransferListItem } from 'node:worker_threads';
import { onCancel } from '../../core/context.js';
import { TimeoutError } from '../../core/errors.js';
import { NOT_READY, type Op, codeError, putSignal, rejectIfCancelled, takeRequest } from '../../core/op.js';
import {
  DONE,
  FALSE_P,
  TRUE_P,
  cancelledNow,
  startPut,
  startTake,
  type PutBack,
  type TakeBack,
} from '../../core/chan-front.js';
import type { ChanStats, PutOptions, TakeOptions } from '../../core/chan.js';
import { encode } from '../../codec/index.js';
import { ChanCore, MANY_CLOSED } from './core.js';
import { PUTTERS, PUT_SEQ, TAKERS, TAKE_SEQ, attachSharedChan, type SharedChanDescriptor } from './layout.js';
import { SharedPutOp, SharedTakeOp, Solo, checkPending } from './ops.js';
import { TAG_CODEC, TAG_INT, tagOf } from './value.js';
import { WaitEntry, WaitList } from './waiters.js';
import { checkMax, toArray, type SharedChannel, type TakeManyOptions } from '../api.js';

export { MAX_SHARED_PENDING } from './ops.js';
export { MAX_TAKE_MANY, checkMax, toArray, type SharedChannel, type TakeManyOptions } from '../api.js';

/**
 * How long a plain put / take spins before it parks, ns, at most and at least. A park and the
 * wake-up that ends it cost 30-60 µs here, on both sides (the counterpart pays a notify): a
 * counterpart producing or consuming on another core comes within the spin, and a spin that
 * misses costs less than the park it tried to save. The budget is per handle: it halves after a
 * spin that missed (a counterpart that is slow, or on this same thread, which cannot run while
 * we spin) down to PARK_SPIN_MIN_NS, and doubles after a hit. Without it a consumer faster than
 * its producer parked after every value, and the producer paid a notify per value. Kept in
 * integer ns so the field stays a small integer: halving 20 µs to 2.5 µs used to turn it into a
 * double, which changed the handle's hidden class and deoptimized every function compiled
 * against the old one (put, its staging, the spin) in the middle of a fresh thread's warm-up.
 */
const PARK_SPIN_MAX_NS = 20_000;
const PARK_SPIN_MIN_NS = 2_000;

/** An iterator's result for a take's outcome (`undefined`: closed and drained). */
function iterResult<T>(v: unknown): IteratorResult<T, undefined> {
  return v === undefined ? DONE : { done: false, value: v as T };
}

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
  readonly #core: ChanCore;
  readonly #takers: WaitList;
  readonly #putters: WaitList;
  /** The codec frame of the last value staged as TAG_CODEC (this thread's scratch). */
  #frame: Uint8Array | undefined;
  /** this handle's spin budget before a park, ns, an integer (PARK_SPIN_MAX_NS) */
  #spinNs = PARK_SPIN_MAX_NS;
  readonly #offerFn = (tag: number, v: unknown, frame: Uint8Array | undefined) => this.#offer(tag, v, frame);
  readonly #pollFn = (): unknown => this.#poll();
  /** this kind's back halves for the shared put / take / iterator (core/chan-front.ts) */
  readonly #takeBack: TakeBack<T> = {
    takeNow: (mayWait) => {
      const r = this.#poll();
      // spin before parking (PARK_SPIN_MAX_NS)
      if (r !== NOT_READY || !mayWait) return r as T | undefined | typeof NOT_READY;
      return this.#spin(this.#pollFn) as T | undefined | typeof NOT_READY;
    },
    parkTake: (q) => this.#park(false, 0, undefined, undefined, q.signal, q.timeout, q.hasDefault, q.dflt),
  };
  readonly #putBack: PutBack<T, number> = {
    stage: (v) => this.#stage(v),
    putNow: (v, tag) => this.#offer(tag, v, tag === TAG_CODEC ? this.#frame : undefined),
    parkPut: (v, tag, signal) => this.#putStaged(tag, v, tag === TAG_CODEC ? this.#frame : undefined, signal, false),
  };

  /** Attach to the channel `d` describes (validated against the memory). Use `fromDescriptor`. */
  constructor(d: SharedChanDescriptor) {
    const a = attachSharedChan(d);
    this.#d = d;
    this.#core = new ChanCore(a);
    this.#takers = new WaitList(a.ctl, TAKERS, PUT_SEQ, this.#pollFn);
    this.#putters = new WaitList(a.ctl, PUTTERS, TAKE_SEQ, (e) => this.#offer(e.tag, e.v, e.frame));
  }

  /** True once any thread closed the channel (buffered values may still be taken). */
  get closed(): boolean {
    return this.#core.closed;
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
    if (opts !== undefined) return startPut(this.#putBack, v, opts);
    // A put without options: chan-front.ts startPut's steps 2-5, flat (fewer calls while a
    // fresh thread still runs this unoptimized: see core.ts offer). An int is staged here, by
    // tagOf's own TAG_INT rule (value-tag.ts), without the two calls of #stage.
    const tag = typeof v === 'number' && (v | 0) === v && (v !== 0 || 1 / v > 0) ? TAG_INT : this.#stage(v);
    const cancelled = cancelledNow(undefined);
    if (cancelled !== undefined) return cancelled;
    let r: boolean | typeof NOT_READY;
    const frame = tag === TAG_CODEC ? this.#frame : undefined;
    try {
      r = this.#core.offer(tag, v, frame);
    } catch (e) {
      return Promise.reject(e); // RingCorruptError
    }
    if (r === NOT_READY) return this.#putStaged(tag, v, frame, undefined, false);
    if (r) this.#takers.kick();
    return r ? TRUE_P : FALSE_P;
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
    return startTake<T, D>(this.#takeBack, opts);
  }

  /**
   * Put `values` in order (staged first: a refused value throws here and nothing is put),
   * committing as many at once as there is room for and waiting for room like `put`. Resolves
   * with how many went in (dropped ones count, as put resolves true for them): all of them, or
   * fewer once the channel closed, the rest never delivered. Cancellation rejects with
   * CancelledError; the values committed before it stay in the channel.
   *
   * @example
   * const n = await ch.putMany(lines); // n < lines.length: closed meanwhile
   */
  putMany(values: Iterable<T>, opts?: PutOptions): Promise<number> {
    const signal = putSignal(opts);
    const vals = toArray(values);
    const n = vals.length;
    const tags = new Array<number>(n);
    const frames = new Array<Uint8Array | undefined>(n);
    for (let i = 0; i < n; i++) {
      const tag = (tags[i] = this.#stage(vals[i]!));
      frames[i] = tag === TAG_CODEC ? this.#frame!.slice() : undefined;
    }
    const cancelled = rejectIfCancelled(signal);
    if (cancelled !== undefined) return cancelled;
    const i = this.#offerRun(tags, vals, frames, 0);
    if (i < 0 || i === n) return Promise.resolve(i < 0 ? ~i : n);
    return this.#putManyRest(tags, vals, frames, i, signal);
  }

  /**
   * Take up to `max` values at once: resolves as soon as at least one is there (waiting like
   * `take`), with every value there is up to `max`; `[]` once closed and drained. `timeout`
   * rejects with TimeoutError, `signal` with CancelledError, consuming nothing either way.
   *
   * @example
   * for (let b = await ch.takeMany(256); b.length; b = await ch.takeMany(256)) handle(b);
   */
  takeMany(max: number, opts?: TakeManyOptions): Promise<T[]> {
    checkMax(max);
    const { signal, timeout } = takeRequest(opts);
    const cancelled = rejectIfCancelled(signal);
    if (cancelled !== undefined) return cancelled;
    const out: T[] = [];
    let r: number;
    try {
      r = this.#pollMany(max, out);
      if (r === 0 && timeout !== 0) {
        const k = this.#spin(() => {
          const got = this.#pollMany(max, out);
          return got === 0 ? NOT_READY : got;
        });
        if (k !== NOT_READY) r = k as number;
      }
    } catch (e) {
      return Promise.reject(e); // RingCorruptError
    }
    if (r !== 0) return Promise.resolve(out);
    if (timeout === 0) return Promise.reject(new TimeoutError('takeMany timed out'));
    const first = this.#park(false, 0, undefined, undefined, signal, timeout, false, undefined);
    return first.then((v) => {
      if (v === undefined) return out;
      out.push(v as T);
      if (max > 1) this.#pollMany(max - 1, out);
      return out;
    });
  }

  /**
   * Put without waiting: true if the value is in the channel (or dropped by a dropping / sliding
   * buffer), false if a fixed buffer is full or the channel is closed.
   *
   * @example
   * if (!ch.tryPut(sample)) dropped++;
   */
  tryPut(v: T): boolean {
    const tag = this.#stage(v);
    return this.#offer(tag, v, tag === TAG_CODEC ? this.#frame : undefined) === true;
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
    if (!this.#core.close()) return;
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
    return new SharedTakeOp<T>(this.#takers, this.#pollFn);
  }

  /**
   * An op for `select` that puts `v` (commits `true`, or `false` when closed). Stages `v` now,
   * so a refused value throws here. Single-use.
   *
   * @example
   * const r = await select([out.putOp(result), afterOp(100)]);
   */
  putOp(v: T): Op<boolean> {
    const tag = this.#stage(v);
    return new SharedPutOp(this.#putters, this.#offerFn, tag, v, tag === TAG_CODEC ? this.#frame!.slice() : undefined);
  }

  /**
   * A snapshot: `buffered` and `closed` are the channel's (all threads); `pendingPuts` and
   * `pendingTakes` count this handle's parked ops only.
   *
   * @example
   * const { buffered, capacity } = ch.stats();
   */
  stats(): ChanStats {
    return Object.freeze({
      buffered: this.#core.size,
      capacity: this.#core.cap,
      pendingPuts: this.#putters.live,
      pendingTakes: this.#takers.live,
      closed: this.#core.closed,
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
   * Iterate values until the channel is closed and drained. Breaking out does not close it, and
   * takes nothing beyond the values it yielded.
   *
   * @example
   * for await (const job of jobs) await handle(job);
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    // chan-front.ts chanIterator, flat (see put): check the ambient signal, take now, spin, park.
    const core = this.#core;
    const putters = this.#putters;
    return {
      next: () => {
        const cancelled = cancelledNow(undefined);
        if (cancelled !== undefined) return cancelled;
        let r: unknown;
        try {
          r = core.poll();
          if (r === NOT_READY) r = this.#spin(this.#pollFn);
          else putters.kick();
        } catch (e) {
          return Promise.reject(e); // RingCorruptError
        }
        if (r !== NOT_READY) return Promise.resolve(r === undefined ? DONE : { done: false, value: r as T });
        return this.#park(false, 0, undefined, undefined, undefined, undefined, false, undefined).then(iterResult<T>);
      },
      return: () => Promise.resolve(DONE),
    };
  }

  /** Classify (and for TAG_CODEC encode into this thread's scratch) at the call site. */
  #stage(v: unknown): number {
    if (v === undefined) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        'cannot put undefined on a channel: undefined means "closed"',
      );
    }
    const limit = this.#core.valueBytes;
    const tag = tagOf(v, limit);
    if (tag !== TAG_CODEC) return tag;
    const bytes = encode(v);
    if (bytes.length > limit) {
      throw codeError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `value encodes to ${bytes.length} bytes, more than this channel's valueBytes (${limit}); create it with a larger valueBytes`,
      );
    }
    this.#frame = bytes;
    return tag;
  }

  /** Spin, then park a staged value that missed its first offer (or offer first, for putMany);
   * `owned`: the frame is already a private copy. */
  #putStaged(
    tag: number,
    v: unknown,
    frame: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    owned: boolean,
  ): Promise<boolean> {
    let r = this.#offer(tag, v, frame);
    if (r === NOT_READY) r = this.#spin(undefined, tag, v, frame) as boolean | typeof NOT_READY; // as in take
    if (r !== NOT_READY) return r ? TRUE_P : FALSE_P;
    const mine = frame !== undefined && !owned ? frame.slice() : frame;
    return this.#park(true, tag, v, mine, signal, undefined, false, undefined) as Promise<boolean>;
  }

  /** Commit staged values from `i` on while they fit: the next index, or ~index once closed. */
  #offerRun(tags: number[], vals: unknown[], frames: (Uint8Array | undefined)[], i: number): number {
    const n = vals.length;
    const from = i;
    while (i < n) {
      const k = this.#core.offerMany(tags, vals, frames, i, n);
      if (k === MANY_CLOSED) return ~i;
      if (k === 0) break;
      i += k;
    }
    if (i > from) this.#takers.kick();
    return i;
  }

  async #putManyRest(
    tags: number[],
    vals: unknown[],
    frames: (Uint8Array | undefined)[],
    i: number,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const n = vals.length;
    while (i < n) {
      if (!(await this.#putStaged(tags[i]!, vals[i], frames[i], signal, true))) return i;
      i = this.#offerRun(tags, vals, frames, i + 1);
      if (i < 0) return ~i;
    }
    return n;
  }

  /**
   * Retry `attempt` (or, without one, a put of the staged `tag`/`v`/`frame`) for up to this
   * handle's spin budget (PARK_SPIN_MAX_NS): its result, or NOT_READY. A put passes its value
   * rather than a closure: a new closure per call made this call site's target change on every
   * spin, and TurboFan's code for it was thrown away ("wrong call target") on a fresh thread.
   */
  #spin(attempt: (() => unknown) | undefined, tag = 0, v?: unknown, frame?: Uint8Array): unknown {
    // The clock is read first after 32 attempts, then every 32: a read costs about 90 ns here
    // (kvm-clock), as much as two attempts, and most spins of a busy loop end within a few.
    let end = 0;
    const budget = this.#spinNs;
    for (let k = 1; ; k++) {
      const r = attempt === undefined ? this.#offer(tag, v, frame) : attempt();
      if (r !== NOT_READY) {
        this.#spinNs = Math.min(PARK_SPIN_MAX_NS, budget * 2);
        return r;
      }
      if ((k & 31) === 0) {
        const now = performance.now();
        if (end === 0) end = now + budget / 1e6;
        else if (now > end) break;
      }
    }
    this.#spinNs = Math.max(PARK_SPIN_MIN_NS, budget >> 1);
    return NOT_READY;
  }

  /** Commit a put now; wake this handle's own parked takes too (they may be served at once). */
  #offer(tag: number, v: unknown, frame: Uint8Array | undefined): boolean | typeof NOT_READY {
    const r = this.#core.offer(tag, v, frame);
    if (r === true) this.#takers.kick();
    return r;
  }

  /** Commit a take now: the value, undefined (closed and drained), or NOT_READY. */
  #poll(): unknown {
    const r = this.#core.poll();
    if (r !== NOT_READY) this.#putters.kick();
    return r;
  }

  /** pollMany with this handle's kick: the count, 0, or -1 (closed and drained). */
  #pollMany(max: number, out: unknown[]): number {
    const r = this.#core.pollMany(max, out);
    if (r > 0) this.#putters.kick();
    return r;
  }

  #park(
    puts: boolean,
    tag: number,
    v: unknown,
    frame: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hasDefault: boolean,
    dflt: unknown,
  ): Promise<unknown> {
    const list = puts ? this.#putters : this.#takers;
    checkPending(list, puts);
    return new Promise((resolve, reject) => {
      const h = new Solo(resolve, reject);
      const e = new WaitEntry(h, 0, tag, v, frame);
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
