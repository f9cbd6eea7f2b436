/**
 * FrameReader — the decoding half of the value codec (wire format: codec-format.ts).
 *
 * Runs on any thread. Owns nothing but its cursor: it reads the bytes it is handed (a plain
 * Uint8Array or a view of a ring's SharedArrayBuffer) and copies every payload out, so the
 * caller may reuse the region as soon as a read returns.
 *
 * Why no TextDecoder: it refuses views of a SharedArrayBuffer. Strings are read with
 * String.fromCharCode for up to 8 chars and Buffer's latin1/utf8/ucs2 slicers beyond (native,
 * and they accept any Uint8Array, shared or not).
 *
 * Invariants (garbage in, CodecError out):
 * 1. Every read is preceded by a bounds check against the end of the frame.
 * 2. A count of elements is checked against the bytes left before the container is filled, so
 *    garbage cannot make the reader loop or allocate beyond the frame's size.
 * 3. Nesting is capped at MAX_DEPTH; REF and SIDE indices are checked against what exists.
 * 4. No user code runs while decoding (objects are built with literals, defineProperty and
 *    built-in constructors), so any other exception can only come from garbage: it is wrapped
 *    in a CodecError too.
 */
import { types } from 'node:util';
import { CodecError } from '../core/errors.js';
import {
  ERROR_BASES,
  ERR_REGISTERED,
  FLAG_REFS,
  HEADER,
  HEADER_MASK,
  KIND_DATAVIEW,
  MAX_DEPTH,
  MAX_VARINT,
  T_ARRAY,
  T_ARRAY_BUFFER,
  T_BIGINT,
  T_BOXED,
  T_BUFFER,
  T_BYTES,
  T_DATE,
  T_ERROR,
  T_FALSE,
  T_FLOAT64,
  T_HOLES,
  T_INT32,
  T_INT8,
  T_LATIN1,
  T_MAP,
  T_NULL,
  T_OBJECT,
  T_REF,
  T_REGEXP,
  T_SET,
  T_SIDE,
  T_SIDE_VIEW,
  T_TRUE,
  T_TYPED,
  T_UNDEFINED,
  T_UTF16,
  T_UTF8,
  VIEW_CTORS,
  corrupt,
} from './codec-format.js';
import { registeredErrorClass } from './codec-classify.js';
import { MAX_KEY_LEN, MAX_SHAPE_KEYS, type Shape, factoryOf, findShape, rememberShape } from './codec-shapes.js';

/** Options for reading value items. */
export interface ReadOptions {
  /** The side table the writer filled (see ValueOptions.side), as received from postMessage. */
  side?: readonly unknown[];
}

const { latin1Slice, utf8Slice, ucs2Slice } = Buffer.prototype as unknown as {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
  utf8Slice(this: Uint8Array, start: number, end: number): string;
  ucs2Slice(this: Uint8Array, start: number, end: number): string;
};
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const EMPTY = new Uint8Array(0);
const fromCharCode = String.fromCharCode;
const HEX = /^[0-9a-f]+$/;
const KEY_CACHE_SIZE = 1024;
const KEY_CACHE_MAX_LEN = 32;
/** Recently decoded object keys, by a hash of their bytes (see FrameReader.key). Per thread. */
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

/**
 * Reads a frame item by item, in the order it was written.
 *
 * @example
 * const r = new FrameReader(ring.bytes, at, length);
 * const taskId = r.u32();
 * const args = r.value({ side }) as unknown[];
 * r.finish(); // CodecError if bytes are left over
 */
export class FrameReader {
  private bytes: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;
  private side: readonly unknown[] | null = null;
  private refs: unknown[] | null = null;
  private depth = 0;
  /** Values of objects being built by a shape factory (see object()); sp is the next free slot. */
  private readonly stack: unknown[] = [];
  private sp = 0;

  constructor(bytes?: Uint8Array, offset?: number, length?: number) {
    if (bytes !== undefined) this.reset(bytes, offset, length);
  }

