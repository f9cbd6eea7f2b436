/**
 * FrameSink — the byte-level half of the codec's writer: a growable scratch buffer, raw numbers,
 * strings, byte payloads, and the staging that lets a frame be copied into its destination only
 * once it is complete. FrameWriter (writer.ts) adds values on top.
 *
 * Runs on any thread; one sink belongs to one thread. Owns its scratch buffer (4 KiB to start,
 * dropped back after a frame over 1 MiB) and, until the next `reset()`, references to the byte
 * payloads it staged.
 *
 * Why staging: a frame is built in the scratch buffer and copied into its destination only when
 * complete, so a refused value (a function deep inside the arguments) or a frame that does not
 * fit leaves the destination untouched. Byte payloads of DEFER_MIN bytes or more (Uint8Array,
 * Buffer, ArrayBuffer, typed arrays) are not staged: the sink notes where they go and `writeTo()`
 * copies them straight from the caller's object into the destination, once, 8-aligned.
 *
 * Invariants:
 * 1. `writeTo()` writes only inside [offset, end) of its destination, and nothing at all when it
 *    returns -1.
 * 2. `size` never underestimates what `writeTo()` writes (it counts 7 bytes of possible padding
 *    per staged payload; writeTo knows the destination's alignment and may need less).
 * 3. Everything is little-endian (format.ts).
 */
import { rangeError } from '../core/args.js';
import { T_FLOAT64, T_INT32, T_INT8, T_LATIN1, T_UTF16, T_UTF8 } from './format.js';
import { copyBytes } from '../shm/copy-bytes.js';

/** Byte payloads at least this big are staged by reference instead of copied into scratch. */
export const DEFER_MIN = 256;
const INITIAL_BYTES = 4096;
const SHRINK_ABOVE = 1 << 20;

const { utf8Write, ucs2Write } = Buffer.prototype as unknown as {
  utf8Write(this: Uint8Array, s: string, offset: number, length: number): number;
  ucs2Write(this: Uint8Array, s: string, offset: number, length: number): number;
};

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

/**
 * A frame under construction: raw numbers, strings and byte payloads, staged until `writeTo()`
 * or `bytes()`. Use FrameWriter, which adds `value()`.
 *
 * @example
 * const w = new FrameWriter(); // a FrameSink
 * w.reset().u32(7).f64(0.5);
 * const n = w.writeTo(dest, 0); // 12
 */
export class FrameSink {
  protected buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  protected dv: DataView = new DataView(this.buf.buffer);
  protected pos = 0;
  /** Staged payloads: defSrc[i] goes where scratch offset defAt[i] is, in order. */
  protected readonly defAt: number[] = [];
  protected readonly defSrc: Uint8Array[] = [];
  protected deferred = 0;
  /** Large payloads go into the scratch buffer too (the frame will be read with bytes()). */
  protected direct = false;
  /** writeTo's alignment padding per staged payload. */
  protected readonly pads: number[] = [];

  /**
   * Bytes the frame built so far needs: exact, except that each large staged payload counts the
   * 7 bytes of alignment padding it may need (writeTo aligns it to 8 in the destination, so that
   * the copy, and the reader's copy out of shared memory, run at memcpy speed).
   */
  get size(): number {
    return this.pos + this.deferred;
  }

  /**
   * Start a new frame; drops what was staged (and the scratch buffer if a frame made it huge).
   * `direct`: the frame will be read with `bytes()`, so copy large payloads into the scratch
   * buffer as they come instead of staging them for `writeTo()`.
   */
  reset(direct = false): this {
    this.pos = 0;
    this.direct = direct;
    // Setting an array's length is a runtime call: skip it in the common case (nothing staged).
    if (this.defAt.length !== 0) {
      this.defAt.length = 0;
      this.defSrc.length = 0;
    }
    this.deferred = 0;
    if (this.buf.length > SHRINK_ABOVE) this.setBuf(new Uint8Array(INITIAL_BYTES));
    return this;
  }

  /** Append an unsigned byte (0..255). */
  u8(n: number): this {
    this.ensure(1);
    this.buf[this.pos++] = checkUint(n, 0xff, 'u8');
    return this;
  }

  /** Append an unsigned 32-bit integer, little-endian. */
  u32(n: number): this {
    this.ensure(4);
    this.dv.setUint32(this.pos, checkUint(n, 0xffffffff, 'u32'), true);
    this.pos += 4;
    return this;
  }

  /** Append a float64, little-endian. */
  f64(n: number): this {
    this.ensure(8);
    this.dv.setFloat64(this.pos, n, true);
    this.pos += 8;
    return this;
  }

