/**
 * Byte ring — single-producer / single-consumer ring of variable-length frames in a
 * SharedArrayBuffer. This file holds the layout, its table of words and invariants, and the
 * constructors of the region; the two sides live in byte-ring-writer.ts and byte-ring-reader.ts.
 *
 * Runs on any thread: exactly one thread writes (a ByteRingWriter), exactly one reads (a
 * ByteRingReader); either may be the main thread. Owns `byteRingBytes(capacity)` bytes of a SAB.
 *
 * Control block (Int32 words at `byteOffset`; each writer-owned word apart from reader-owned ones
 * by a cache line, so the two sides do not bounce one line on every store):
 *
 * | idx | name       | written by                               | waited on by | meaning                                   |
 * |-----|------------|------------------------------------------|--------------|-------------------------------------------|
 * | 0   | TAIL       | writer (Atomics.store, once per batch)   | — (doorbell) | end of the published frames (byte position)|
 * | 1   | WANT_SPACE | writer (store 1), reader (exchange to 0) | — (doorbell) | writer found the ring full and may park   |
 * | 16  | HEAD       | reader (Atomics.store, once per batch)   | —            | start of the unreleased frames             |
 * | 32  | MAGIC      | initByteRing, once                       | —            | 0x5348_5242 ('SHRB')                       |
 * | 33  | CAPACITY   | initByteRing, once                       | —            | data bytes, a power of two                 |
 * | 34  | FLAGS      | initByteRing, once                       | —            | bit 0 STAMPED (invariant 7)                |
 *
 * Data: `capacity` bytes at `byteOffset + 256`. Positions are byte counters that wrap at 2^32;
 * a position's index in the data is `pos & (capacity - 1)`. A frame at index i is
 *
 * | bytes   | field  | meaning                                                                 |
 * |---------|--------|-------------------------------------------------------------------------|
 * | 0..3    | HEADER | bits 0..28 payload length; bit 29 FRAME_MORE; bit 30 PAD; bit 31 STAMP   |
 * | 4..7    | TAG    | any int32 the writer chose (message kind, sequence...)                  |
 * | 8..     | data   | `length` bytes, then zeros to the next multiple of 8                    |
 *
 * Invariants:
 * 1. 0 <= TAIL - HEAD <= capacity (mod 2^32), and both are multiples of 8. Only the writer moves
 *    TAIL, only the reader moves HEAD, each forward only.
 * 2. Every byte in [HEAD, TAIL) belongs to a complete frame; the writer fills a frame with plain
 *    stores and makes it visible by one Atomics.store of TAIL per batch, which the reader's
 *    Atomics.load of TAIL pairs with (sequentially consistent: it orders the plain stores too).
 * 3. The reader never touches bytes at or past TAIL; the writer never touches bytes in
 *    [HEAD, TAIL). A frame's bytes are the reader's until it stores a HEAD past them.
 * 4. Frames are contiguous: one that would cross the end of the data is preceded by a PAD frame
 *    that fills the rest of the data (only its HEADER word is written). A frame is at most
 *    capacity / 2 bytes, so a frame always fits an empty ring, padding included.
 * 5. WANT_SPACE pairs a writer that found the ring full with the reader's next release: the writer
 *    stores WANT_SPACE=1 then re-reads HEAD; the reader stores HEAD then reads WANT_SPACE. One of
 *    the two sees the other's store (Dekker), so a writer never parks on space that was freed.
 * 6. A reader that meets a word no correct writer could have written throws RingCorruptError and
 *    reads nothing past it; no length taken from shared memory sizes an allocation.
 * 7. A STAMPED ring (`createByteRing(n, { stamped: true })`, for a reader that spins on small
 *    frames: the agents' peer rings) publishes through the frames' HEADER words instead of TAIL,
 *    so the reader fetches one cache line per message (the frame's) instead of two (TAIL's, then
 *    the frame's), and the writer's publishing store waits for one line instead of two:
 *    a. every HEADER has bit 31 (FRAME_STAMP) set (zero in a plain ring), so a HEADER word of 0
 *       means "nothing here yet", even for a frame of length 0. Every free byte is 0: the data
 *       starts zeroed and the reader zeroes what it releases before it stores HEAD (plain stores
 *       ordered by that store), so the reader's look past the last frame sees 0 or a HEADER the
 *       writer stored in this lap, never a stale word. (Zeroing on release, after the reader's own
 *       publishing, instead of the writer clearing the next slot before publishing: the writer's
 *       publishing store then waits for one line, not sometimes two; measurements.md 08:56.)
 *    b. the writer keeps one unused 8-byte slot (it never fills the ring completely), so the
 *       position after its last frame is free (zeroed), never the oldest unreleased frame's HEADER;
 *    c. the HEADER of the first frame not yet published is held back and stored with one
 *       Atomics.store at publish, after every other byte of the batch (later frames' HEADERs are
 *       plain stores before it); the reader's Atomics.load of a HEADER pairs with it;
 *    d. TAIL is not stored (the writer keeps it locally) and the reader never reads it; HEAD,
 *       WANT_SPACE and invariants 1-6 are as in a plain ring. `readBytes` is for plain rings only.
 *
 * Zero-copy views (`reader.view()`) are Uint8Arrays over a SharedArrayBuffer, valid only until the
 * reader's next `next()`, `drain()` or `release()`. The WHATWG TextDecoder refuses shared views
 * (browsers throw; Node 20 happens to accept them): for portable code decode `reader.copy()`, or
 * use `Buffer.from(bytes.buffer, bytes.byteOffset + off, len).toString('utf8')`, which does not copy.
 */