  /** Read `bytes[offset, offset + length)` from the start. */
  reset(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    if (!(bytes instanceof Uint8Array)) {
      const e = new TypeError('bytes must be a Uint8Array') as TypeError & { code: string };
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > bytes.length
    ) {
      const e = new RangeError(
        `offset ${offset} and length ${length} do not fit in ${bytes.length} bytes`,
      ) as RangeError & { code: string };
      e.code = 'ERR_OUT_OF_RANGE';
      throw e;
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

  /** Read one value item. Throws CodecError on anything but a valid item. */
  value(options?: ReadOptions): unknown {
    const h = this.u8();
    if ((h & HEADER_MASK) !== HEADER || (h & ~(HEADER_MASK | FLAG_REFS)) !== 0) {
      throw corrupt(`bad value header 0x${h.toString(16)}`, this.pos - 1);
    }
    this.refs = h & FLAG_REFS ? [] : null;
    this.side = options?.side ?? null;
    this.depth = 0;
    this.sp = 0;
    try {
      return this.val();
    } catch (e) {
      this.stack.fill(undefined); // drop what a failed object build left behind
      if (e instanceof CodecError) throw e;
      throw new CodecError(`corrupt codec frame: ${(e as Error)?.message}`, { cause: e });
    } finally {
      this.refs = null;
      this.side = null;
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private need(n: number): void {
    if (n > this.end - this.pos) throw corrupt(`truncated (needs ${n} more bytes)`, this.pos);
  }

  private vu(): number {
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
  private count(min: number): number {
    const n = this.vu();
    if (n * min > this.end - this.pos) throw corrupt(`count ${n} exceeds the frame`, this.pos);
    return n;
  }

  private keep<T>(o: T): T {
    if (this.refs !== null) this.refs.push(o);
    return o;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw corrupt(`nesting deeper than ${MAX_DEPTH}`, this.pos);
  }

  private val(): unknown {
    this.need(1);
    const b = this.bytes;
    const t = b[this.pos++]!;
    switch (t) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT8:
        this.need(1);
        return (b[this.pos++]! << 24) >> 24;
      case T_INT32: {
        this.need(4);
        const p = this.pos;
        this.pos = p + 4;
        return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
      }
      case T_FLOAT64:
        return this.f64();
      case T_LATIN1:
      case T_UTF8:
      case T_UTF16:
        return this.strBody(t);
      case T_ARRAY:
        return this.array();
      case T_OBJECT:
        return this.object();
      case T_BYTES:
        return this.keep(this.copy(new Uint8Array(this.payloadLength())));
      case T_BUFFER:
        return this.keep(this.copy(Buffer.allocUnsafeSlow(this.payloadLength())));
      case T_ARRAY_BUFFER:
        return this.keep(this.copy(new Uint8Array(this.payloadLength())).buffer);
      case T_TYPED:
        return this.keep(this.typed());
      case T_DATE:
        return this.keep(new Date(this.f64()));
      case T_REGEXP: {
        const source = this.str();
        return this.keep(new RegExp(source, this.str()));
      }
      case T_BIGINT:
        return this.bigint();
      case T_MAP:
        return this.map();
      case T_SET:
        return this.set();
      case T_BOXED:
        return this.keep(this.boxed());
      case T_ERROR:
        return this.error();
      case T_REF: {
        const id = this.vu();
        if (this.refs === null || id >= this.refs.length) throw corrupt(`bad REF ${id}`, this.pos);
        return this.refs[id];
      }
      case T_SIDE:
        return this.keep(this.sideEntry());
      case T_SIDE_VIEW:
        return this.keep(this.sideView());
      default:
        throw corrupt(`unknown tag 0x${t.toString(16)}`, this.pos - 1);
    }
  }

  private str(): string {
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
  private key(): string {
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

  private strBody(t: number): string {
    const n = this.vu();
    this.need(n);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + n;
    if (t === T_LATIN1) {
      // Short strings (most keys) are cheaper built in JS than through a native call.
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
          return fromCharCode(
            b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
          );
        default:
          return latin1Slice.call(b, p, p + n);
      }
    }
    if (t === T_UTF8) return utf8Slice.call(b, p, p + n);
    if (n & 1) throw corrupt('odd UTF-16 byte length', p);
    return ucs2Slice.call(b, p, p + n);
  }

  /** Read a payload's header (vu n, u8 pad, pad bytes); the n bytes follow at this.pos. */
  private payloadLength(): number {
    const n = this.vu();
    const pad = this.u8();
    if (pad > 7) throw corrupt(`bad payload padding ${pad}`, this.pos - 1);
    this.need(pad + n);
    this.pos += pad;
    return n;
  }

  /** Fill `out` with the next out.length bytes (the length was checked by payloadLength). */
  private copy<T extends Uint8Array>(out: T): T {
    const n = out.length;
    const p = this.pos;
    const b = this.bytes;
    if (n <= 64) for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    else out.set(b.subarray(p, p + n));
    this.pos = p + n;
    return out;
  }

  private typed(): ArrayBufferView {
    const kind = this.u8();
    if (kind >= VIEW_CTORS.length) throw corrupt(`bad typed array kind ${kind}`, this.pos - 1);
    const bytes = this.copy(new Uint8Array(this.payloadLength()));
    if (kind === KIND_DATAVIEW) return new DataView(bytes.buffer);
    const C = VIEW_CTORS[kind] as Exclude<(typeof VIEW_CTORS)[number], DataViewConstructor>;
    if (bytes.length % C.BYTES_PER_ELEMENT !== 0) throw corrupt('ragged typed array', this.pos);
    return new C(bytes.buffer);
  }

  private array(): unknown[] {
    const n = this.vu();
    if (n > 0xffffffff) throw corrupt(`array length ${n}`, this.pos);
    const a: unknown[] = this.keep([]);
    this.enter();
    let i = 0;
    while (i < n) {
      this.need(1);
      if (this.bytes[this.pos] === T_HOLES) {
        this.pos++;
        const k = this.vu();
        if (k === 0 || k > n - i) throw corrupt(`bad HOLES run ${k}`, this.pos);
        i += k;
        a.length = i;
      } else {
        a[i++] = this.val();
      }
    }
    this.depth--;
    return a;
  }

  /** OBJECT: vu n, n keys, n values. Built by a shape's factory when it can be (codec-shapes.ts). */
  private object(): Record<string, unknown> {
    const n = this.count(3);
    this.enter();
    const shape = this.keyList(n);
    let o: Record<string, unknown>;
    const make = factoryOf(shape);
    // With REFs in the frame the object must exist before its values (they may point back at
    // it), so the factory, which needs the values first, is for REF-free frames only.
    if (make !== null && this.refs === null) {
      const base = this.sp;
      const stack = this.stack;
      this.sp = base + n;
      for (let i = 0; i < n; i++) stack[base + i] = this.val();
      o = make(stack, base);
      for (let i = 0; i < n; i++) stack[base + i] = undefined;
      this.sp = base;
    } else {
      o = this.keep({});
      const ks = shape.keys;
      for (let i = 0; i < n; i++) {
        const k = ks[i]!;
        const v = this.val();
        // `o.__proto__ = v` would set the prototype; the sender had an own property.
        if (k === '__proto__') define(o, k, v, true);
        else o[k] = v;
      }
    }
    this.depth--;
    return o;
  }

  /** Read n keys: from the shape cache when their bytes match a known shape. */
  private keyList(n: number): Shape {
    if (n === 0 || n > MAX_SHAPE_KEYS) return this.keysSlow(n);
    // Find the end of the key list without decoding it (short latin1 keys only).
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < n; i++) {
      if (this.end - p < 2 || b[p] !== T_LATIN1 || b[p + 1]! > MAX_KEY_LEN) {
        return this.keysSlow(n);
      }
      p += 2 + b[p + 1]!;
    }
    if (p > this.end) return this.keysSlow(n);
    const found = findShape(b, start, p);
    if (found !== undefined) {
      this.pos = p;
      return found;
    }
    return rememberShape(b, start, p, this.keysSlow(n).keys as string[]);
  }

  /** Decode n keys one by one, as an uncached shape. */
  private keysSlow(n: number): Shape {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) keys.push(this.key());
    return { keys, bytes: EMPTY, make: null, hits: 0, eligible: false };
  }

  private bigint(): bigint {
    const sign = this.u8();
    const hex = this.str();
    if (sign > 1 || !HEX.test(hex)) throw corrupt('bad bigint', this.pos);
    const v = BigInt('0x' + hex);
    return sign ? -v : v;
  }

  private map(): Map<unknown, unknown> {
    const n = this.count(2);
    const m = this.keep(new Map<unknown, unknown>());
    this.enter();
    for (let i = 0; i < n; i++) {
      const k = this.val();
      m.set(k, this.val());
    }
    this.depth--;
    return m;
  }

  private set(): Set<unknown> {
    const n = this.count(1);
    const s = this.keep(new Set<unknown>());
    this.enter();
    for (let i = 0; i < n; i++) s.add(this.val());
    this.depth--;
    return s;
  }

  private boxed(): object {
    const v = this.val();
    const t = typeof v;
    if (t !== 'number' && t !== 'string' && t !== 'boolean' && t !== 'bigint') {
      throw corrupt(`cannot box a ${t}`, this.pos);
    }
    return Object(v) as object;
  }

  private error(): Error {
    const base = this.u8();
    if (base > ERR_REGISTERED) throw corrupt(`bad error base ${base}`, this.pos - 1);
    let Ctor = (ERROR_BASES[base] ?? Error) as unknown as new () => Error;
    let unknownName: string | undefined;
    if (base === ERR_REGISTERED) {
      const name = this.str();
      const C = registeredErrorClass(name);
      if (C !== undefined) Ctor = C as unknown as new () => Error;
      else unknownName = name;
    }
    // Build a real Error (brand and all) with the right prototype without running the class's
    // constructor, and without paying for a stack trace we are about to replace.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let e: Error;
    try {
      e = Reflect.construct(Error, [], Ctor) as Error;
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.keep(e);
    this.enter();
    const n = this.count(4);
    let hasStack = false;
    for (let i = 0; i < n; i++) {
      const k = this.str();
      const enumerable = this.u8();
      if (enumerable > 1) throw corrupt('bad error property flag', this.pos - 1);
      define(e, k, this.val(), enumerable === 1);
      if (k === 'stack') hasStack = true;
    }
    if (!hasStack) delete (e as { stack?: string }).stack;
    if (unknownName !== undefined && !Object.hasOwn(e, 'name')) define(e, 'name', unknownName, false);
    this.depth--;
    return e;
  }

  private sideEntry(): unknown {
    const i = this.vu();
    if (this.side === null || i >= this.side.length) throw corrupt(`bad SIDE index ${i}`, this.pos);
    return this.side[i];
  }

  private sideView(): ArrayBufferView {
    const kind = this.u8();
    if (kind >= VIEW_CTORS.length) throw corrupt(`bad view kind ${kind}`, this.pos - 1);
    const sab = this.sideEntry();
    const byteOffset = this.vu();
    const length = this.vu();
    if (!types.isSharedArrayBuffer(sab)) throw corrupt('SIDE_VIEW over a non-shared buffer', this.pos);
    const C = VIEW_CTORS[kind]!;
    const size = kind === KIND_DATAVIEW ? 1 : (C as Uint8ArrayConstructor).BYTES_PER_ELEMENT;
    if (byteOffset % size !== 0 || byteOffset + length * size > sab.byteLength) {
      throw corrupt('SIDE_VIEW out of its buffer', this.pos);
    }
    return new (C as Uint8ArrayConstructor)(sab as unknown as ArrayBuffer, byteOffset, length);
  }
}

function define(o: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(o, key, { value, enumerable, writable: true, configurable: true });
}
