/**
 * Connection slot — the shared memory of one TCP connection between the reactor (main thread,
 * which owns the socket) and the worker that runs its handler; and the dirty sets through which
 * each side tells the other which slots to look at.
 *
 * Runs on both sides: the reactor creates and recycles slots (`createConnSlot`, `resetConnSlot`:
 * main thread only); the worker attaches to them. Owns the layout; the byte rings inside are
 * byte-ring.ts's, the doorbells doorbell.ts's.
 *
 * A slot is one SharedArrayBuffer: a 256-byte header, then the INBOUND ring (socket -> worker:
 * main writes, worker reads), then the OUTBOUND ring (worker -> socket: worker writes, main reads),
 * each of `ringBytes` data bytes.
 *
 * Header (Int32 words; the two writers' words on separate cache lines, and WREADING, stored twice
 * a message by the worker, alone on its own line):
 *
 * | idx | name     | written by                          | waited on by | meaning                                                    |
 * |-----|----------|-------------------------------------|--------------|------------------------------------------------------------|
 * | 0   | READY    | main (Atomics.or)                   | — (dirty set)| readiness word: RD_CLOSED, WR_CLOSED, ERROR                |
 * | 1   | ERRNO    | main (Atomics.store, before ERROR)  | —            | why ERROR was set: an ERRNO_* code                         |
 * | 16  | WSTATE   | worker (Atomics.or)                 | — (dirty set)| W_END (worker half-closed), W_CLOSE (worker let go)        |
 * | 32  | MAGIC    | createConnSlot / resetConnSlot      | —            | 0x5348_4353 ('SHCS')                                       |
 * | 33  | RINGCAP  | createConnSlot, once                | —            | data bytes of each ring                                    |
 * | 48  | WREADING | worker (Atomics.store)              | — (polled)   | 1 while the handler waits for inbound bytes (read/readable)|
 *
 * Readable and writable are not bits: the rings are the truth. A slot is readable when INBOUND
 * holds a frame, or READY has RD_CLOSED or ERROR (the read returns end or the error at once);
 * writable when OUTBOUND has room and READY has neither WR_CLOSED nor ERROR.
 *
 * Invariants:
 * 1. Main sets RD_CLOSED only after publishing the last inbound byte (the FIN follows the data),
 *    so a worker that sees RD_CLOSED and then finds INBOUND empty has read everything.
 * 2. The worker sets W_END only after publishing its last outbound frame; main ends the socket
 *    once it has drained OUTBOUND after seeing W_END. Same for W_CLOSE, after which the worker
 *    never touches the slot again (it has dropped its ring handles).
 * 3. Main stores ERRNO before it sets ERROR (Atomics.or pairs with the worker's Atomics.load of
 *    READY, which then reads ERRNO).
 * 4. A slot is recycled (`resetConnSlot`) only by main, only once the socket is closed AND the
 *    worker has set W_CLOSE (or its thread is gone): no side holds a handle to the old rings.
 * 5. Bits only go up while a slot is in use; only `resetConnSlot` clears them.
 * 6. WREADING is a hint, not a bit: the worker stores 1 just before its handler parks waiting
 *    for inbound bytes (having found INBOUND empty) and 0 when it wakes. Main reads it only when a
 *    server closes: WREADING=1 with INBOUND fully consumed and OUTBOUND drained means the
 *    connection is idle and is closed at once instead of waiting out the grace period. It has a
 *    cache line of its own: beside WSTATE (which main loads on every service of the slot) each of
 *    the worker's two stores a message took that line from main's cache and main's next load took
 *    it back, two cache misses a message for a word main reads only while a server closes
 *    (docs/measurements.md, 2026-12-07 11:00).
 *
 * Dirty sets (one pair per worker, in that worker's link buffer; see `DirtySet`): TOWARD_WORKER
 * (main marks, worker takes) and TOWARD_MAIN (worker marks, main takes). A mark says only "look
 * at slot i": readers re-check the rings and words, so a spurious or duplicated mark is harmless
 * and a mark cannot be lost (see DirtySet's invariants). Link buffer layout:
 *
 * | bytes                         | what                                                      |
 * |-------------------------------|-----------------------------------------------------------|
 * | 0 .. 63                       | the worker's doorbell (main rings it, the worker parks)    |
 * | 64 .. 64 + DIRTY_BYTES        | TOWARD_WORKER dirty set                                    |
 * | 64 + DIRTY_BYTES .. + DIRTY_BYTES | TOWARD_MAIN dirty set                                  |
 *
 * The reactor's own doorbell (rung by every worker after marking TOWARD_MAIN) has its own buffer.
 */