import { RingCorruptError } from '../core/errors.js';
import { checkMagic, checkPowerOfTwo, checkRegion, checkSab, badType } from './layout.js';

/** Word indexes in the control block. Internal to the byte ring files. */
export const TAIL = 0;
export const WANT_SPACE = 1;
export const HEAD = 16;
const MAGIC = 32;
const CAPACITY = 33;
const FLAGS = 34;
/** FLAGS bit: the ring publishes through HEADER words (invariant 7). */
const STAMPED = 1;
const RING_MAGIC = 0x53485242;

/** Bytes before the data: the control block, rounded to whole cache lines. */
export const BYTE_RING_HEADER_BYTES = 256;
/** Bytes of a frame's header (HEADER and TAG words). */
export const FRAME_HEADER_BYTES = 8;
/** Flag: this frame is a fragment and more fragments of the same message follow. */
export const FRAME_MORE = 1 << 29;
/** Flag (internal): skip to the start of the data. */
export const FRAME_PAD = 1 << 30;
/** Flag (internal): set in every HEADER of a stamped ring (invariant 7a). */
export const FRAME_STAMP = 1 << 31;
/** Mask of the payload length in the HEADER word. */
export const FRAME_LENGTH_MASK = FRAME_MORE - 1;
/** Smallest and largest capacities accepted. */
export const MIN_RING_CAPACITY = 64;
export const MAX_RING_CAPACITY = 2 ** 30;

/** What a byte ring is, as it travels through postMessage (plain data plus the SAB). */
export interface ByteRingDescriptor {
  readonly kind: 'shoal:byte-ring';
  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly capacity: number;
}

/**
 * Bytes a ring of `capacity` data bytes occupies (control block included).
 *
 * @example
 * const sab = new SharedArrayBuffer(byteRingBytes(1 << 16) * 2); // two rings in one buffer
 */
export function byteRingBytes(capacity: number): number {
  checkPowerOfTwo('capacity', capacity, MIN_RING_CAPACITY, MAX_RING_CAPACITY);
  return BYTE_RING_HEADER_BYTES + capacity;
}

/**
 * The largest payload one frame of a ring of `capacity` carries: capacity / 2 minus the header.
 * Bigger messages are the caller's to fragment, marking all but the last piece FRAME_MORE.
 *
 * @example
 * maxFrameLength(1 << 16) // 32760
 */
export function maxFrameLength(capacity: number): number {
  return capacity / 2 - FRAME_HEADER_BYTES;
}

/**
 * Make a ring empty by clearing its control block only (HEAD = TAIL = 0, no writer waiting),
 * leaving its data bytes as they are: they are never read again, since a reader reads only
 * [HEAD, TAIL) and every byte there is written after this (invariants 2 and 3). For a ring in
 * fresh (zeroed) memory or one both sides have let go of; it spares a connection slot the
 * memset of its two rings (and, on a fresh buffer, the page faults of touching every page).
 *
 * @example
 * resetByteRing(slot.sab, SLOT_HEADER_BYTES, slot.ringBytes); // both sides let go (conn-slot.ts)
 */
