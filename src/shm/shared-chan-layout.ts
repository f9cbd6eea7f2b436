/**
 * Shared channel — layout of a channel that lives in a SharedArrayBuffer: its control words, the
 * MPMC slot queue that holds its values, the descriptor that carries it to another thread, and
 * the region's constructors. The channel logic is in shared-chan.ts; the per-thread parking in
 * shared-chan-waiters.ts.
 *
 * Runs on any thread (every thread that holds the channel attaches to the same words). Owns
 * `sharedChanBytes(...)` bytes of a SAB: the control block, then a slot queue (slot-queue.ts).
 *
 * Control block (Int32 words at `byteOffset`; the hot STATE word has its own cache line, the
 * parking words share one that is only written when somebody parks):
 *
 * | idx | name     | written by                                                        | waited on by        | meaning                                           |
 * |-----|----------|-------------------------------------------------------------------|---------------------|---------------------------------------------------|
 * | 0   | STATE    | putters (compareExchange +1), takers (Atomics.sub 1), close (or)  | —                   | bits 0..29 COUNT: values held; bit 30 CLOSED       |
 * | 16  | TAKERS   | handles with parked takes (store 1), putters (exchange 0)         | —                   | 1: someone may sleep on PUT_SEQ: bump it           |
 * | 17  | PUTTERS  | handles with parked puts (store 1), takers (exchange 0)           | —                   | 1: someone may sleep on TAKE_SEQ: bump it          |
 * | 18  | PUT_SEQ  | putters (add, after winning TAKERS 1 -> 0), close, the take that drains a closed channel | takers (waitAsync) | "a value arrived, or closed" |
 * | 19  | TAKE_SEQ | takers (add, after winning PUTTERS 1 -> 0), close                 | putters (waitAsync) | "room appeared, or the channel closed"             |
 * | 32  | MAGIC    | initSharedChan, once                                              | —                   | 0x5348_4348 ('SHCH')                               |
 * | 33  | CAPACITY | initSharedChan, once                                              | —                   | buffer size n (1 .. MAX_SHARED_CAPACITY)           |
 * | 34  | KIND     | initSharedChan, once                                              | —                   | FIXED=1 DROPPING=2 SLIDING=3                       |
 *
 * Values: a slot queue at `byteOffset + CONTROL_BYTES` with `slots = nextPow2(2 * capacity)` slots
 * of `valueBytes` payload bytes; each slot holds one value encoded by the codec (codec.ts).
 *
 * Invariants:
 * 1. COUNT counts tokens: a putter takes one (compareExchange COUNT -> COUNT + 1, only while
 *    CLOSED is clear) before it reserves a slot, and a taker gives one back (Atomics.sub) after it
 *    released its slot. So COUNT >= values in the queue, and a fixed channel never holds more than
 *    CAPACITY values: a producer cannot run more than the buffer ahead of its consumers.
 * 2. COUNT exceeds CAPACITY (by exactly 1) only while a sliding put evicts the oldest value: it
 *    takes token CAPACITY + 1 with compareExchange (so one slider at a time), claims and releases
 *    the oldest slot, then gives one token back. So at most CAPACITY + 1 values are held.
 * 2a. Consumers release slots out of order: one stalled between `claim()` and `release()` keeps
 *    its slot while others take and return tokens, so producers can lap the queue onto it. Then a
 *    token holder's `reserve()` finds that slot busy and spins until the claimer (inside its
 *    synchronous claim -> decode -> release section) releases it. `slots = nextPow2(2 * capacity)`
 *    makes that need a stall of a whole buffer's worth of other takes.
 * 3. The put's compareExchange on STATE is its commit point and is refused once CLOSED is set: no
 *    value enters after close. CLOSED is never cleared. A take that finds the queue empty reports
 *    "closed and drained" only when it reads CLOSED with COUNT == 0 (no value held or in flight).
 * 4. Parking is Dekker's pattern, as in doorbell.ts: before every wait a handle stores TAKERS = 1,
 *    then loads PUT_SEQ, then re-tries, then waits on that PUT_SEQ value; a putter publishes its
 *    slot, then loads TAKERS and, when it wins exchange(TAKERS, 0) == 1, bumps PUT_SEQ and
 *    notifies every waiter. Either the re-try sees the value or the putter sees the flag. The
 *    exchange makes one notify per sleep, not one per put while the sleeper is still waking (a
 *    notify costs microseconds; the wake-up 30-70 µs). Every woken handle that still waits stores
 *    the flag again before its next wait. The same holds for PUTTERS / TAKE_SEQ / space.
 * 5. A wake-up only says "look again": the woken thread commits by its own atomic take or put
 *    (op.ts, invariant 5). No thread ever hands a value to another thread's handler.
 * 6. close() sets CLOSED then bumps and notifies both SEQ words, so every parked thread re-checks.
 */
import { RingCorruptError } from '../core/errors.js';
import { alignUp, badType, checkInt, checkMagic, checkRegion, checkSab, outOfRange } from './layout.js';
import { initSlotQueue, slotQueueBytes, type SlotQueueDescriptor } from './slot-queue.js';

