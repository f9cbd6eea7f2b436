/**
 * Slot queue — a bounded multi-producer / multi-consumer FIFO of fixed-size slots in a
 * SharedArrayBuffer (Dmitry Vyukov's bounded MPMC queue: one sequence word per slot, one CAS to
 * claim). Built for a task queue that idle workers pull from: the main thread puts, every worker
 * claims, so no unstarted task sits behind a busy worker.
 *
 * Why fixed slots and not a multi-consumer byte ring: with variable frames, a consumer must know
 * where the next frame starts before it can claim it, which serialises consumers on a lock or a
 * two-phase claim; with slots the claim is `CAS(DEQ, pos, pos + 1)` and the slot's address follows
 * from `pos`. The price is a payload limit per slot (`slotBytes`); larger payloads are the
 * caller's (put them in a byte ring or a side buffer and send a reference).
 *
 * Runs on any thread, any number of producers and consumers (each builds its own SlotQueue from
 * the descriptor). Owns `slotQueueBytes(slots, slotBytes)` bytes of a SAB.
 *
 * Control block (Int32 words at `byteOffset`):
 *
 * | idx | name       | written by                                  | waited on by | meaning                          |
 * |-----|------------|---------------------------------------------|--------------|----------------------------------|
 * | 0   | ENQ        | producers (compareExchange)                 | —            | next position to fill            |
 * | 16  | DEQ        | consumers (compareExchange)                 | —            | next position to claim           |
 * | 32  | WANT_SPACE | producers (store 1), consumers (exchange 0) | — (doorbell) | a producer found the queue full  |
 * | 48  | MAGIC      | initSlotQueue, once                         | —            | 0x5348_5351 ('SHSQ')             |
 * | 49  | SLOTS      | initSlotQueue, once                         | —            | number of slots (power of two)   |
 * | 50  | SLOT_BYTES | initSlotQueue, once                         | —            | payload bytes per slot           |
 *
 * Slot i (at `byteOffset + 256 + i * (16 + slotBytes)`): Int32 SEQ, Int32 LEN (bits 0..28 length,
 * bit 29 MORE), Int32 TAG, Int32 zero, then `slotBytes` of payload.
 *
 * Invariants (positions are counters wrapping at 2^32; compared as `(a - b) | 0`):
 * 1. Slot `pos & (slots - 1)` has SEQ == pos when free for the producer of position pos,
 *    SEQ == pos + 1 when filled for the consumer of pos, and SEQ == pos + slots once that consumer
 *    is done (free for the producer of pos + slots). Nothing else writes SEQ.
 * 2. A position is owned by whoever moved ENQ (or DEQ) past it with compareExchange: exactly one
 *    producer fills it and exactly one consumer claims it. That CAS is the only contended step.
 * 3. The producer fills LEN, TAG and payload with plain stores, then Atomics.store(SEQ, pos + 1);
 *    the consumer's Atomics.load(SEQ) == pos + 1 pairs with it and orders those plain stores.
 *    The consumer reads, then Atomics.store(SEQ, pos + slots) hands the slot back.
 * 4. FIFO per producer / consumer pair: positions are claimed in order. A producer (or consumer)
 *    that stalls between its CAS and its SEQ store holds up the consumers (producers) of that slot
 *    only — so keep the reserve→commit and claim→release windows short and synchronous.
 * 5. WANT_SPACE: a producer that found the queue full stores 1, then looks again; a consumer
 *    stores SEQ (freeing a slot), then reads WANT_SPACE (Dekker, as in byte-ring.ts invariant 5).
 * 6. A consumer that meets a LEN past `slotBytes`, or a SEQ that moves no correct peer could have
 *    moved, throws RingCorruptError instead of reading or spinning.
 */
import { stateError as invalidState } from '../core/args.js';
import { RingCorruptError } from '../core/errors.js';
import { checkInt, checkMagic, checkPowerOfTwo, checkRegion, checkSab, badType, outOfRange } from './layout.js';

const ENQ = 0;
const DEQ = 16;
const WANT_SPACE = 32;
const MAGIC = 48;
const SLOTS = 49;
const SLOT_BYTES = 50;
const QUEUE_MAGIC = 0x53485351;
const HEADER_BYTES = 256;
const SLOT_HEADER_BYTES = 16;
const LEN_MASK = (1 << 29) - 1;
const MORE = 1 << 29;

