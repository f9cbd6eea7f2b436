/**
 * FrameSource — the byte-level half of the codec's reader: a bounds-checked cursor over a frame,
 * raw numbers, varints, strings (with a cache for object keys) and byte payloads. FrameReader
 * (reader.ts) adds values on top.
 *
 * Runs on any thread. Owns nothing but its cursor and, per thread, the key cache: it reads the
 * bytes it is handed (a plain Uint8Array or a view of a ring's SharedArrayBuffer) and copies
 * every payload out, so the caller may reuse the region as soon as a read returns.
 *
 * Why no TextDecoder: it refuses views of a SharedArrayBuffer. Strings are read with
 * String.fromCharCode up to 8 chars and with Buffer's latin1/utf8/ucs2 slicers beyond (native,
 * and they accept any Uint8Array, shared or not).
 *
 * Invariants:
 * 1. Every read is preceded by a bounds check against the end of the frame (CodecError).
 * 2. A length is checked against the bytes left before anything is allocated for it.
 * 3. Varints are at most 8 bytes and at most 2^53 - 1.
 */
import { rangeError, typeError } from '../core/args.js';
import { MAX_VARINT, T_LATIN1, T_UTF16, T_UTF8, corrupt } from './format.js';
import { copyBytes } from '../shm/copy-bytes.js';

const { latin1Slice, utf8Slice, ucs2Slice } = Buffer.prototype as unknown as {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
  utf8Slice(this: Uint8Array, start: number, end: number): string;
  ucs2Slice(this: Uint8Array, start: number, end: number): string;
};
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
export const EMPTY = new Uint8Array(0);
const fromCharCode = String.fromCharCode;
/**
 * The `n` latin1 bytes at `p` as a string. Short strings (most keys and channel values) are
 * cheaper built in JS than through a native call; longer ones go through Buffer's slicer, which
 * also reads views of a SharedArrayBuffer. Shared by the codec and the shared channel's fast slots.
 */
export function readLatin1(b: Uint8Array, p: number, n: number): string {
  switch (n) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[p]!);
    case 2:
      return fromCharCode(b[p]!, b[p + 1]!);
    case 3:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8:
      return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    default:
      return latin1Slice.call(b, p, p + n);
  }
}

const KEY_CACHE_SIZE = 1024;
const KEY_CACHE_MAX_LEN = 32;
/** Recently decoded object keys, by a hash of their bytes (see FrameSource.key). Per thread. */
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

/**
 * A cursor over one frame. Use FrameReader, which adds `value()`.
 *
 * @example
 * const r = new FrameReader(bytes, 0, n); // a FrameSource
 * const id = r.u32();
 */
export class FrameSource {
  protected bytes: Uint8Array = EMPTY;
  protected pos = 0;
  protected end = 0;

  /** Read `bytes[offset, offset + length)` from the start. */
  reset(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    if (!(bytes instanceof Uint8Array)) throw typeError('bytes must be a Uint8Array');
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > bytes.length
    ) {
      throw rangeError(`offset ${offset} and length ${length} do not fit in ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.pos = offset;
    this.end = offset + length;
    return this;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throw a CodecError unless every byte was read; then let go of the bytes. */
  finish(): void {
    if (this.pos !== this.end) throw corrupt(`${this.end - this.pos} trailing bytes`, this.pos);
    this.bytes = EMPTY;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  f64(): number {
    this.need(8);
    const b = this.bytes;
    const p = this.pos;
    for (let i = 0; i < 8; i++) F64_BYTES[i] = b[p + i]!;
    this.pos = p + 8;
    return F64[0]!;
  }

  protected need(n: number): void {
    if (n > this.end - this.pos) throw corrupt(`truncated (needs ${n} more bytes)`, this.pos);
  }

  protected vu(): number {
    this.need(1);
    let b = this.bytes[this.pos++]!;
    if (b < 0x80) return b;
    let n = b & 0x7f;
    let mul = 128;
    for (let i = 1; ; i++) {
      if (i === 8) throw corrupt('varint longer than 8 bytes', this.pos);
      this.need(1);
      b = this.bytes[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (n > MAX_VARINT) throw corrupt('varint too large', this.pos);
    return n;
  }

  /** A count of items each taking at least `min` bytes must fit in what is left. */
  protected count(min: number): number {
    const n = this.vu();
    if (n * min > this.end - this.pos) throw corrupt(`count ${n} exceeds the frame`, this.pos);
    return n;
  }

  protected str(): string {
    this.need(1);
    const t = this.bytes[this.pos++]!;
    if (t !== T_LATIN1 && t !== T_UTF8 && t !== T_UTF16) {
      throw corrupt(`expected a string, got tag 0x${t.toString(16)}`, this.pos - 1);
    }
    return this.strBody(t);
  }

  /**
   * An object key. Short latin1 keys go through a small cache keyed by their bytes: the same
   * keys recur message after message, and handing V8 the same (already internalized) string
   * makes `o[k] = v` skip a string-table lookup; it also saves the string's allocation.
   */
  protected key(): string {
    const b = this.bytes;
    const p = this.pos;
    if (this.end - p < 2) return this.str();
    const n = b[p + 1]!;
    if (b[p] !== T_LATIN1 || n === 0 || n > KEY_CACHE_MAX_LEN || n > this.end - p - 2) {
      return this.str();
    }
    let h = n;
    for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + b[p + 2 + i]!) | 0;
    const slot = (h ^ (h >>> 13)) & (KEY_CACHE_SIZE - 1);
    const cached = keyCache[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === b[p + 2 + i]) i++;
      if (i === n) {
        this.pos = p + 2 + n;
        return cached;
      }
    }
    const k = this.str();
    keyCache[slot] = k;
    return k;
  }

  protected strBody(t: number): string {
    const n = this.vu();
    this.need(n);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + n;
    if (t === T_LATIN1) {
      return readLatin1(b, p, n);
    }
    if (t === T_UTF8) return utf8Slice.call(b, p, p + n);
    if (n & 1) throw corrupt('odd UTF-16 byte length', p);
    return ucs2Slice.call(b, p, p + n);
  }

  /** Read a payload's header (vu n, u8 pad, pad bytes); the n bytes follow at this.pos. */
  protected payloadLength(): number {
    const n = this.vu();
    const pad = this.u8();
    if (pad > 7) throw corrupt(`bad payload padding ${pad}`, this.pos - 1);
    this.need(pad + n);
    this.pos += pad;
    return n;
  }

  /** Fill `out` with the next out.length bytes (the length was checked by payloadLength). */
  protected copy<T extends Uint8Array>(out: T): T {
    copyBytes(this.bytes, this.pos, this.pos + out.length, out, 0);
    this.pos += out.length;
    return out;
  }
}