import { byteRingBytes, resetByteRing, type ByteRingDescriptor } from '../shm/byte-ring.js';
import { DOORBELL_BYTES, initDoorbell, type DoorbellDescriptor } from '../shm/doorbell.js';
import { badType, checkMagic, checkPowerOfTwo, checkSab } from '../shm/layout.js';

/** Header word indexes. */
export const READY = 0;
export const ERRNO = 1;
export const WSTATE = 16;
export const WREADING = 48;
const MAGIC = 32;
const RINGCAP = 33;
const SLOT_MAGIC = 0x53484353;
/** Bytes before the inbound ring. */
export const SLOT_HEADER_BYTES = 256;

/** READY bits (main). */
export const RD_CLOSED = 1;
export const WR_CLOSED = 2;
export const ERROR = 4;
/** WSTATE bits (worker). */
export const W_END = 1;
export const W_CLOSE = 2;

/** ERRNO codes: why a connection failed. */
export const ERRNO_RESET = 1; // ECONNRESET / EPIPE: the peer reset the connection
export const ERRNO_CLOSED = 2; // the server or the runtime closed the connection forcibly
export const ERRNO_TIMEOUT = 3; // ETIMEDOUT
export const ERRNO_OTHER = 4; // any other socket error

/** Ring sizes accepted per direction. */
export const MIN_SLOT_RING = 1024;
export const MAX_SLOT_RING = 1 << 24;

/** A slot as it travels to the worker (plain data plus the SAB). */
export interface ConnSlotDescriptor {
  readonly kind: 'shoal:conn-slot';
  readonly sab: SharedArrayBuffer;
  readonly ringBytes: number;
}

/** Total bytes of a slot whose rings have `ringBytes` data bytes each. */
export function connSlotBytes(ringBytes: number): number {
  checkPowerOfTwo('ringBytes', ringBytes, MIN_SLOT_RING, MAX_SLOT_RING);
  return SLOT_HEADER_BYTES + 2 * byteRingBytes(ringBytes);
}

/**
 * Allocate and initialise a slot. Main thread only (the reactor owns slot life).
 *
 * @example
 * const slot = createConnSlot(1 << 15);
 * const inbound = new ByteRingWriter(inboundRing(slot));
 */
export function createConnSlot(ringBytes: number): ConnSlotDescriptor {
  const sab = new SharedArrayBuffer(connSlotBytes(ringBytes));
  const d: ConnSlotDescriptor = { kind: 'shoal:conn-slot', sab, ringBytes };
  Atomics.store(new Int32Array(sab, 0, SLOT_HEADER_BYTES / 4), RINGCAP, ringBytes);
  resetConnSlot(d);
  return d;
}

/**
 * Make a used slot fresh for the next connection (invariant 4). Main thread only.
 *
 * @example
 * if (socketClosed && workerLetGo) { resetConnSlot(slot); free.push(slot); }
 */
export function resetConnSlot(d: ConnSlotDescriptor): void {
  const w = new Int32Array(d.sab, 0, SLOT_HEADER_BYTES / 4);
  // control blocks only: the rings' data is never read outside [HEAD, TAIL) (byte-ring.ts)
  resetByteRing(d.sab, SLOT_HEADER_BYTES, d.ringBytes);
  resetByteRing(d.sab, SLOT_HEADER_BYTES + byteRingBytes(d.ringBytes), d.ringBytes);
  Atomics.store(w, ERRNO, 0);
  Atomics.store(w, READY, 0);
  Atomics.store(w, WSTATE, 0);
  Atomics.store(w, WREADING, 0);
  Atomics.store(w, MAGIC, SLOT_MAGIC); // pairs with: conn-slot.ts slotWords (checkMagic)
}