/** What a slot queue is, as it travels through postMessage. */
export interface SlotQueueDescriptor {
  readonly kind: 'shoal:slot-queue';
  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly slots: number;
  readonly slotBytes: number;
}

/** Options of {@link SlotQueue}. */
export interface SlotQueueOptions {
  /** Called by a consumer's release that found WANT_SPACE set: ring the producer's bell here. */
  readonly onProducerWaiting?: () => void;
}

/**
 * Bytes a queue of `slots` slots of `slotBytes` payload bytes occupies.
 *
 * @example
 * slotQueueBytes(1024, 240) // 256 + 1024 * 256
 */
export function slotQueueBytes(slots: number, slotBytes: number): number {
  checkPowerOfTwo('slots', slots, 2, 2 ** 24);
  checkInt('slotBytes', slotBytes, 8, 2 ** 24);
  if (slotBytes % 8 !== 0) outOfRange(`slotBytes must be a multiple of 8, got ${slotBytes}`);
  return HEADER_BYTES + slots * (SLOT_HEADER_BYTES + slotBytes);
}

/**
 * Initialise a queue in `sab` at `byteOffset` (8-aligned). Do it once, before anyone attaches.
 *
 * @example
 * const sab = new SharedArrayBuffer(slotQueueBytes(256, 120));
 * const desc = initSlotQueue(sab, 0, 256, 120);
 */
export function initSlotQueue(
  sab: SharedArrayBuffer,
  byteOffset: number,
  slots: number,
  slotBytes: number,
): SlotQueueDescriptor {
  checkSab('sab', sab);
  const size = slotQueueBytes(slots, slotBytes);
  checkRegion(sab, byteOffset, size);
  new Uint8Array(sab, byteOffset, size).fill(0);
  const ctl = new Int32Array(sab, byteOffset, HEADER_BYTES / 4);
  const all = new Int32Array(sab, byteOffset + HEADER_BYTES, (size - HEADER_BYTES) / 4);
  const stride = (SLOT_HEADER_BYTES + slotBytes) / 4;
  for (let i = 0; i < slots; i++) all[i * stride] = i; // invariant 1: slot i is free for position i
  Atomics.store(ctl, SLOTS, slots);
  Atomics.store(ctl, SLOT_BYTES, slotBytes);
  Atomics.store(ctl, MAGIC, QUEUE_MAGIC); // pairs with: layout.ts checkMagic (in SlotQueue constructor)
  return { kind: 'shoal:slot-queue', sab, byteOffset, slots, slotBytes };
}

/**
 * Allocate a queue of `slots` (power of two) slots of `slotBytes` (multiple of 8) in its own SAB.
 *
 * @example
 * const desc = createSlotQueue(1024, 248);
 * for (const w of workers) w.postMessage({ tasks: desc });
 */
export function createSlotQueue(slots: number, slotBytes: number): SlotQueueDescriptor {
  return initSlotQueue(new SharedArrayBuffer(slotQueueBytes(slots, slotBytes)), 0, slots, slotBytes);
}

/**
 * One thread's handle on a slot queue; the same class serves producers and consumers.
 *
 * @example
 * const q = new SlotQueue(desc);
 * q.tryPut(new Uint8Array([1, 2, 3]), 7);          // producer: false when full
 * if (q.claim() >= 0) {                             // consumer: one CAS
 *   run(q.bytes, q.claimOffset, q.claimLength, q.claimTag);
 *   q.release();                                    // hand the slot back, promptly
 * }
 */
export class SlotQueue {
  /** All slots' bytes; `reserve()` and `claim()` locate payloads in here. */
  readonly bytes: Uint8Array;
  readonly slots: number;
  /** Largest payload of one slot. */
  readonly slotBytes: number;
  /** Payload offset in `bytes` of the claimed slot (after `claim()` >= 0). */
  claimOffset = 0;
  /** Payload length of the claimed slot. */
  claimLength = 0;
  /** Tag of the claimed slot. */
  claimTag = 0;
  /** True when the claimed payload is a fragment and more follows (in this queue or elsewhere). */
  claimMore = false;
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly stride: number;
  private readonly onProducerWaiting: (() => void) | undefined;
  private putPos = 0;
  private putMax = -1;
  private takePos = 0;
  private claimed = false;