export const STATE = 0;
export const TAKERS = 16;
export const PUTTERS = 17;
export const PUT_SEQ = 18;
export const TAKE_SEQ = 19;
const MAGIC = 32;
const CAPACITY = 33;
const KIND = 34;
const CHAN_MAGIC = 0x53484348;

/** Bytes of the control block in front of the slot queue. */
export const CONTROL_BYTES = 192;
/** STATE bit 30. */
export const CLOSED = 1 << 30;
/** STATE bits 0..29. */
export const COUNT_MASK = CLOSED - 1;

/** KIND values (numbers: compared on every put). */
export const FIXED = 1;
export const DROPPING = 2;
export const SLIDING = 3;

/** Largest buffer of a shared channel (the slot queue's limit is 2^24 slots). */
export const MAX_SHARED_CAPACITY = 2 ** 23;
/** Default payload bytes per value: an encoded value larger than this is refused at the put. */
export const DEFAULT_VALUE_BYTES = 248;
/** Largest `valueBytes`. */
export const MAX_VALUE_BYTES = 1 << 20;
/** Largest region a channel may ask for (keeps a typo from allocating the machine's memory). */
export const MAX_SHARED_CHAN_BYTES = 2 ** 30;

/** The buffer kinds a shared channel supports (no unbounded, no rendezvous: see sharedChan). */
export type SharedKind = 'fixed' | 'dropping' | 'sliding';

/**
 * What a shared channel is, as it travels to another thread (postMessage or a task argument):
 * plain data plus the SharedArrayBuffer, which structured clone shares rather than copies.
 */
export interface SharedChanDescriptor {
  readonly kind: 'shoal:shared-chan';
  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly buffer: SharedKind;
  readonly capacity: number;
  readonly valueBytes: number;
}

const KINDS: Record<SharedKind, number> = { fixed: FIXED, dropping: DROPPING, sliding: SLIDING };

/** Slots of the value queue for a channel of `capacity` (invariants 2 and 2a). */
export function slotsFor(capacity: number): number {
  let n = 2;
  while (n < 2 * capacity) n *= 2;
  return n;
}

/**
 * Bytes a channel of `capacity` values of at most `valueBytes` encoded bytes occupies.
 *
 * @example
 * sharedChanBytes(1024, 248) // 192 + slot queue of 2048 slots
 */
export function sharedChanBytes(capacity: number, valueBytes: number): number {
  checkInt('capacity', capacity, 1, MAX_SHARED_CAPACITY);
  checkInt('valueBytes', valueBytes, 8, MAX_VALUE_BYTES);
  const n = CONTROL_BYTES + slotQueueBytes(slotsFor(capacity), alignUp(valueBytes, 8));
  if (n > MAX_SHARED_CHAN_BYTES) {
    outOfRange(`a shared channel of ${capacity} values of ${valueBytes} bytes needs ${n} bytes, more than ${MAX_SHARED_CHAN_BYTES}`);
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
  const size = sharedChanBytes(capacity, valueBytes);
  checkRegion(sab, byteOffset, size);
  const w = new Int32Array(sab, byteOffset, CONTROL_BYTES / 4);
  w.fill(0);
  initSlotQueue(sab, byteOffset + CONTROL_BYTES, slotsFor(capacity), alignUp(valueBytes, 8));
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
  readonly words: Int32Array;
  readonly queue: SlotQueueDescriptor;
  readonly kind: number;
}

/**
 * Validate a descriptor (received from another thread) against the memory it points at.
 * Throws TypeError / RangeError for a malformed descriptor, RingCorruptError ('descriptor') when
 * the memory is not a channel of that shape.
 *
 * @example
 * const { words, queue } = attachSharedChan(d);
 */
export function attachSharedChan(d: SharedChanDescriptor): AttachedChan {
  if (!isSharedChanDescriptor(d)) badType('descriptor must be a SharedChanDescriptor (from sharedChan(...).descriptor())');
  checkSab('descriptor.sab', d.sab);
  if (!(d.buffer in KINDS)) badType(`descriptor.buffer must be 'fixed', 'dropping' or 'sliding', got ${String(d.buffer)}`);
  const size = sharedChanBytes(d.capacity, d.valueBytes);
  checkRegion(d.sab, d.byteOffset, size);
  const words = new Int32Array(d.sab, d.byteOffset, CONTROL_BYTES / 4);
  checkMagic(words, MAGIC, CHAN_MAGIC, 'shared channel');
  const kind = Atomics.load(words, KIND);
  if (Atomics.load(words, CAPACITY) !== d.capacity || kind !== KINDS[d.buffer]) {
    throw new RingCorruptError('descriptor', 'shared channel: memory and descriptor disagree on capacity / buffer kind');
  }
  const slots = slotsFor(d.capacity);
  const slotBytes = alignUp(d.valueBytes, 8);
  const queue: SlotQueueDescriptor = { kind: 'shoal:slot-queue', sab: d.sab, byteOffset: d.byteOffset + CONTROL_BYTES, slots, slotBytes };
  return { words, queue, kind };
}
