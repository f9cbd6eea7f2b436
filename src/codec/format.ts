/**
 * The value codec's wire format: tags, typed-array kinds, limits, and the small errors both halves
 * throw. Encoder: writer.ts. Decoder: reader.ts. Facade: index.ts.
 *
 * Runs on any thread. Owns no memory: the codec touches shared memory only as the bytes it is
 * handed (a view of a ring's SharedArrayBuffer); it reads and writes no Atomics words, so there is
 * no table of words here. Publishing a frame is the ring's job.
 *
 * A frame is a sequence of items, each either a raw number written by the frame's owner
 * (FrameWriter.u8/u32/f64, fixed little-endian) or a *value item*:
 *
 *   value item = HEADER byte, then one tagged value
 *   HEADER     = 0xB0 | flags        flags: 1 = the value uses REF tags (the decoder then records
 *                                    every object it builds, in order); other bits must be 0
 *
 * Tagged values (`vu` = unsigned LEB128 varint, at most 2^53 - 1; `str` = a tagged string value):
 *
 * | tag  | name         | payload                                   | decodes to                      |
 * |------|--------------|-------------------------------------------|---------------------------------|
 * | 0x00 | UNDEFINED    | —                                         | undefined                       |
 * | 0x01 | NULL         | —                                         | null                            |
 * | 0x02 | FALSE        | —                                         | false                           |
 * | 0x03 | TRUE         | —                                         | true                            |
 * | 0x04 | INT8         | i8                                        | number                          |
 * | 0x05 | INT32        | i32 LE                                    | number                          |
 * | 0x06 | FLOAT64      | f64 LE                                    | number (-0, NaN, ±Infinity too) |
 * | 0x07 | LATIN1       | vu n, n bytes, one char each              | string                          |
 * | 0x08 | UTF8         | vu n, n bytes of well-formed UTF-8        | string                          |
 * | 0x09 | UTF16        | vu n (even), n bytes UTF-16LE             | string (lone surrogates kept)   |
 * | 0x0A | ARRAY        | vu length, items until length is reached  | Array; an item is a value or    |
 * |      |              |                                           | HOLES                           |
 * | 0x0B | HOLES        | vu k (>= 1)   (inside ARRAY only)         | k missing elements              |
 * | 0x0C | OBJECT       | vu n, n × str key, n × value              | plain object (keys first: the   |
 * |      |              |                                           | reader finds its shape by them) |
 * | 0x0D | BYTES        | payload                                   | Uint8Array (own ArrayBuffer)    |
 * | 0x0E | BUFFER       | payload                                   | Buffer (own ArrayBuffer)        |
 * | 0x0F | ARRAY_BUFFER | payload                                   | ArrayBuffer                     |
 * | 0x10 | TYPED        | u8 kind, payload                          | typed array / DataView (KIND_*) |
 * | 0x11 | DATE         | f64 LE time value                         | Date                            |
 * | 0x12 | REGEXP       | str source, str flags                     | RegExp (lastIndex 0)            |
 * | 0x13 | BIGINT       | u8 sign (0 or 1), str hex digits          | bigint                          |
 * | 0x14 | MAP          | vu n, n × (key, value)                    | Map                             |
 * | 0x15 | SET          | vu n, n × value                           | Set                             |
 * | 0x16 | BOXED        | one primitive value (number, string,      | Number/String/Boolean/BigInt    |
 * |      |              | boolean or bigint)                        | wrapper object                  |
 * | 0x17 | ERROR        | u8 base (ERR_*), [str class name if       | Error with the base's prototype |
 * |      |              | ERR_REGISTERED], vu n, n × (str key,      | (or a shoal error class), each  |
 * |      |              | u8 enumerable, value)                     | prop defined own                |
 * | 0x18 | REF          | vu id                                     | the id-th object of this value  |
 * | 0x19 | SIDE         | vu index                                  | side[index] (by reference)      |
 * | 0x1A | SIDE_VIEW    | u8 kind, vu index, vu byteOffset, vu len  | view over side[index]           |
 *
 * `payload` = vu n, u8 pad (0..7), pad zero bytes, n bytes. Writers pad large payloads so their
 * bytes start 8-aligned in memory: copies into and out of a SharedArrayBuffer are byte-by-byte
 * when source and destination alignments differ (measured: 25 µs instead of 4 µs for 64 KiB).
 *
 * Object ids (for REF) count every object-valued tag (ARRAY, OBJECT, BYTES, BUFFER, ARRAY_BUFFER,
 * TYPED, DATE, REGEXP, MAP, SET, BOXED, ERROR, SIDE, SIDE_VIEW) in the order their tag is met, an
 * object before its children, so cycles resolve.
 *
 * Invariants:
 * 1. Every length is validated against the bytes left before anything is allocated for it, and an
 *    object's element count is bounded by the bytes left (each element takes >= 1 byte), so a
 *    frame of n bytes never makes the decoder allocate much more than O(n).
 * 2. Nesting deeper than MAX_DEPTH is refused by the encoder (RangeError) and by the decoder
 *    (CodecError), so anything the encoder accepts decodes.
 * 3. Decoded values never alias the frame's memory: every byte payload is copied out, so a ring
 *    may reuse its region as soon as `decode` returns.
 * 4. Multi-byte numbers are little-endian; typed array payloads are the host's bytes, which is
 *    little-endian on every platform Node supports.
 */