  constructor(d: SlotQueueDescriptor, options: SlotQueueOptions = {}) {
    if (d === null || typeof d !== 'object' || d.kind !== 'shoal:slot-queue') {
      badType('descriptor must be a SlotQueueDescriptor (from createSlotQueue or initSlotQueue)');
    }
    checkSab('descriptor.sab', d.sab);
    const size = slotQueueBytes(d.slots, d.slotBytes);
    checkRegion(d.sab, d.byteOffset, size);
    this.ctl = new Int32Array(d.sab, d.byteOffset, HEADER_BYTES / 4);
    checkMagic(this.ctl, MAGIC, QUEUE_MAGIC, 'slot queue');
    if (Atomics.load(this.ctl, SLOTS) !== d.slots || Atomics.load(this.ctl, SLOT_BYTES) !== d.slotBytes) {
      throw new RingCorruptError('descriptor', 'slot queue: memory and descriptor disagree on slots / slotBytes');
    }
    this.bytes = new Uint8Array(d.sab, d.byteOffset + HEADER_BYTES, size - HEADER_BYTES);
    this.words = new Int32Array(d.sab, d.byteOffset + HEADER_BYTES, (size - HEADER_BYTES) / 4);
    this.slots = d.slots;
    this.slotBytes = d.slotBytes;
    this.mask = d.slots - 1;
    this.stride = (SLOT_HEADER_BYTES + d.slotBytes) / 4;
    this.onProducerWaiting = options.onProducerWaiting;
  }

