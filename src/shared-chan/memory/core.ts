/**
 * Shared channel — the lock-free transitions on a channel's memory: commit a put (one, or a
 * batch), commit a take (one, or a batch), close, and the wake-ups those owe to parked threads.
 * Words, slots and numbered invariants: layout.ts (cited below as "layout N"); how a
 * value sits in a slot: value.ts. The API, parking and select ops are in
 * channel.ts.
 *
 * Runs on any thread; one ChanCore per handle. Owns no state of its own beyond views of the
 * shared memory: every transition is one compareExchange (or Atomics.or) on ENQ or DEQ, and
 * every method either commits and returns the outcome, or returns NOT_READY having changed
 * nothing (op.ts invariant 2).
 *
 * The cost of one value, as designed: a put is a load of ENQ, a load of its slot's SEQ (also
 * the capacity check when slots == capacity; else one more load, layout 2), a compareExchange
 * of ENQ, plain stores and one SEQ store, then a load of TAKERS; a take is the mirror image on
 * DEQ. No word is
 * written by both sides per value except the slot's SEQ (once each way): the previous design's
 * shared COUNT word, compareExchanged by putters and decremented by takers on every value, made
 * its cache line bounce between the cores twice per value.
 */
import { RingCorruptError } from '../../core/errors.js';
import { NOT_READY, type NotReady } from '../../core/op.js';
import {
  CLOSED,
  DEQ,
  DROPPING,
  ENQ,
  FIXED,
  POS_MASK,
  PUTTERS,
  PUT_SEQ,
  SHUT,
  SLIDING,
  TAKERS,
  TAKE_SEQ,
  dist,
  type AttachedChan,
} from './layout.js';
import { TAG_INT, readValue, writeValue, type SlotViews } from './value.js';

/**
 * How long a put spins waiting out another thread's synchronous section (layout 4) before it
 * reports a thread that died inside one (RingCorruptError 'stuck'), ms. A section is a few hundred
 * instructions; this is far beyond a preemption, and short enough that a synchronous tryPut()
 * does not block its thread for seconds (it used to spin 200M times: 4.6 s).
 */
const STUCK_MS = 200;

/** The committed-put outcomes of offerMany besides a count. */
export const MANY_CLOSED = -1;

/** One handle's views of a channel region, and its transitions. */
export class ChanCore implements SlotViews {
  readonly ctl: Int32Array;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly f64: Float64Array;
  readonly valueBytes: number;
  readonly kind: number;
  readonly cap: number;
  readonly #slots: number;
  readonly #mask: number;
  readonly #stride: number;
  /** slots == capacity: the slot of p is the slot of p - capacity (layout 2 with one load). */
  readonly #tight: boolean;
  /** Full buffers this handle met (the window check runs on every 64th, from the first). */
  #fullSeen = 0;

  constructor(a: AttachedChan) {
    this.ctl = a.ctl;
    this.words = a.words;
    this.bytes = a.bytes;
    this.f64 = a.f64;
    this.valueBytes = a.valueBytes;
    this.kind = a.kind;
    this.cap = a.capacity;
    this.#slots = a.slots;
    this.#mask = a.slots - 1;
    this.#stride = a.stride;
    this.#tight = a.slots === a.capacity;
  }

  /** True once any thread closed the channel. */
  get closed(): boolean {
    return (Atomics.load(this.ctl, ENQ) & CLOSED) !== 0; // pairs with: core.ts close (Atomics.or ENQ)
  }

  /** Values between DEQ and ENQ now, clamped to [0, capacity] (a snapshot). */
  get size(): number {
    const e = Atomics.load(this.ctl, ENQ) & POS_MASK; // pairs with: core.ts offer (compareExchange ENQ)
    const n = dist(e, Atomics.load(this.ctl, DEQ)); // pairs with: core.ts poll (compareExchange DEQ)
    return n < 0 ? 0 : Math.min(n, this.cap);
  }