/** The header words of a slot, after checking the descriptor against the memory. */
export function slotWords(d: ConnSlotDescriptor): Int32Array {
  if (d === null || typeof d !== 'object' || d.kind !== 'shoal:conn-slot')
    badType('descriptor must be a ConnSlotDescriptor');
  checkSab('descriptor.sab', d.sab);
  if (d.sab.byteLength !== connSlotBytes(d.ringBytes))
    badType(`conn slot: buffer of ${d.sab.byteLength} bytes does not hold rings of ${d.ringBytes}`);
  const w = new Int32Array(d.sab, 0, SLOT_HEADER_BYTES / 4);
  checkMagic(w, MAGIC, SLOT_MAGIC, 'conn slot');
  return w;
}

/** The inbound ring (socket -> worker) of a slot. */
export function inboundRing(d: ConnSlotDescriptor): ByteRingDescriptor {
  return { kind: 'shoal:byte-ring', sab: d.sab, byteOffset: SLOT_HEADER_BYTES, capacity: d.ringBytes };
}

/** The outbound ring (worker -> socket) of a slot. */
export function outboundRing(d: ConnSlotDescriptor): ByteRingDescriptor {
  return {
    kind: 'shoal:byte-ring',
    sab: d.sab,
    byteOffset: SLOT_HEADER_BYTES + byteRingBytes(d.ringBytes),
    capacity: d.ringBytes,
  };
}

// --- dirty sets ------------------------------------------------------------------------------

/** Slots one worker may hold at once (the dirty sets are sized for it). */
export const MAX_SLOTS_PER_WORKER = 32768;
const LEAF_WORDS = MAX_SLOTS_PER_WORKER / 32;
const SUMMARY_WORDS = LEAF_WORDS / 32;
/** Bytes of one dirty set: SUMMARY_WORDS summary words, then LEAF_WORDS leaf words. */
export const DIRTY_BYTES = (SUMMARY_WORDS + LEAF_WORDS) * 4;
const TOWARD_WORKER_OFFSET = DOORBELL_BYTES;
const TOWARD_MAIN_OFFSET = DOORBELL_BYTES + DIRTY_BYTES;
/** Bytes of a worker's link buffer. */
export const LINK_BYTES = DOORBELL_BYTES + 2 * DIRTY_BYTES;

/**
 * A two-level bit set of slot indexes in shared memory, marked by one thread and taken by one
 * other. Leaf word w holds slots 32w .. 32w+31; summary bit w says "leaf word w may be non-zero".
 *
 * 1. `mark(i)` sets the leaf bit, THEN the summary bit. `take()` clears a summary word (exchange),
 *    THEN each leaf word it names (exchange). A mark racing a take is therefore either taken now
 *    or leaves its summary bit set for the next take: never lost. A take may find an empty leaf
 *    (a mark already consumed by an earlier take): harmless.
 * 2. The marker rings the taker's doorbell after marking; the taker takes after reading the
 *    bell's SEQ (doorbell.ts invariant 4), so a mark after a take wakes the next wait.
 * 3. There is one marker thread, so a leaf word is non-zero with its summary bit clear only
 *    between the marker's two ORs, or between a take's two exchanges (summary, then that leaf).
 *    `mark` therefore sets the summary bit only when its leaf OR found the word zero: had it been
 *    non-zero, the summary bit is set, or the take in progress exchanges the leaf after our OR.
 */