  /**
   * Copy the frame into `dest[offset, end)`. Returns the bytes written, or -1 (writing nothing)
   * when the frame needs more than `end - offset` bytes. Payloads staged by reference are read
   * now, so the caller must not change them between `value()` and `writeTo()`.
   */
  writeTo(dest: Uint8Array, offset: number, end: number = dest.length): number {
    const nDef = this.defAt.length;
    let total = this.pos;
    if (nDef !== 0) {
      // Pass 1: the exact size, now that the destination's alignment is known.
      const base = dest.byteOffset + offset;
      for (let i = 0; i < nDef; i++) {
        const pad = -(base + total - this.pos + this.defAt[i]! + 1) & 7;
        this.pads[i] = pad;
        total += 1 + pad + this.defSrc[i]!.length;
      }
    }
    if (end - offset < total) return -1;
    const buf = this.buf;
    let from = 0;
    let d = offset;
    for (let i = 0; i < nDef; i++) {
      const at = this.defAt[i]!;
      d = copyBytes(buf, from, at, dest, d);
      from = at;
      const pad = this.pads[i]!;
      dest[d++] = pad;
      for (let j = 0; j < pad; j++) dest[d++] = 0;
      const src = this.defSrc[i]!;
      dest.set(src, d);
      d += src.length;
    }
    copyBytes(buf, from, this.pos, dest, d);
    return total;
  }

  /**
   * The frame as bytes. A view of the scratch buffer (valid until the next `reset()`), or a fresh
   * array when byte payloads were staged by reference (they are copied once, into it).
   */
  bytes(): Uint8Array {
    // A plain constructor call: cheaper than subarray(), which looks up a species constructor.
    if (this.defAt.length === 0) return new Uint8Array(this.buf.buffer, 0, this.pos);
    const out = new Uint8Array(this.size);
    return out.subarray(0, this.writeTo(out, 0));
  }

  // ---- internals ---------------------------------------------------------------------------

  protected setBuf(b: Uint8Array): void {
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  protected ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  protected grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.setBuf(b);
  }

  protected vu(n: number): void {
    this.ensure(8);
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  protected tag(t: number): void {
    this.ensure(1);
    this.buf[this.pos++] = t;
  }

  protected num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    // -0 passes `(v | 0) === v`; it must take the float path to keep its sign.
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= -128 && v < 128) {
        b[this.pos] = T_INT8;
        b[this.pos + 1] = v;
        this.pos += 2;
      } else {
        b[this.pos] = T_INT32;
        this.dv.setInt32(this.pos + 1, v, true);
        this.pos += 5;
      }
    } else {
      b[this.pos] = T_FLOAT64;
      this.dv.setFloat64(this.pos + 1, v, true);
      this.pos += 9;
    }
  }

  protected str(s: string): void {
    const n = s.length;
    if (n < 64) {
      // Short strings: one pass of charCodeAt, bailing out at the first char over 0xFF.
      this.ensure(2 + n);
      const b = this.buf;
      const p = this.pos + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) break;
        b[p + i] = c;
      }
      if (i === n) {
        b[this.pos] = T_LATIN1;
        b[this.pos + 1] = n;
        this.pos = p + n;
        return;
      }
    }
    this.strLong(s, n);
  }

  protected strLong(s: string, n: number): void {
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      // UTF-8 cannot carry a lone surrogate; structured clone keeps it, so we do too.
      this.tag(T_UTF16);
      this.vu(2 * n);
      this.ensure(2 * n);
      this.pos += ucs2Write.call(this.buf, s, this.pos, 2 * n);
      return;
    }
    // Write UTF-8 after a length slot wide enough for the worst case (3 bytes per char), then
    // fill the slot as a padded varint: one pass over the string, no byteLength pre-scan. Pure
    // ASCII came out byte-for-byte latin1 and is tagged so (it decodes faster).
    // Past 1 MiB the exact count is worth a pre-scan: 3n bytes of scratch would be a lot.
    const max = n > 1 << 20 ? Buffer.byteLength(s, 'utf8') : 3 * n;
    const w = varintSize(max);
    this.ensure(1 + w + max);
    const at = this.pos;
    const written = utf8Write.call(this.buf, s, at + 1 + w, max);
    const b = this.buf;
    b[at] = written === n ? T_LATIN1 : T_UTF8;
    let len = written;
    for (let i = 1; i < w; i++) {
      b[at + i] = (len % 128) | 0x80;
      len = Math.floor(len / 128);
    }
    b[at + w] = len;
    this.pos = at + 1 + w + written;
  }

  /** vu n, u8 pad, pad zero bytes, n bytes (see format.ts). */
  protected payload(src: Uint8Array): void {
    const n = src.length;
    this.vu(n);
    if (n >= DEFER_MIN && !this.direct) {
      this.defAt.push(this.pos);
      this.defSrc.push(src);
      this.deferred += 8 + n;
      return;
    }
    // Inline: align to 8 within the frame (only large payloads; a small one is not worth it).
    const pad = n >= DEFER_MIN ? -(this.pos + 1) & 7 : 0;
    this.ensure(1 + pad + n);
    const b = this.buf;
    b[this.pos++] = pad;
    for (let j = 0; j < pad; j++) b[this.pos++] = 0;
    this.pos = copyBytes(src, 0, n, b, this.pos);
  }
}

function checkUint(n: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw rangeError(`${what} must be an integer in [0, ${max}], got ${n}`);
  }
  return n;
}
