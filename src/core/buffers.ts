/**
 * Channel buffer specs (fixed, dropping, sliding) and the ring deque that stores buffered values
 * and parked operations.
 *
 * Runs on any thread; single-threaded data structures (the shared-memory channels of src/shm/ have
 * their own storage). Owns: the `BufferSpec` shapes that `chan()` accepts, size validation,
 * `Ring`, a growable circular queue, and `WaitQueue`, the ring of parked puts or takes. `Ring` exists because `Array.prototype.shift` is O(n) once an
 * array leaves V8's fast "left-trim" path, and a channel shifts on every take.
 */

import { checkSize } from './args.js';
import type { Handler } from './op.js';

/** How a full buffer treats a new value. */
export type BufferKind = 'fixed' | 'dropping' | 'sliding';

/**
 * A buffer description, passed to `chan()`. Frozen plain data, so the same spec can describe a
 * local channel and (later) a shared-memory one.
 */
export interface BufferSpec {
  readonly kind: BufferKind;
  readonly size: number;
}

/** Largest buffer a channel accepts (keeps the ring's index arithmetic in small-integer range). */
export const MAX_BUFFER_SIZE = 2 ** 30;

/**
 * Check a buffer size at the call site: an integer in [min, MAX_BUFFER_SIZE].
 * Throws TypeError (ERR_INVALID_ARG_TYPE) for a non-number, RangeError (ERR_OUT_OF_RANGE) otherwise.
 */
export function validateSize(size: unknown, name: string, min: number): number {
  return checkSize(name, size, min, MAX_BUFFER_SIZE);
}

/**
 * A fixed buffer of `n` values: `put` waits while it is full (backpressure). `chan(n)` is
 * shorthand for `chan(fixed(n))`; `fixed(0)` is a rendezvous channel (a put waits for a taker).
 *
 * @example
 * const c = chan<number>(fixed(16)); // same as chan<number>(16)
 */
export function fixed(n: number): BufferSpec {
  return Object.freeze({ kind: 'fixed' as const, size: validateSize(n, 'fixed buffer size', 0) });
}

/**
 * A dropping buffer of `n` values: when full, a new value is dropped and its put still succeeds,
 * so the channel keeps the *first* values. Puts never wait.
 *
 * @example
 * const c = chan<number>(dropping(1));
 * for (let i = 1; i <= 5; i++) await c.put(i);
 * await c.take(); // 1
 */
export function dropping(n: number): BufferSpec {
  return Object.freeze({ kind: 'dropping' as const, size: validateSize(n, 'dropping buffer size', 1) });
}

/**
 * A sliding buffer of `n` values: when full, the oldest value is dropped to make room, so the
 * channel keeps the *latest* values. Puts never wait.
 *
 * @example
 * const c = chan<number>(sliding(3));
 * for (let i = 1; i <= 5; i++) await c.put(i);
 * // takes give 3, 4, 5
 */
export function sliding(n: number): BufferSpec {
  return Object.freeze({ kind: 'sliding' as const, size: validateSize(n, 'sliding buffer size', 1) });
}

/** True when `x` has the shape of a BufferSpec (made by fixed/dropping/sliding). */
export function isBufferSpec(x: unknown): x is BufferSpec {
  if (typeof x !== 'object' || x === null) return false;
  const k = (x as { kind?: unknown }).kind;
  return (k === 'fixed' || k === 'dropping' || k === 'sliding') && typeof (x as { size?: unknown }).size === 'number';
}

/**
 * A circular FIFO queue over a plain array: O(1) push and shift, grows by doubling, never
 * shrinks below its starting capacity. Slots are cleared on shift so the ring holds no garbage.
 *
 * Internal (not re-exported from the package).
 */
export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0;
  #len = 0;
  #mask: number;

  /** `capacity` is rounded up to a power of two (so wrap-around is a mask, not a branch). */
  constructor(capacity = 16) {
    let cap = 4;
    while (cap < capacity) cap *= 2;
    this.#items = new Array<T | undefined>(cap);
    this.#mask = cap - 1;
  }

  get length(): number {
    return this.#len;
  }

  push(v: T): void {
    if (this.#len > this.#mask) this.#grow();
    this.#items[(this.#head + this.#len) & this.#mask] = v;
    this.#len++;
  }

  /** Remove and return the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#len === 0) return undefined;
    const i = this.#head;
    const v = this.#items[i];
    this.#items[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#len--;
    return v;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.#len === 0 ? undefined : this.#items[this.#head];
  }

  /** Keep only the items for which `keep` is true, preserving order. O(n). */
  retain(keep: (v: T) => boolean): void {
    const n = this.#len;
    let w = 0;
    for (let r = 0; r < n; r++) {
      const v = this.#items[(this.#head + r) & this.#mask] as T;
      if (keep(v)) this.#items[(this.#head + w++) & this.#mask] = v;
    }
    for (let r = w; r < n; r++) this.#items[(this.#head + r) & this.#mask] = undefined;
    this.#len = w;
  }

  /** Items oldest first (a copy; for tests and introspection). */
  toArray(): T[] {
    const out: T[] = [];
    for (let r = 0; r < this.#len; r++) out.push(this.#items[(this.#head + r) & this.#mask] as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const cap = old.length;
    const next = new Array<T | undefined>(cap * 2);
    for (let r = 0; r < this.#len; r++) next[r] = old[(this.#head + r) & this.#mask];
    this.#items = next;
    this.#head = 0;
    this.#mask = cap * 2 - 1;
  }
}

/**
 * A parked put or take in a channel's wait queue (op.ts: its handler decides who commits).
 * Internal.
 */
export class Parked<T> {
  /** Counted as live in its queue (false once served or given up). */
  q = true;
  constructor(
    public h: Handler,
    readonly i: number,
    readonly v: T | undefined,
  ) {}
}

/**
 * FIFO of parked entries over a Ring. An entry that gives up is uncounted at once (so `live` and
 * the pending cap see only real waiters) and skipped or compacted away later, because removing
 * from the middle of a ring is O(n) and cancellations are common (timeouts, lost selects).
 * Internal.
 */
export class WaitQueue<T> {
  readonly ring = new Ring<Parked<T>>(4);
  dead = 0;
  get live(): number {
    return this.ring.length - this.dead;
  }
  /** The oldest live entry, uncounted (it is being served), or undefined. */
  shift(): Parked<T> | undefined {
    for (;;) {
      const e = this.ring.shift();
      if (e === undefined || e.q) {
        if (e) e.q = false;
        return e;
      }
      this.dead--;
    }
  }
  remove(e: Parked<T>): void {
    if (!e.q) return;
    e.q = false;
    // Compact when dead entries dominate, so a queue of cancelled waits cannot grow unbounded.
    if (++this.dead > 32 && this.dead * 2 > this.ring.length) {
      this.ring.retain((x) => x.q);
      this.dead = 0;
    }
  }
}
