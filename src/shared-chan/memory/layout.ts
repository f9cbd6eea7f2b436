/**
 * Shared channel — layout of a channel that lives in a SharedArrayBuffer: its control words, its
 * ring of value slots, the descriptor that carries it to another thread, and the region's
 * constructors. The lock-free transitions are in core.ts, how a value sits in a slot
 * in value.ts, the API in channel.ts, the per-thread parking in
 * waiters.ts.
 *
 * Runs on any thread (every thread that holds the channel attaches to the same words). Owns
 * `sharedChanBytes(...)` bytes of a SAB: the control block, then the slots.
 *
 * Control block (Int32 words at `byteOffset`; ENQ and DEQ each on their own 128-byte pair of
 * cache lines, the parking words on one that is only written when somebody parks):
 *
 * | idx | name     | written by                                                   | waited on by        | meaning                                         |
 * |-----|----------|--------------------------------------------------------------|---------------------|-------------------------------------------------|
 * | 0   | ENQ      | putters (compareExchange), close (Atomics.or)                | —                   | bits 0..29 next position to fill; bit 30 CLOSED |
 * | 32  | DEQ      | takers and sliding evictions (compareExchange)               | —                   | bits 0..29 next position to claim               |
 * | 64  | TAKERS   | handles with parked takes (store 1), putters (exchange 0)    | —                   | 1: someone may sleep on PUT_SEQ: bump it        |
 * | 65  | PUTTERS  | handles with parked puts (store 1), takers (exchange 0)      | —                   | 1: someone may sleep on TAKE_SEQ: bump it       |
 * | 66  | PUT_SEQ  | putters (add, after winning TAKERS 1 -> 0), close            | takers (waitAsync)  | "a value arrived, or closed"                    |
 * | 67  | TAKE_SEQ | takers (add, after winning PUTTERS 1 -> 0), close            | putters (waitAsync) | "room appeared, or the channel closed"          |
 * | 68  | SHUT     | close (store 1, after setting CLOSED in ENQ)                 | —                   | 1: CLOSED is set (a read-mostly copy of it)     |
 * | 96  | MAGIC    | initSharedChan, once                                         | —                   | 0x5348_4332 ('SHC2')                            |
 * | 97  | CAPACITY | initSharedChan, once                                         | —                   | buffer size n (1 .. MAX_SHARED_CAPACITY)        |
 * | 98  | KIND     | initSharedChan, once                                         | —                   | FIXED=1 DROPPING=2 SLIDING=3                    |
 *
 * Slots: `slots` of them (`slotsFor`: the capacity itself for a fixed or dropping buffer of a
 * power-of-two capacity, else nextPow2(2 * capacity)) at `byteOffset + CONTROL_BYTES`, slot i at
 * `i * (16 + slotBytes)` (slotBytes = valueBytes rounded up to 8), each four Int32 words then
 * the payload:
 *
 * | word | name   | written by                                     | meaning                                                |
 * |------|--------|------------------------------------------------|--------------------------------------------------------|
 * | 0    | SEQ    | the putter of pos (store), its taker (store)   | pos: free for pos; pos+1: holds pos; pos+slots: released |
 * | 1    | LEN    | the putter (plain)                             | payload bytes (codec frame) or chars (latin1 string)   |
 * | 2    | TAG    | the putter (plain)                             | how the value is stored (value.ts, ../value-tag.ts)    |
 * | 3    | INLINE | the putter (plain)                             | the value of a TAG_INT slot                            |
 *
 * Positions count puts (ENQ) and takes (DEQ) modulo 2^30 and are compared as 30-bit signed
 * differences (`dist`); a position `p` lives in slot `p & (slots - 1)`.
 *
 * Invariants:
 * 1. Vyukov's bounded MPMC queue: a putter owns position p once its compareExchange moved ENQ
 *    from p to p+1, fills the slot with plain stores, then publishes with Atomics.store(SEQ,
 *    p+1); a taker owns p once its compareExchange moved DEQ from p to p+1 (only after it loaded
 *    SEQ == p+1, which orders the plain stores before its reads), reads, then hands the slot back
 *    with Atomics.store(SEQ, p + slots). Every value is taken at most once; positions are FIFO.
 * 2. Capacity (fixed, dropping): a put to position p commits only when position p - CAPACITY
 *    has been released (its SEQ reads p - CAPACITY + slots). So the values put and not yet
 *    released, claimed ones included, never exceed CAPACITY: a producer cannot run more than the
 *    buffer ahead. The check reads a slot, not a cached copy of DEQ: a cached position can lag by
 *    2^30 puts (minutes at full speed) and would then wrap; a slot within one lap cannot.
 * 3. Sliding: a put commits when ENQ - DEQ <= CAPACITY (read ENQ, then DEQ), so at most
 *    CAPACITY + 1 positions are between DEQ and ENQ; after its commit it evicts while
 *    ENQ - DEQ > CAPACITY. An eviction of position d is a compareExchange of DEQ from d to d+1
 *    made only after reading ENQ - d > CAPACITY: when it succeeds the channel held more than
 *    CAPACITY values at that instant, so a race with a taker never drops a value that did not
 *    have to go (the taker's compareExchange moves DEQ first, and the eviction fails and looks
 *    again).
 * 4. A taker (or a putter) can find its slot still held by a counterpart inside its synchronous
 *    section: a putter between its compareExchange and its SEQ store (the taker answers "empty
 *    for now", and the putter's wake follows), or a taker between claim and release one lap
 *    behind (the putter spins; with `slots = nextPow2(2 * capacity)` that needs a stall of a
 *    whole buffer's worth of other takes, and with `slots = capacity` it cannot happen: the slot
 *    of p is the slot of p - capacity, so a slot not yet released means "full" by invariant 2).
 *    Both sections are a few hundred instructions.
 * 5. Close is Atomics.or(ENQ, CLOSED): a putter's compareExchange expects ENQ without the bit, so
 *    no value enters after close; CLOSED is never cleared and ENQ's position is frozen from then
 *    on. A take that finds its slot empty reports "closed and drained" only when it then reads
 *    CLOSED and ENQ's position equal to DEQ: every value put has been claimed by some taker.
 *    It looks at ENQ only once SHUT reads 1 (close stores SHUT after the Atomics.or and before its
 *    wake-ups, so a taker that read SHUT 0 before parking is woken by the bump that follows): a
 *    consumer waiting on an empty channel polls without reading ENQ, whose line the producer
 *    writes on every put (reading it made that line cross the cores twice per value).
 * 6. Parking is Dekker's pattern, as in doorbell.ts: before every wait a handle stores TAKERS = 1,
 *    then loads PUT_SEQ, then re-tries, then waits on that PUT_SEQ value; a putter publishes its
 *    SEQ, then loads TAKERS and, when it wins exchange(TAKERS, 0) == 1, bumps PUT_SEQ and
 *    notifies. Either the re-try sees the value or the putter sees the flag. The same holds for
 *    PUTTERS / TAKE_SEQ / the taker's release store. One notify per sleep, not one per put.
 * 7. A wake-up only says "look again": the woken thread commits by its own compareExchange
 *    (op.ts, invariant 5). No thread ever hands a value to another thread's handler.
 * 8. close() sets CLOSED then bumps and notifies both SEQ words, so every parked thread re-checks.
 */