export function resetByteRing(sab: SharedArrayBuffer, byteOffset: number, capacity: number): ByteRingDescriptor {
  checkSab('sab', sab);
  checkRegion(sab, byteOffset, byteRingBytes(capacity));
  const ctl = new Int32Array(sab, byteOffset, BYTE_RING_HEADER_BYTES / 4);
  ctl.fill(0);
  Atomics.store(ctl, CAPACITY, capacity);
  Atomics.store(ctl, MAGIC, RING_MAGIC); // pairs with: layout.ts checkMagic (in attachByteRing)
  return { kind: 'shoal:byte-ring', sab, byteOffset, capacity };
}

/**
 * Initialise a ring in `sab` at `byteOffset` (8-aligned; 64-aligned keeps TAIL and HEAD on lines
 * of their own). Do it once, before any writer or reader attaches.
 *
 * @example
 * const sab = new SharedArrayBuffer(byteRingBytes(4096));
 * const desc = initByteRing(sab, 0, 4096);
 */
export function initByteRing(
  sab: SharedArrayBuffer,
  byteOffset: number,
  capacity: number,
  options: ByteRingOptions = {},
): ByteRingDescriptor {
  checkSab('sab', sab);
  const size = byteRingBytes(capacity);
  checkRegion(sab, byteOffset, size);
  const ctl = new Int32Array(sab, byteOffset, BYTE_RING_HEADER_BYTES / 4);
  new Uint8Array(sab, byteOffset, size).fill(0);
  Atomics.store(ctl, CAPACITY, capacity);
  Atomics.store(ctl, FLAGS, options.stamped === true ? STAMPED : 0);
  Atomics.store(ctl, MAGIC, RING_MAGIC); // pairs with: layout.ts checkMagic (in attachByteRing)
  return { kind: 'shoal:byte-ring', sab, byteOffset, capacity };
}

/**
 * Allocate a ring of `capacity` data bytes (a power of two, 64 B .. 1 GiB) in its own SAB.
 *
 * @example
 * const desc = createByteRing(1 << 20);
 * worker.postMessage(desc);                 // the worker builds new ByteRingReader(desc)
 * const w = new ByteRingWriter(desc);
 */
export function createByteRing(capacity: number, options: ByteRingOptions = {}): ByteRingDescriptor {
  return initByteRing(new SharedArrayBuffer(byteRingBytes(capacity)), 0, capacity, options);
}

/** Options of {@link createByteRing} and {@link initByteRing}. */
export interface ByteRingOptions {
  /**
   * Publish through the frames' HEADER words instead of TAIL (invariant 7): one cache line a
   * message instead of two, for a reader that spins on small frames. Default false.
   */
  readonly stamped?: boolean;
}

/** The typed views both sides need, after checking the descriptor against the memory. */
export interface AttachedRing {
  readonly ctl: Int32Array;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly capacity: number;
  /** the ring publishes through HEADER words (invariant 7) */
  readonly stamped: boolean;
}

/** Check a descriptor (possibly just received through postMessage) and build the views. */
export function attachByteRing(d: ByteRingDescriptor): AttachedRing {
  if (d === null || typeof d !== 'object' || d.kind !== 'shoal:byte-ring') {
    badType('descriptor must be a ByteRingDescriptor (from createByteRing or initByteRing)');
  }
  checkSab('descriptor.sab', d.sab);
  const size = byteRingBytes(d.capacity);
  checkRegion(d.sab, d.byteOffset, size);
  const ctl = new Int32Array(d.sab, d.byteOffset, BYTE_RING_HEADER_BYTES / 4);
  checkMagic(ctl, MAGIC, RING_MAGIC, 'byte ring');
  const cap = Atomics.load(ctl, CAPACITY);
  if (cap !== d.capacity) {
    throw new RingCorruptError('descriptor', `byte ring: memory says capacity ${cap}, descriptor says ${d.capacity}`);
  }
  const dataOffset = d.byteOffset + BYTE_RING_HEADER_BYTES;
  return {
    ctl,
    bytes: new Uint8Array(d.sab, dataOffset, cap),
    words: new Int32Array(d.sab, dataOffset, cap / 4),
    capacity: cap,
    stamped: (Atomics.load(ctl, FLAGS) & STAMPED) !== 0,
  };
}