export class DirtySet {
  private readonly w: Int32Array;
  /** marker side: bit s = summary word s may hold a mark of ours since pending() last saw none */
  private touched = 0;
  /** Summary words worth scanning: the marker's highest index so far is not known here, so all. */
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.w = new Int32Array(sab, byteOffset, SUMMARY_WORDS + LEAF_WORDS);
  }

  /**
   * Mark slot `i` dirty. Returns nothing; ring the taker's bell afterwards (once per batch).
   *
   * @example
   * toWorker.mark(slotIndex); batchRing(worker);
   */
  mark(i: number): void {
    const leaf = i >>> 5;
    const was = Atomics.or(this.w, SUMMARY_WORDS + leaf, 1 << (i & 31)); // pairs with: conn-slot.ts take (Atomics.exchange leaf)
    // Invariant 3: a leaf that was already non-zero has its summary bit set, or a take is between
    // its two exchanges and will still take this leaf; either way the summary needs no store.
    if (was === 0) Atomics.or(this.w, leaf >>> 5, 1 << (leaf & 31)); // pairs with: conn-slot.ts take (Atomics.exchange summary)
    this.touched |= 1 << (leaf >>> 5);
  }

  /**
   * Marker side: true while a mark of ours may still be untaken, false once every summary word we
   * marked reads zero. Then (invariant 3) each of our marks has been taken, or a take is between
   * its two exchanges and will take it: the taker is awake and needs no ring. Lets a deferred
   * ring be skipped when the taker, still awake, already took what it was for.
   *
   * @example
   * if (toMain.pending()) reactorBell.ring();
   */
  pending(): boolean {
    let t = this.touched;
    while (t !== 0) {
      const s = 31 - Math.clz32(t & -t);
      t &= t - 1;
      if (Atomics.load(this.w, s) !== 0) return true; // pairs with: conn-slot.ts take (Atomics.exchange summary)
    }
    this.touched = 0;
    return false;
  }

  /**
   * Take every marked slot, calling `fn(i)` for each (in index order). Returns how many.
   *
   * @example
   * const s = bell.seq(); if (dirty.take(visit) === 0) await bell.wait(s);
   */
  take(fn: (i: number) => void): number {
    const w = this.w;
    let n = 0;
    for (let s = 0; s < SUMMARY_WORDS; s++) {
      if (w[s] === 0) continue; // a plain read is a hint; the exchange below decides
      let sum = Atomics.exchange(w, s, 0); // pairs with: conn-slot.ts mark (Atomics.or summary)
      while (sum !== 0) {
        const b = 31 - Math.clz32(sum & -sum);
        sum &= sum - 1;
        const leaf = (s << 5) | b;
        let bits = Atomics.exchange(w, SUMMARY_WORDS + leaf, 0); // pairs with: conn-slot.ts mark (Atomics.or leaf)
        while (bits !== 0) {
          const c = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          n++;
          fn((leaf << 5) | c);
        }
      }
    }
    return n;
  }
}

/** A worker's link buffer as it travels to the worker. */
export interface NetLinkDescriptor {
  readonly kind: 'shoal:net-link';
  readonly sab: SharedArrayBuffer;
  /** The worker's doorbell (inside `sab`). */
  readonly workerBell: DoorbellDescriptor;
  /** The reactor's doorbell, shared by every worker. */
  readonly reactorBell: DoorbellDescriptor;
}

/**
 * Allocate a worker's link buffer (its doorbell and both dirty sets). Main thread only.
 *
 * @example
 * const link = createNetLink(reactorBell.descriptor);
 * worker.postMessage({ kind: 'shoal:net-attach', link, port }, [port]);
 */
export function createNetLink(reactorBell: DoorbellDescriptor): NetLinkDescriptor {
  const sab = new SharedArrayBuffer(LINK_BYTES);
  return { kind: 'shoal:net-link', sab, workerBell: initDoorbell(sab, 0), reactorBell };
}

/** The dirty set main marks and the worker takes. */
export function towardWorker(d: NetLinkDescriptor): DirtySet {
  return new DirtySet(d.sab, TOWARD_WORKER_OFFSET);
}

/** The dirty set the worker marks and main takes. */
export function towardMain(d: NetLinkDescriptor): DirtySet {
  return new DirtySet(d.sab, TOWARD_MAIN_OFFSET);
}