import { RingCorruptError } from '../../core/errors.js';
import { MAX_VALUE_BYTES, type SharedChanDescriptor, type SharedKind } from '../api.js';
import { alignUp, badType, checkInt, checkMagic, checkRegion, checkSab, outOfRange } from '../../shm/layout.js';

export const ENQ = 0;
export const DEQ = 32;
export const TAKERS = 64;
export const PUTTERS = 65;
export const PUT_SEQ = 66;
export const TAKE_SEQ = 67;
export const SHUT = 68;
const MAGIC = 96;
const CAPACITY = 97;
const KIND = 98;
const CHAN_MAGIC = 0x53484332;

/** Bytes of the control block in front of the slots. */
export const CONTROL_BYTES = 512;
/** Bytes of a slot's header (SEQ, LEN, TAG, INLINE). */
export const SLOT_HEADER_BYTES = 16;
/** ENQ bit 30. */
export const CLOSED = 1 << 30;
/** Positions: bits 0..29 of ENQ and DEQ, and of every SEQ. */
export const POS_MASK = CLOSED - 1;

/** `a - b` for positions modulo 2^30, as a signed 30-bit number. */
export function dist(a: number, b: number): number {
  return ((a - b) << 2) >> 2;
}

/** KIND values (numbers: compared on every put). */
export const FIXED = 1;
export const DROPPING = 2;
export const SLIDING = 3;

