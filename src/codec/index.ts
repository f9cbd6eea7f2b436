/**
 * The value codec: how every value crosses between shoal's threads (task arguments, results,
 * errors, channel values). A binary format with fast paths for the JSON shapes and byte arrays,
 * and hand-written tags for the rest of what structured clone carries. The wire format (a table
 * of tags) is in format.ts; the rules for odd objects in classify.ts.
 *
 * Runs on any thread. Owns, per thread, one scratch FrameWriter and one FrameReader, behind
 * `encode` / `encodeInto` / `decode`. Internal: not re-exported from src/index.ts (users pass
 * values to shoal's APIs and never see frames).
 *
 * What arrives, compared with postMessage (structured clone) on Node 20:
 * - the same for primitives (-0, NaN, lone surrogates included), plain objects, arrays (holes
 *   kept), Map, Set, Date, RegExp, BigInt, boxed primitives, ArrayBuffer, typed arrays, DataView,
 *   cycles and shared references, class instances (copied as plain objects), null-prototype
 *   objects (arrive with Object.prototype);
 * - better for errors: name, message, stack, cause, `errors` (AggregateError), `code` and every
 *   own enumerable property arrive, and shoal's error classes (CancelledError...) keep their
 *   class; other subclasses arrive as their nearest built-in class with their `name`;
 * - better for Buffer: it arrives as a Buffer (structured clone gives a plain Uint8Array);
 * - different for views: a typed array or Buffer carries only the bytes it shows, into a fresh
 *   ArrayBuffer of its own (structured clone copies the whole underlying buffer, e.g. all 8 KiB
 *   of Node's Buffer pool for a 3-byte Buffer). Two views over one ArrayBuffer therefore arrive
 *   over two buffers; the same view object twice arrives as one object;
 * - not carried: named (non-index) properties on arrays (structured clone carries them); an
 *   exotic object the brand checks do not know is copied as a plain object instead of refused;
 * - by reference, through a side table the caller sends with postMessage: SharedArrayBuffer and
 *   views over one (shared, as structured clone shares them), MessagePort, Blob, KeyObject,
 *   WebAssembly.Module and other Node host objects. Without a side table they are refused;
 * - refused, with a TypeError (code 'ERR_SHOAL_UNCLONEABLE', `path` like 'args[1].cb') and
 *   nothing written: functions, symbols, Promise, Proxy, WeakMap, WeakSet, WeakRef, generators,
 *   iterators... (everything postMessage refuses). Nesting deeper than 1000 levels: RangeError.
 *
 * Decoding garbage (random, truncated or bit-flipped frames) throws CodecError
 * ('ERR_SHOAL_CODEC'): never a hang, a crash or an allocation beyond the frame's size.
 */
import { rangeError, typeError } from '../core/args.js';
import { FrameReader, type ReadOptions } from './reader.js';
import { FrameWriter, type ValueOptions } from './writer.js';

export { FrameReader, setObjectReviver, type ReadOptions } from './reader.js';
export { FrameWriter, type ValueOptions } from './writer.js';
export { MAX_DEPTH } from './format.js';

const writer = new FrameWriter();
let writerBusy = false;
const reader = new FrameReader();

/** Run `fn` on this thread's writer, or on a fresh one when called from inside an encode. */
function withWriter<T>(fn: (w: FrameWriter) => T): T {
  // A getter on a value being encoded may itself encode; it must not clobber our scratch.
  if (writerBusy) return fn(new FrameWriter());
  writerBusy = true;
  try {
    return fn(writer);
  } finally {
    writerBusy = false;
  }
}

/**
 * Encode one value into this thread's scratch buffer. The returned view is valid until the next
 * `encode`/`encodeInto`/`measure` on this thread: copy it, or use it at once.
 *
 * @example
 * const bytes = encode({ id: 1, tags: ['a'] });
 * port.postMessage(bytes.slice());
 */
export function encode(value: unknown, options?: ValueOptions): Uint8Array {
  // Not through withWriter: this is the hot path, and a closure per call shows in profiles.
  if (writerBusy) return new FrameWriter().reset(true).value(value, options).bytes();
  writerBusy = true;
  try {
    return writer.reset(true).value(value, options).bytes();
  } finally {
    writerBusy = false;
  }
}

/**
 * Encode one value straight into `dest[offset, end)`, e.g. a region reserved in a ring. Returns
 * the bytes written, or -1 when the frame needs more room (`measure(value)` gives the exact
 * size). Writes nothing at all on -1 or when the value is refused (TypeError
 * 'ERR_SHOAL_UNCLONEABLE'), and never outside [offset, end).
 *
 * @example
 * const n = encodeInto(msg, ringBytes, at, at + room);
 * if (n < 0) waitForRoom(); else publish(at, n);
 */
export function encodeInto(
  value: unknown,
  dest: Uint8Array,
  offset = 0,
  end: number = dest.length,
  options?: ValueOptions,
): number {
  checkRange(dest, offset, end);
  return withWriter((w) => {
    const n = w.reset().value(value, options).writeTo(dest, offset, end);
    w.reset(); // let go of the caller's payloads now rather than at the next call
    return n;
  });
}

/**
 * The exact size `encode(value)` would produce (it encodes, so it refuses what encode refuses).
 * For a caller that must reserve room before encoding; prefer `encodeInto` and retry on -1.
 *
 * @example
 * const need = measure(value); // then reserve `need` bytes and encodeInto them
 */
export function measure(value: unknown, options?: ValueOptions): number {
  return withWriter((w) => {
    const n = w.reset().value(value, options).size;
    w.reset();
    return n;
  });
}

/**
 * Decode the value in `bytes[offset, offset + length)`, which must hold exactly one value item
 * (as written by `encode`/`encodeInto`). Works on views of a SharedArrayBuffer; the result never
 * aliases `bytes`. Throws CodecError ('ERR_SHOAL_CODEC') for anything but a valid frame.
 *
 * @example
 * const v = decode(ringBytes, at, n);
 */
export function decode(
  bytes: Uint8Array,
  offset = 0,
  length: number = bytes.length - offset,
  options?: ReadOptions,
): unknown {
  const r = reader.reset(bytes, offset, length);
  const v = r.value(options);
  r.finish();
  return v;
}

function checkRange(dest: Uint8Array, offset: number, end: number): void {
  if (!(dest instanceof Uint8Array)) throw typeError('dest must be a Uint8Array');
  if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end < offset || end > dest.length) {
    throw rangeError(`offset ${offset} and end ${end} must satisfy 0 <= offset <= end <= ${dest.length}`);
  }
}