  /**
   * Producer: claim the next free slot (one CAS) and return where its payload goes in `bytes`,
   * or -1 when the queue is full. Follow promptly with exactly one `commit()`.
   *
   * @example
   * const off = q.reserve();
   * if (off >= 0) q.commit(encodeInto(q.bytes, off, q.slotBytes), KIND_TASK);
   */
  reserve(): number {
    if (this.putMax >= 0) throw invalidState('SlotQueue.reserve: the previous reserve() was not committed');
    const words = this.words;
    let pos = Atomics.load(this.ctl, ENQ); // pairs with: slot-queue.ts reserve (compareExchange ENQ)
    for (;;) {
      const at = (pos & this.mask) * this.stride;
      const seq = Atomics.load(words, at); // pairs with: slot-queue.ts release (Atomics.store SEQ)
      const dif = (seq - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(this.ctl, ENQ, pos, (pos + 1) | 0); // invariant 2
        if (seen === pos) {
          this.putPos = pos;
          this.putMax = this.slotBytes;
          return at * 4 + SLOT_HEADER_BYTES;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1; // the slot still holds position pos - slots: full
      } else {
        const again = Atomics.load(this.ctl, ENQ);
        if (again === pos)
          throw new RingCorruptError('positions', `slot queue: slot SEQ ${seq} is ahead of ENQ ${pos}`);
        pos = again;
      }
    }
  }

  /**
   * Producer: publish the reserved slot with its payload length (<= slotBytes) and tag.
   *
   * @example
   * const off = q.reserve(); q.bytes[off] = 1; q.commit(1, 0);
   */
  commit(len: number, tag = 0, more = false): void {
    if (this.putMax < 0) throw invalidState('SlotQueue.commit: nothing reserved');
    if (len >>> 0 !== len || len > this.slotBytes)
      outOfRange(`commit length must be an integer in [0, ${this.slotBytes}], got ${len}`);
    const at = (this.putPos & this.mask) * this.stride;
    this.words[at + 1] = more ? len | MORE : len;
    this.words[at + 2] = tag | 0;
    this.putMax = -1;
    Atomics.store(this.words, at, (this.putPos + 1) | 0); // pairs with: slot-queue.ts claim (Atomics.load SEQ)
  }

  /**
   * Producer: copy `src` (at most slotBytes) into the next slot. False when the queue is full.
   *
   * @example
   * if (!q.tryPut(task)) { const s = bell.seq(); if (!q.hasSpace()) await bell.wait(s); }
   */
  tryPut(src: Uint8Array, tag = 0, more = false): boolean {
    if (src.length > this.slotBytes) outOfRange(`payload of ${src.length} bytes exceeds slotBytes ${this.slotBytes}`);
    const off = this.reserve();
    if (off < 0) return false;
    this.bytes.set(src, off);
    this.commit(src.length, tag, more);
    return true;
  }

  /**
   * Producer: true when a slot is free now. When none is, sets WANT_SPACE (the next consumer
   * release then calls its `onProducerWaiting`) and looks again. Take the bell's `seq()` first.
   *
   * @example
   * const s = bell.seq();
   * if (!q.hasSpace()) await bell.wait(s, { timeoutMs: 100 });
   */
  hasSpace(): boolean {
    if (this.slotFree()) return true;
    Atomics.store(this.ctl, WANT_SPACE, 1); // pairs with: slot-queue.ts release (Atomics.exchange WANT_SPACE)
    return this.slotFree(); // invariant 5
  }

  /**
   * Consumer: claim the oldest filled slot (one CAS). Returns its payload length (then
   * `claimOffset`, `claimLength`, `claimTag`, `claimMore` describe it) or -1 when empty.
   * Read the payload, then `release()` promptly: the slot is blocked until then.
   *
   * @example
   * while (q.claim() >= 0) { handle(q.view()); q.release(); }
   */
  claim(): number {
    if (this.claimed) throw invalidState('SlotQueue.claim: the previous claim() was not released');
    const words = this.words;
    let pos = Atomics.load(this.ctl, DEQ); // pairs with: slot-queue.ts claim (compareExchange DEQ)
    for (;;) {
      const at = (pos & this.mask) * this.stride;
      const seq = Atomics.load(words, at); // pairs with: slot-queue.ts commit (Atomics.store SEQ)
      const dif = (seq - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(this.ctl, DEQ, pos, (pos + 1) | 0); // invariant 2
        if (seen === pos) {
          const h = words[at + 1]!;
          const len = h & LEN_MASK;
          if ((h & ~(LEN_MASK | MORE)) !== 0 || len > this.slotBytes) {
            // hand the slot back so producers are not stuck on it, then report
            Atomics.store(words, at, (pos + this.slots) | 0);
            throw new RingCorruptError(
              'frame-length',
              `slot queue: slot header 0x${(h >>> 0).toString(16)} (slotBytes ${this.slotBytes})`,
            );
          }
          this.takePos = pos;
          this.claimed = true;
          this.claimOffset = at * 4 + SLOT_HEADER_BYTES;
          this.claimLength = len;
          this.claimTag = words[at + 2]!;
          this.claimMore = (h & MORE) !== 0;
          return len;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1; // not filled yet: empty
      } else {
        const again = Atomics.load(this.ctl, DEQ);
        if (again === pos)
          throw new RingCorruptError('positions', `slot queue: slot SEQ ${seq} is ahead of DEQ ${pos}`);
        pos = again;
      }
    }
  }

  /** Consumer: a zero-copy view of the claimed payload, valid until `release()`. */
  view(): Uint8Array {
    return this.bytes.subarray(this.claimOffset, this.claimOffset + this.claimLength);
  }

  /**
   * Consumer: hand the claimed slot back to the producers. Returns true (after calling
   * `onProducerWaiting`) when a producer had found the queue full.
   *
   * @example
   * if (q.claim() >= 0) { const task = decode(q.view()); q.release(); run(task); }
   */
  release(): boolean {
    if (!this.claimed) throw invalidState('SlotQueue.release: nothing claimed');
    this.claimed = false;
    const at = (this.takePos & this.mask) * this.stride;
    Atomics.store(this.words, at, (this.takePos + this.slots) | 0); // pairs with: slot-queue.ts reserve (Atomics.load SEQ)
    if (
      Atomics.load(this.ctl, WANT_SPACE) !== 0 && // pairs with: slot-queue.ts hasSpace (Atomics.store WANT_SPACE)
      Atomics.exchange(this.ctl, WANT_SPACE, 0) !== 0
    ) {
      this.onProducerWaiting?.();
      return true;
    }
    return false;
  }

  /**
   * Consumer: claim, copy out and release in one call; null when empty.
   *
   * @example
   * for (let t = q.tryTake(); t; t = q.tryTake()) run(t);
   */
  tryTake(): Uint8Array | null {
    if (this.claim() < 0) return null;
    const out = this.bytes.slice(this.claimOffset, this.claimOffset + this.claimLength);
    this.release();
    return out;
  }

  /** Filled or being filled slots, as of now (a snapshot; racy by nature). */
  size(): number {
    const n = (Atomics.load(this.ctl, ENQ) - Atomics.load(this.ctl, DEQ)) | 0;
    return n < 0 ? 0 : Math.min(n, this.slots);
  }

  private slotFree(): boolean {
    const pos = Atomics.load(this.ctl, ENQ);
    const seq = Atomics.load(this.words, (pos & this.mask) * this.stride); // pairs with: slot-queue.ts release
    return ((seq - pos) | 0) >= 0;
  }
}