/** Largest buffer of a shared channel (2 * capacity slots, at most 2^24). */
export const MAX_SHARED_CAPACITY = 2 ** 23;
/** Largest region a channel may ask for (keeps a typo from allocating the machine's memory). */
export const MAX_SHARED_CHAN_BYTES = 2 ** 30;

// The kind and the descriptor are shared with the port channel and the facade (../api.ts).
export { DEFAULT_VALUE_BYTES, MAX_VALUE_BYTES, type SharedChanDescriptor, type SharedKind } from '../api.js';

const KINDS: Record<SharedKind, number> = { fixed: FIXED, dropping: DROPPING, sliding: SLIDING };

/**
 * Slots of the ring for a channel of `capacity` (invariants 2, 3 and 4): exactly `capacity` for a
 * fixed or dropping buffer whose capacity is a power of two (then the slot of position p is the
 * slot of p - capacity, and one SEQ load answers both "is there room" and "is my slot free"),
 * else `nextPow2(2 * capacity)`.
 */
export function slotsFor(capacity: number, buffer: SharedKind): number {
  if (buffer !== 'sliding' && capacity >= 2 && (capacity & (capacity - 1)) === 0) return capacity;
  let n = 2;
  while (n < 2 * capacity) n *= 2;
  return n;
}

/**
 * Bytes a channel of `capacity` values of at most `valueBytes` encoded bytes occupies.
 *
 * @example
 * sharedChanBytes(1000, 248, 'fixed') // 512 + 2048 slots of 264 bytes (1024: 1024 slots)
 */
export function sharedChanBytes(capacity: number, valueBytes: number, buffer: SharedKind = 'sliding'): number {
  checkInt('capacity', capacity, 1, MAX_SHARED_CAPACITY);
  checkInt('valueBytes', valueBytes, 8, MAX_VALUE_BYTES);
  const n = CONTROL_BYTES + slotsFor(capacity, buffer) * (SLOT_HEADER_BYTES + alignUp(valueBytes, 8));
  if (n > MAX_SHARED_CHAN_BYTES) {
    outOfRange(
      `a shared channel of ${capacity} values of ${valueBytes} bytes needs ${n} bytes, more than ${MAX_SHARED_CHAN_BYTES}`,
    );
  }
  return n;
}

/**
 * Initialise a channel region in `sab` at `byteOffset` (8-aligned). Do it once, before any
 * thread attaches.
 *
 * @example
 * const sab = new SharedArrayBuffer(sharedChanBytes(64, 248));
 * const d = initSharedChan(sab, 0, 'fixed', 64, 248);
 */