  /**
   * Commit a put of a staged value (tag and frame from value.ts): true (in the
   * channel, or dropped by a full dropping buffer), false (closed), NOT_READY (fixed and full).
   */
  offer(tag: number, v: unknown, frame: Uint8Array | undefined): boolean | NotReady {
    const ctl = this.ctl;
    const words = this.words;
    const mask = this.#mask;
    const stride = this.#stride;
    // The common case first, flat: room (layout 2) and the slot at ENQ free for ENQ's position.
    // The loop below does the same with every other case; this copy exists because a fresh
    // thread runs this code unoptimized for its first tens of thousands of values, and there
    // each call and branch costs tens of nanoseconds. A CLOSED bit in e never equals a SEQ.
    const e0 = Atomics.load(ctl, ENQ); // pairs with: core.ts offer (compareExchange ENQ) / close (Atomics.or)
    const at0 = (e0 & mask) * stride;
    if (
      Atomics.load(words, at0) === e0 && // pairs with: core.ts #release (Atomics.store SEQ)
      (this.#tight || this.#roomAt(e0)) &&
      Atomics.compareExchange(ctl, ENQ, e0, (e0 + 1) & POS_MASK) === e0 // layout 1 and 5: the commit point
    ) {
      if (tag === TAG_INT) {
        words[at0 + 2] = TAG_INT; // value.ts writeValue, its TAG_INT case
        words[at0 + 3] = v as number;
      } else writeValue(this, at0, tag, v, frame);
      Atomics.store(words, at0, (e0 + 1) & POS_MASK); // pairs with: core.ts poll (Atomics.load SEQ)
      if (Atomics.load(ctl, TAKERS) !== 0) wakeIf(ctl, TAKERS, PUT_SEQ); // pairs with: waiters.ts #run
      return true;
    }
    return this.#offerLoop(tag, v, frame);
  }

  /**
   * offer's general case (every case the flat path above does not take): its own function, so
   * that the hot one stays small (a fresh thread interprets it, then TurboFan compiles it: both
   * cost by size) and a first full buffer met after `offer` was optimized deoptimizes this one,
   * not `offer` and every caller it was inlined into.
   */
  #offerLoop(tag: number, v: unknown, frame: Uint8Array | undefined): boolean | NotReady {
    const ctl = this.ctl;
    const words = this.words;
    const mask = this.#mask;
    const stride = this.#stride;
    for (let k = 0; ; k++) {
      const e = Atomics.load(ctl, ENQ); // pairs with: core.ts offer (compareExchange ENQ) / close (Atomics.or)
      if ((e & CLOSED) !== 0) return false;
      const at = (e & mask) * stride;
      let full = !this.#tight && !this.#roomAt(e);
      if (!full) {
        const dif = dist(Atomics.load(words, at), e); // pairs with: core.ts #release (Atomics.store SEQ)
        if (dif === 0) {
          // layout 1 and 5: this compareExchange is the put's commit point, refused once CLOSED is set
          if (Atomics.compareExchange(ctl, ENQ, e, (e + 1) & POS_MASK) !== e) continue;
          writeValue(this, at, tag, v, frame);
          Atomics.store(words, at, (e + 1) & POS_MASK); // pairs with: core.ts poll (Atomics.load SEQ)
          wakeIf(ctl, TAKERS, PUT_SEQ);
          return true;
        }
        if (dif > 0) {
          this.#checkMoved(ENQ, e, 'ENQ');
          continue;
        }
        // layout 2 and 4: with slots == capacity this slot is position e - capacity's: full;
        // otherwise a taker one lap behind is finishing its section. The slot then belongs to
        // position e - slots (SEQ e - slots: its putter is inside its section; e - slots + 1: it
        // holds that value); any other SEQ is no state of this queue: report it now, not after a spin.
        if (dif !== -this.#slots && dif !== 1 - this.#slots) {
          this.#checkMoved(ENQ, e, 'ENQ', `a slot's SEQ is ${dif} from ENQ`);
          continue;
        }
        full = this.#tight;
        if (!full && (k & 1023) === 1023 && this.#spunTooLong(k))
          throw stuck('a slot stayed claimed for too long (a thread died inside a take?)');
      }
      if (full) {
        // The window check reads DEQ, the line every take writes: a producer spinning on a full
        // buffer that read it on each attempt made that line cross the cores twice per value.
        if ((this.#fullSeen++ & 63) === 0) this.#checkWindow(e);
        if (this.kind === FIXED) return NOT_READY;
        if (this.kind === DROPPING) return true;
        return this.#offerSliding(tag, v, frame);
      }
    }
  }

  /**
   * Commit puts of staged values `from..to-1` in order, as many as fit now, with one
   * compareExchange: the count committed (dropped ones included), 0 when a fixed buffer is full,
   * or MANY_CLOSED.
   */
  offerMany(
    tags: readonly number[],
    vals: readonly unknown[],
    frames: readonly (Uint8Array | undefined)[],
    from: number,
    to: number,
  ): number {
    if (this.kind === SLIDING) {
      const r = this.offer(tags[from]!, vals[from], frames[from]);
      return r === false ? MANY_CLOSED : 1;
    }
    const ctl = this.ctl;
    const words = this.words;
    const mask = this.#mask;
    const stride = this.#stride;
    for (;;) {
      const e = Atomics.load(ctl, ENQ); // pairs with: core.ts offer (compareExchange ENQ) / close (Atomics.or)
      if ((e & CLOSED) !== 0) return MANY_CLOSED;
      let k = 0;
      while (from + k < to) {
        const p = (e + k) & POS_MASK;
        if (!this.#tight && !this.#roomAt(p)) break;
        if (Atomics.load(words, (p & mask) * stride) !== p) break; // pairs with: core.ts #release
        k++;
      }
      if (k === 0) {
        // full, or a slot in a state the single put knows how to wait out (layout 4)
        const r = this.offer(tags[from]!, vals[from], frames[from]);
        if (r === NOT_READY) return 0;
        if (r === false) return MANY_CLOSED;
        return this.kind === DROPPING ? to - from : 1; // dropping: the rest are dropped as well
      }
      // layout 1: the slots e..e+k-1 were free and nobody else can claim them before ENQ moves
      if (Atomics.compareExchange(ctl, ENQ, e, (e + k) & POS_MASK) !== e) continue;
      for (let i = 0; i < k; i++)
        writeValue(this, ((e + i) & mask) * stride, tags[from + i]!, vals[from + i], frames[from + i]);
      for (let i = 0; i < k; i++) {
        const p = (e + i) & POS_MASK;
        Atomics.store(words, (p & mask) * stride, (p + 1) & POS_MASK); // pairs with: core.ts poll (Atomics.load SEQ)
      }
      wakeIf(ctl, TAKERS, PUT_SEQ);
      return k;
    }
  }

  /** Commit a take now: the value, undefined (closed and drained), or NOT_READY. */
  poll(): unknown {
    const ctl = this.ctl;
    const words = this.words;
    const d = Atomics.load(ctl, DEQ); // pairs with: core.ts poll (compareExchange DEQ)
    // The common case first, flat (as in offer): the slot at DEQ holds DEQ's value, an int.
    const at0 = (d & this.#mask) * this.#stride;
    if (
      Atomics.load(words, at0) === ((d + 1) & POS_MASK) && // pairs with: core.ts offer (Atomics.store SEQ)
      words[at0 + 2] === TAG_INT && // ordered after the SEQ load above (layout 1)
      Atomics.compareExchange(ctl, DEQ, d, (d + 1) & POS_MASK) === d // layout 1: the take's commit point
    ) {
      const v = words[at0 + 3]!; // value.ts readValue, its TAG_INT case (it cannot throw)
      Atomics.store(words, at0, (d + this.#slots) & POS_MASK); // #release; pairs with: core.ts offer
      // pairs with: waiters.ts #run (Atomics.store flag 1)
      if (this.kind === FIXED && Atomics.load(ctl, PUTTERS) !== 0) wakeIf(ctl, PUTTERS, TAKE_SEQ);
      return v;
    }
    return this.#pollLoop(d);
  }

  /** poll's general case, from DEQ read as `d` (its own function: see #offerLoop). */
  #pollLoop(d: number): unknown {
    const ctl = this.ctl;
    const words = this.words;
    for (;;) {
      const at = (d & this.#mask) * this.#stride;
      const dif = dist(Atomics.load(words, at), (d + 1) & POS_MASK); // pairs with: core.ts offer (Atomics.store SEQ)
      if (dif === 0) {
        const seen = Atomics.compareExchange(ctl, DEQ, d, (d + 1) & POS_MASK); // layout 1: the take's commit point
        if (seen !== d) {
          d = seen;
          continue;
        }
        try {
          return readValue(this, at);
        } finally {
          this.#release(at, d);
          if (this.kind === FIXED) wakeIf(ctl, PUTTERS, TAKE_SEQ);
        }
      }
      // Empty for now: SEQ d (its putter is inside its section, or nothing was put), or SEQ
      // d - slots + 1 (a taker one lap behind has not released it yet). Any other SEQ is no state
      // of this queue (words overwritten): RingCorruptError, rather than a take that waits forever.
      if (dif === -1 || dif === -this.#slots) return this.#emptyOutcome();
      d = this.#checkMoved(DEQ, d, 'DEQ', dif < 0 ? `a slot's SEQ is ${dif} from DEQ` : undefined);
    }
  }

  /**
   * Commit up to `max` takes at once with one compareExchange, appending the values to `out`:
   * the count, 0 (nothing now), or -1 (closed and drained).
   */
  pollMany(max: number, out: unknown[]): number {
    const ctl = this.ctl;
    const words = this.words;
    const mask = this.#mask;
    const stride = this.#stride;
    let d = Atomics.load(ctl, DEQ); // pairs with: core.ts poll (compareExchange DEQ)
    for (;;) {
      let k = 0;
      while (k < max) {
        const p = (d + k) & POS_MASK;
        if (Atomics.load(words, (p & mask) * stride) !== ((p + 1) & POS_MASK)) break; // pairs with: offer (Atomics.store SEQ)
        k++;
      }
      if (k === 0) {
        const dif = dist(Atomics.load(words, (d & mask) * stride), (d + 1) & POS_MASK); // pairs with: offer (Atomics.store SEQ)
        if (dif === -1 || dif === -this.#slots) return this.#emptyOutcome() === undefined ? -1 : 0;
        if (dif !== 0) d = this.#checkMoved(DEQ, d, 'DEQ', dif < 0 ? `a slot's SEQ is ${dif} from DEQ` : undefined); // else published meanwhile: count again
        continue;
      }
      const seen = Atomics.compareExchange(ctl, DEQ, d, (d + k) & POS_MASK); // layout 1: claims all k
      if (seen !== d) {
        d = seen;
        continue;
      }
      let i = 0;
      try {
        for (; i < k; i++) {
          const p = (d + i) & POS_MASK;
          const at = (p & mask) * stride;
          out.push(readValue(this, at));
          this.#release(at, p);
        }
      } finally {
        for (let j = i; j < k; j++) {
          const p = (d + j) & POS_MASK; // a corrupt slot threw: hand the rest back all the same
          this.#release((p & mask) * stride, p);
        }
        if (this.kind === FIXED) wakeIf(ctl, PUTTERS, TAKE_SEQ);
      }
      return k;
    }
  }

  /** Set CLOSED and wake every parked thread (layout 5 and 8); false when it was closed already. */
  close(): boolean {
    const ctl = this.ctl;
    if ((Atomics.or(ctl, ENQ, CLOSED) & CLOSED) !== 0) return false; // pairs with: core.ts offer (compareExchange ENQ)
    Atomics.store(ctl, SHUT, 1); // layout 5; pairs with: core.ts #emptyOutcome (Atomics.load SHUT)
    wake(ctl, PUT_SEQ);
    wake(ctl, TAKE_SEQ);
    return true;
  }

  /** Layout 2: position `p - capacity` has been released (its SEQ reached p - capacity + slots). */
  #roomAt(p: number): boolean {
    const q = (p - this.cap) & POS_MASK;
    const seq = Atomics.load(this.words, (q & this.#mask) * this.#stride); // pairs with: core.ts #release
    return dist(seq, (q + this.#slots) & POS_MASK) >= 0;
  }

  /** Hand slot `at` (position p) back to the putters (layout 1). */
  #release(at: number, p: number): void {
    Atomics.store(this.words, at, (p + this.#slots) & POS_MASK); // pairs with: core.ts offer (Atomics.load SEQ) / #roomAt
  }

  /** The slot at DEQ is not filled: closed and drained (undefined), or NOT_READY (layout 5). */
  #emptyOutcome(): undefined | NotReady {
    if (Atomics.load(this.ctl, SHUT) === 0) return NOT_READY; // pairs with: core.ts close (store SHUT)
    const e = Atomics.load(this.ctl, ENQ); // pairs with: core.ts close (Atomics.or ENQ)
    if ((e & CLOSED) !== 0 && (e & POS_MASK) === Atomics.load(this.ctl, DEQ)) return undefined;
    if ((e & ~(POS_MASK | CLOSED)) !== 0) {
      throw new RingCorruptError('positions', `shared channel: ENQ holds bits no state sets (${e})`);
    }
    return NOT_READY;
  }

  /**
   * A SEQ that does not fit our position: the word must have moved on (another thread took the
   * position first); reload it, or report corruption when it has not moved.
   */
  #checkMoved(index: number, seen: number, name: string, why?: string): number {
    const again = Atomics.load(this.ctl, index);
    if ((again & POS_MASK) === (seen & POS_MASK)) {
      throw new RingCorruptError(
        'positions',
        `shared channel: ${why ?? "a slot's SEQ is ahead of"} ${name} ${seen & POS_MASK}`,
      );
    }
    return again;
  }

  /**
   * A full buffer: ENQ (read as `e`) must be at most `slots` positions past DEQ and never behind
   * it. When it is not and ENQ has not moved meanwhile, the words were overwritten.
   */
  #checkWindow(e: number): void {
    const n = dist(e & POS_MASK, Atomics.load(this.ctl, DEQ)); // pairs with: poll (compareExchange DEQ)
    if (n >= 0 && n <= this.#slots) return;
    if (Atomics.load(this.ctl, ENQ) !== e) return; // moved on: the caller looks again
    throw new RingCorruptError('positions', `shared channel: ENQ is ${n} positions from DEQ (${this.#slots} slots)`);
  }

  #spinStart = 0;
  /** Layout 4's wait for another thread's section, bounded in time (checked every 1024 spins). */
  #spunTooLong(k: number): boolean {
    const now = performance.now();
    if (k === 1023) this.#spinStart = now;
    return now - this.#spinStart > STUCK_MS;
  }

  /** Layout 3: a sliding put on a full buffer. */
  #offerSliding(tag: number, v: unknown, frame: Uint8Array | undefined): boolean {
    const ctl = this.ctl;
    const words = this.words;
    for (let k = 0; ; k++) {
      if ((k & 1023) === 1023 && this.#spunTooLong(k))
        throw stuck('a sliding put could not commit for too long (a thread died inside a put or take?)');
      const e = Atomics.load(ctl, ENQ); // pairs with: core.ts offer (compareExchange ENQ) / close (Atomics.or)
      if ((e & CLOSED) !== 0) return false;
      const d = Atomics.load(ctl, DEQ); // read after ENQ: ENQ - d can only overstate what is held
      if (dist(e, d) > this.cap) {
        this.#evict(e, d);
        continue;
      }
      const at = (e & this.#mask) * this.#stride;
      if (Atomics.load(words, at) !== e) continue; // ENQ moved, or a taker one lap behind (layout 4)
      if (Atomics.compareExchange(ctl, ENQ, e, (e + 1) & POS_MASK) !== e) continue;
      writeValue(this, at, tag, v, frame);
      Atomics.store(words, at, (e + 1) & POS_MASK); // pairs with: core.ts poll (Atomics.load SEQ)
      wakeIf(ctl, TAKERS, PUT_SEQ);
      // now at most CAPACITY + 1 are held: drop the oldest while more than CAPACITY are
      for (let j = 0; ; j++) {
        if ((j & 1023) === 1023 && this.#spunTooLong(j))
          throw stuck('a sliding put could not evict for too long (a thread died inside a put?)');
        const e2 = Atomics.load(ctl, ENQ) & POS_MASK;
        const d2 = Atomics.load(ctl, DEQ);
        if (dist(e2, d2) <= this.cap) return true;
        this.#evict(e2, d2);
      }
    }
  }

  /**
   * Layout 3: drop position d, only if DEQ is still d (the caller read ENQ - d > CAPACITY) and
   * its value is published. False when a taker moved DEQ first or the putter of d is still inside
   * its section; the caller looks again.
   */
  #evict(e: number, d: number): boolean {
    if (dist(e, d) <= this.cap) return false;
    const at = (d & this.#mask) * this.#stride;
    if (Atomics.load(this.words, at) !== ((d + 1) & POS_MASK)) return false; // pairs with: offer (Atomics.store SEQ)
    if (Atomics.compareExchange(this.ctl, DEQ, d, (d + 1) & POS_MASK) !== d) return false;
    this.#release(at, d);
    return true;
  }
}

/** Layout 6: when a handle flagged that it may sleep on `seq`, wake it (once per flag). */
export function wakeIf(w: Int32Array, flag: number, seq: number): void {
  if (
    Atomics.load(w, flag) !== 0 && // pairs with: waiters.ts #run (Atomics.store flag 1)
    Atomics.exchange(w, flag, 0) !== 0
  ) {
    wake(w, seq);
  }
}

/** Bump `seq` and wake every thread parked on it. */
function wake(w: Int32Array, seq: number): void {
  Atomics.add(w, seq, 1); // pairs with: waiters.ts #run (Atomics.load SEQ before waitAsync)
  Atomics.notify(w, seq); // pairs with: waiters.ts #run (waitAsync SEQ)
}

function stuck(message: string): RingCorruptError {
  return new RingCorruptError('stuck', `shared channel: ${message}`);
}