import { typeError } from '../core/args.js';
import { CodecError } from '../core/errors.js';

export const HEADER = 0xb0;
export const HEADER_MASK = 0xf0;
export const FLAG_REFS = 0x01;

export const T_UNDEFINED = 0x00;
export const T_NULL = 0x01;
export const T_FALSE = 0x02;
export const T_TRUE = 0x03;
export const T_INT8 = 0x04;
export const T_INT32 = 0x05;
export const T_FLOAT64 = 0x06;
export const T_LATIN1 = 0x07;
export const T_UTF8 = 0x08;
export const T_UTF16 = 0x09;
export const T_ARRAY = 0x0a;
export const T_HOLES = 0x0b;
export const T_OBJECT = 0x0c;
export const T_BYTES = 0x0d;
export const T_BUFFER = 0x0e;
export const T_ARRAY_BUFFER = 0x0f;
export const T_TYPED = 0x10;
export const T_DATE = 0x11;
export const T_REGEXP = 0x12;
export const T_BIGINT = 0x13;
export const T_MAP = 0x14;
export const T_SET = 0x15;
export const T_BOXED = 0x16;
export const T_ERROR = 0x17;
export const T_REF = 0x18;
export const T_SIDE = 0x19;
export const T_SIDE_VIEW = 0x1a;

/** TYPED / SIDE_VIEW kinds. Index = kind byte. DataView is last. */
export const VIEW_CTORS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;
export type ViewCtor = (typeof VIEW_CTORS)[number];
export const KIND_DATAVIEW = VIEW_CTORS.length - 1;

/** ERROR base classes. Index = base byte. ERR_REGISTERED: a shoal error class, named after it. */
export const ERROR_BASES = [
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError,
] as const;
export const ERR_REGISTERED = ERROR_BASES.length;

/**
 * Deepest nesting carried. Both halves recurse once per level; 1000 levels stay far below Node's
 * default stack (~1 MB) even when the codec is called from a deep stack itself.
 */
export const MAX_DEPTH = 1000;

/** Largest length a varint may carry (keeps arithmetic on lengths exact). */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** A corrupt-frame error for the decoder. */
export function corrupt(what: string, at: number): CodecError {
  return new CodecError(`corrupt codec frame: ${what} at byte ${at}`);
}

/** The refusal the encoder throws for a value postMessage could not carry either. */
export function uncloneable(path: string, what: string): TypeError {
  return Object.assign(
    typeError(`cannot send ${shortPath(path)} to another thread: ${what}`, 'ERR_SHOAL_UNCLONEABLE'),
    {
      path,
    },
  );
}

/** A path for a message: very deep paths keep their two ends. */
export function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 80)}…${path.slice(-60)}`;
}

/** Path segment for a property key: `.name` when it is an identifier, `["odd key"]` otherwise. */
export function keySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