export function initSharedChan(
  sab: SharedArrayBuffer,
  byteOffset: number,
  buffer: SharedKind,
  capacity: number,
  valueBytes: number,
): SharedChanDescriptor {
  checkSab('sab', sab);
  if (!(buffer in KINDS)) badType(`buffer must be 'fixed', 'dropping' or 'sliding', got ${String(buffer)}`);
  const size = sharedChanBytes(capacity, valueBytes, buffer);
  checkRegion(sab, byteOffset, size);
  if (byteOffset % 8 !== 0) outOfRange(`byteOffset must be a multiple of 8, got ${byteOffset}`);
  new Uint8Array(sab, byteOffset, size).fill(0);
  const w = new Int32Array(sab, byteOffset, CONTROL_BYTES / 4);
  const slots = slotsFor(capacity, buffer);
  const stride = (SLOT_HEADER_BYTES + alignUp(valueBytes, 8)) / 4;
  const all = new Int32Array(sab, byteOffset + CONTROL_BYTES, (size - CONTROL_BYTES) / 4);
  for (let i = 0; i < slots; i++) all[i * stride] = i; // invariant 1: slot i is free for position i
  Atomics.store(w, CAPACITY, capacity);
  Atomics.store(w, KIND, KINDS[buffer]);
  Atomics.store(w, MAGIC, CHAN_MAGIC); // pairs with: layout.ts checkMagic (in attachSharedChan)
  return Object.freeze({ kind: 'shoal:shared-chan', sab, byteOffset, buffer, capacity, valueBytes });
}

/** True when `x` has the shape of a SharedChanDescriptor (checked fully by attachSharedChan). */
export function isSharedChanDescriptor(x: unknown): x is SharedChanDescriptor {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'shoal:shared-chan';
}

/** The views one thread needs on a channel region. */
export interface AttachedChan {
  /** the control block */
  readonly ctl: Int32Array;
  /** the slots, as words, bytes and float64s (all from the first slot) */
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly f64: Float64Array;
  readonly slots: number;
  /** words per slot */
  readonly stride: number;
  readonly kind: number;
  readonly capacity: number;
  readonly valueBytes: number;
}

/**
 * Validate a descriptor (received from another thread) against the memory it points at.
 * Throws TypeError / RangeError for a malformed descriptor, RingCorruptError ('descriptor') when
 * the memory is not a channel of that shape.
 *
 * @example
 * const { ctl, words } = attachSharedChan(d);
 */
export function attachSharedChan(d: SharedChanDescriptor): AttachedChan {
  if (!isSharedChanDescriptor(d))
    badType('descriptor must be a SharedChanDescriptor (from sharedChan(...).descriptor())');
  checkSab('descriptor.sab', d.sab);
  if (!(d.buffer in KINDS))
    badType(`descriptor.buffer must be 'fixed', 'dropping' or 'sliding', got ${String(d.buffer)}`);
  const size = sharedChanBytes(d.capacity, d.valueBytes, d.buffer);
  checkRegion(d.sab, d.byteOffset, size);
  if (d.byteOffset % 8 !== 0) outOfRange(`descriptor.byteOffset must be a multiple of 8, got ${d.byteOffset}`);
  const ctl = new Int32Array(d.sab, d.byteOffset, CONTROL_BYTES / 4);
  checkMagic(ctl, MAGIC, CHAN_MAGIC, 'shared channel');
  const kind = Atomics.load(ctl, KIND);
  if (Atomics.load(ctl, CAPACITY) !== d.capacity || kind !== KINDS[d.buffer]) {
    throw new RingCorruptError(
      'descriptor',
      'shared channel: memory and descriptor disagree on capacity / buffer kind',
    );
  }
  const base = d.byteOffset + CONTROL_BYTES;
  const len = size - CONTROL_BYTES;
  return {
    ctl,
    words: new Int32Array(d.sab, base, len / 4),
    bytes: new Uint8Array(d.sab, base, len),
    f64: new Float64Array(d.sab, base, len / 8),
    slots: slotsFor(d.capacity, d.buffer),
    stride: (SLOT_HEADER_BYTES + alignUp(d.valueBytes, 8)) / 4,
    kind,
    capacity: d.capacity,
    valueBytes: d.valueBytes,
  };
}
