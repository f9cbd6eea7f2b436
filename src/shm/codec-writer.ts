/**
 * FrameWriter — the encoding half of the value codec (wire format: codec-format.ts).
 *
 * Runs on any thread; one writer belongs to one thread and is not re-entrant. Owns a growable
 * scratch buffer (4 KiB to start, dropped back after a frame over 1 MiB) and, until the next
 * `reset()`, references to the byte payloads of the values it staged.
 *
 * Why staging: a frame is built in the scratch buffer first and copied into its destination only
 * once it is complete, so a refused value (a function deep inside the arguments) or a frame that
 * does not fit leaves the destination untouched. Byte payloads of 256 B or more (Uint8Array,
 * Buffer, ArrayBuffer, typed arrays) are not staged: the writer notes where they go and
 * `writeTo()` copies them straight from the caller's object into the destination, once.
 *
 * Invariants:
 * 1. After `value()` throws, the writer is exactly as it was before the call (same size, same
 *    staged payloads) and the caller's side table has its old length.
 * 2. `writeTo()` writes only inside [offset, end) of its destination, and nothing at all when it
 *    returns -1.
 * 3. Every value item starts with a HEADER byte, so items can be read back one by one.
 */
import { types } from 'node:util';
import {
  ERROR_BASES,
  FLAG_REFS,
  HEADER,
  KIND_DATAVIEW,
  MAX_DEPTH,
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
  keySegment,
  shortPath,
  uncloneable,
} from './codec-format.js';
import * as K from './codec-classify.js';

/** Options for one value item. */
export interface ValueOptions {
  /**
   * Side table for objects that travel by reference, not as bytes (SharedArrayBuffer, views over
   * one, MessagePort, Blob, KeyObject, WebAssembly.Module...): the writer appends each such
   * object once and encodes its index. The caller sends the table with postMessage (listing any
   * MessagePort in the transfer list) and gives the same array to the reader. Without a side
   * table such objects are refused.
   */
  side?: unknown[];
  /** How the value is named in refusal messages (`args` gives `args[1].cb`). Default 'value'. */
  name?: string;
}

const DEFER_MIN = 256;
const INITIAL_BYTES = 4096;
const SHRINK_ABOVE = 1 << 20;
const SMALL_REFS = 32;

const { latin1Write, utf8Write, ucs2Write } = Buffer.prototype as unknown as {
  latin1Write(this: Uint8Array, s: string, offset: number, length: number): number;
  utf8Write(this: Uint8Array, s: string, offset: number, length: number): number;
  ucs2Write(this: Uint8Array, s: string, offset: number, length: number): number;
};
const ObjectPrototype = Object.prototype;
const getTime = Date.prototype.getTime;
const regexpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get!;
const regexpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags')!.get!;
const KNOWN_ERROR_PROPS = ['message', 'stack', 'cause', 'errors', 'name'] as const;

/** Internal signal for a refused value; containers add their path segment as it unwinds. */
class Refusal {
  readonly segs: string[] = [];
  constructor(
    readonly reason: string,
    readonly tooDeep = false,
  ) {}
}

function addSegment(e: unknown, seg: string): unknown {
  if (e instanceof Refusal) e.segs.push(seg);
  return e;
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

/**
 * Builds one frame: raw numbers and value items, staged until `writeTo()` or `bytes()`.
 *
 * @example
 * const w = new FrameWriter();
 * w.reset().u32(taskId).value(args, { name: 'args' });
 * const n = w.writeTo(ring.bytes, at, at + room); // -1: did not fit, nothing written
 */
export class FrameWriter {
  private buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  private dv: DataView = new DataView(this.buf.buffer);
  private pos = 0;
  /** Staged payloads: defSrc[i] goes where scratch offset defAt[i] is, in order. */
  private readonly defAt: number[] = [];
  private readonly defSrc: Uint8Array[] = [];
  private deferred = 0;
  /** Objects met in the current value, by id; entries past nSeen are stale (null). */
  private readonly seen: (object | null)[] = [];
  private nSeen = 0;
  private seenMap: Map<object, number> | null = null;
  /** Large payloads go into the scratch buffer too (the frame will be read with bytes()). */
  private direct = false;
  /** writeTo's alignment padding per staged payload. */
  private readonly pads: number[] = [];
  private usedRefs = false;
  private side: unknown[] | null = null;
  private depth = 0;
  private busy = false;

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
    if (this.busy) throw new Error('FrameWriter.reset() called while it encodes (re-entrant use)');
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
   * Append one value item. Throws a TypeError with code 'ERR_SHOAL_UNCLONEABLE' naming the path
   * of the first value postMessage could not carry either (a RangeError, code 'ERR_OUT_OF_RANGE',
   * for nesting deeper than MAX_DEPTH); the frame is then unchanged.
   */
  value(v: unknown, options?: ValueOptions): this {
    if (this.busy) throw new Error('FrameWriter.value() called while it encodes (re-entrant use)');
    this.busy = true;
    const start = this.pos;
    const defCount = this.defAt.length;
    const deferred = this.deferred;
    const side = options?.side ?? null;
    const sideLength = side === null ? 0 : side.length;
    this.side = side;
    try {
      this.ensure(1);
      this.buf[this.pos++] = HEADER;
      this.val(v);
      if (this.usedRefs) this.buf[start] |= FLAG_REFS;
    } catch (e) {
      this.pos = start;
      if (this.defAt.length !== defCount) {
        this.defAt.length = defCount;
        this.defSrc.length = defCount;
      }
      this.deferred = deferred;
      if (side !== null) side.length = sideLength;
      if (e instanceof Refusal) throw refusalError(e, options?.name ?? 'value');
      throw e;
    } finally {
      this.busy = false;
      // Drop references to the caller's objects (a loop: cheaper than seen.length = 0).
      for (let i = 0; i < this.nSeen; i++) this.seen[i] = null;
      this.nSeen = 0;
      this.seenMap = null;
      this.usedRefs = false;
      this.depth = 0;
      this.side = null;
    }
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

  private setBuf(b: Uint8Array): void {
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.setBuf(b);
  }

  private vu(n: number): void {
    this.ensure(8);
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  private tag(t: number): void {
    this.ensure(1);
    this.buf[this.pos++] = t;
  }

  private val(v: unknown): void {
    switch (typeof v) {
      case 'number':
        return this.num(v);
      case 'string':
        return this.str(v);
      case 'boolean':
        return this.tag(v ? T_TRUE : T_FALSE);
      case 'undefined':
        return this.tag(T_UNDEFINED);
      case 'object':
        if (v === null) return this.tag(T_NULL);
        return this.object(v);
      case 'bigint':
        return this.bigint(v);
      default:
        throw new Refusal(K.refusePrimitive(typeof v));
    }
  }

  private num(v: number): void {
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

  private str(s: string): void {
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

  private strLong(s: string, n: number): void {
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
    const max = 3 * n;
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

  private bigint(v: bigint): void {
    this.ensure(2);
    this.buf[this.pos++] = T_BIGINT;
    this.buf[this.pos++] = v < 0n ? 1 : 0;
    this.str((v < 0n ? -v : v).toString(16));
  }

  /** Returns the id of `o` if it was seen in this value, else records it and returns -1. */
  private ref(o: object): number {
    // A linear scan beats a Map for the few objects of a typical message.
    const seen = this.seen;
    const n = this.nSeen;
    if (this.seenMap === null) {
      for (let i = 0; i < n; i++) if (seen[i] === o) return i;
      seen[n] = o;
      this.nSeen = n + 1;
      if (n + 1 > SMALL_REFS) {
        this.seenMap = new Map();
        for (let i = 0; i <= n; i++) this.seenMap.set(seen[i]!, i);
      }
      return -1;
    }
    const id = this.seenMap.get(o);
    if (id !== undefined) return id;
    this.seenMap.set(o, n);
    seen[n] = o;
    this.nSeen = n + 1;
    return -1;
  }

  private object(o: object): void {
    if (types.isProxy(o)) throw new Refusal('a Proxy cannot be cloned');
    const id = this.ref(o);
    if (id >= 0) {
      this.tag(T_REF);
      this.vu(id);
      this.usedRefs = true;
      return;
    }
    if (++this.depth > MAX_DEPTH) {
      throw new Refusal(`nesting deeper than ${MAX_DEPTH} levels cannot be sent`, true);
    }
    if (Array.isArray(o)) this.array(o);
    else {
      const proto = Object.getPrototypeOf(o) as object | null;
      if (proto === ObjectPrototype || proto === null) this.plain(o);
      else this.special(o);
    }
    this.depth--;
  }

  private array(a: unknown[]): void {
    const n = a.length;
    this.tag(T_ARRAY);
    this.vu(n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const v = a[i];
        if (v === undefined && !(i in a)) return this.holey(a, i, n);
        this.val(v);
      }
    } catch (e) {
      throw addSegment(e, `[${i}]`);
    }
  }

  /** The rest of an array from its first hole: present indices only, gaps as HOLES runs. */
  private holey(a: unknown[], from: number, n: number): void {
    let i = from;
    for (const key of Object.keys(a)) {
      const k = Number(key);
      // Index keys come first, ascending (OrdinaryOwnPropertyKeys); stop at the first name.
      if (!(k < n) || String(k) !== key) break;
      if (k < i) continue;
      if (k > i) this.holes(k - i);
      try {
        this.val(a[k]);
      } catch (e) {
        throw addSegment(e, `[${k}]`);
      }
      i = k + 1;
    }
    if (i < n) this.holes(n - i);
  }

  private holes(k: number): void {
    this.tag(T_HOLES);
    this.vu(k);
  }

  private plain(o: object): void {
    const keys = Object.keys(o);
    const n = keys.length;
    this.tag(T_OBJECT);
    this.vu(n);
    for (let i = 0; i < n; i++) this.str(keys[i]!);
    let i = 0;
    try {
      for (; i < n; i++) this.val((o as Record<string, unknown>)[keys[i]!]);
    } catch (e) {
      throw addSegment(e, keySegment(keys[i]!));
    }
  }

  private special(o: object): void {
    const c = K.classify(o);
    switch (c.kind) {
      case K.K_PLAIN:
        return this.plain(o);
      case K.K_VIEW:
      case K.K_BUFFER:
        return this.view(o as ArrayBufferView, c.kind === K.K_BUFFER);
      case K.K_ARRAY_BUFFER:
        this.tag(T_ARRAY_BUFFER);
        return this.payload(new Uint8Array(o as ArrayBuffer));
      case K.K_DATE:
        this.tag(T_DATE);
        this.f64(getTime.call(o));
        return;
      case K.K_REGEXP:
        this.tag(T_REGEXP);
        this.str(regexpSource.call(o) as string);
        return this.str(regexpFlags.call(o) as string);
      case K.K_MAP:
        return this.map(o as Map<unknown, unknown>);
      case K.K_SET:
        return this.set(o as Set<unknown>);
      case K.K_ERROR:
        return this.error(o as Error);
      case K.K_BOXED:
        this.tag(T_BOXED);
        return this.val(unbox(o));
      case K.K_SIDE:
        this.tag(T_SIDE);
        return this.vu(this.sideIndex(o, 'a SharedArrayBuffer or Node host object'));
      case K.K_SIDE_VIEW:
        return this.sideView(o as ArrayBufferView);
      default:
        throw new Refusal(c.reason!);
    }
  }

  private view(v: ArrayBufferView, isBuffer: boolean): void {
    const kind = K.viewKind(v);
    if (isBuffer) this.tag(T_BUFFER);
    else if (kind === 1) this.tag(T_BYTES);
    else {
      this.tag(T_TYPED);
      this.tag(kind);
    }
    this.payload(
      Object.getPrototypeOf(v) === Uint8Array.prototype
        ? (v as Uint8Array)
        : new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
    );
  }

  /** vu n, u8 pad, pad zero bytes, n bytes (see codec-format.ts). */
  private payload(src: Uint8Array): void {
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
    if (n <= 64) for (let j = 0; j < n; j++) b[this.pos + j] = src[j]!;
    else b.set(src, this.pos);
    this.pos += n;
  }

  private sideIndex(o: object, what: string): number {
    const side = this.side;
    if (side === null) {
      throw new Refusal(
        `${what} travels by reference, and this message has no side table to carry it`,
      );
    }
    let i = side.indexOf(o);
    if (i < 0) i = side.push(o) - 1;
    return i;
  }

  private sideView(v: ArrayBufferView): void {
    const kind = K.viewKind(v);
    const index = this.sideIndex(v.buffer, 'a view over a SharedArrayBuffer');
    this.tag(T_SIDE_VIEW);
    this.tag(kind);
    this.vu(index);
    this.vu(v.byteOffset);
    this.vu(kind === KIND_DATAVIEW ? v.byteLength : elementCount(v));
  }

  private map(m: Map<unknown, unknown>): void {
    const n = m.size;
    this.tag(T_MAP);
    this.vu(n);
    let i = 0;
    let part = 'key';
    try {
      for (const [k, v] of m) {
        if (i === n) break;
        part = 'key';
        this.val(k);
        part = 'value';
        this.val(v);
        i++;
      }
    } catch (e) {
      throw addSegment(e, `<Map ${part} #${i}>`);
    }
    if (i !== n) throw new Refusal('the Map changed size while it was being sent');
  }

  private set(s: Set<unknown>): void {
    const n = s.size;
    this.tag(T_SET);
    this.vu(n);
    let i = 0;
    try {
      for (const v of s) {
        if (i === n) break;
        this.val(v);
        i++;
      }
    } catch (e) {
      throw addSegment(e, `<Set entry #${i}>`);
    }
    if (i !== n) throw new Refusal('the Set changed size while it was being sent');
  }

  private error(e: Error): void {
    const { base, registeredName } = K.errorBase(e);
    const props: [string, boolean, unknown][] = [];
    for (const k of KNOWN_ERROR_PROPS) {
      const d = Object.getOwnPropertyDescriptor(e, k);
      if (d !== undefined) props.push([k, d.enumerable === true, d.get ? d.get.call(e) : d.value]);
    }
    if (!Object.hasOwn(e, 'name')) {
      // A subclass (class HttpError extends Error) keeps its name, though not its prototype.
      const name = (e as { name?: unknown }).name;
      const baseName = registeredName ?? ERROR_BASES[base]!.prototype.name;
      if (typeof name === 'string' && name !== baseName) props.push(['name', false, name]);
    }
    for (const k of Object.keys(e)) {
      if (!(KNOWN_ERROR_PROPS as readonly string[]).includes(k)) {
        props.push([k, true, (e as unknown as Record<string, unknown>)[k]]);
      }
    }
    this.tag(T_ERROR);
    this.tag(base);
    if (registeredName !== undefined) this.str(registeredName);
    this.vu(props.length);
    for (const [k, enumerable, v] of props) {
      this.str(k);
      this.tag(enumerable ? 1 : 0);
      try {
        this.val(v);
      } catch (err) {
        throw addSegment(err, keySegment(k));
      }
    }
  }
}

function unbox(o: object): number | string | boolean | bigint {
  if (types.isNumberObject(o)) return Number.prototype.valueOf.call(o);
  if (types.isStringObject(o)) return String.prototype.valueOf.call(o);
  if (types.isBooleanObject(o)) return Boolean.prototype.valueOf.call(o);
  return BigInt.prototype.valueOf.call(o);
}

function elementCount(v: ArrayBufferView): number {
  return (v as Uint8Array).length;
}

/** Copy buf[from, to) to dest at d; returns the new d. A loop beats set+subarray for a few bytes. */
function copyBytes(buf: Uint8Array, from: number, to: number, dest: Uint8Array, d: number): number {
  const n = to - from;
  if (n <= 64) {
    for (let i = 0; i < n; i++) dest[d + i] = buf[from + i]!;
  } else {
    dest.set(buf.subarray(from, to), d);
  }
  return d + n;
}

function checkUint(n: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    const e = new RangeError(`${what} must be an integer in [0, ${max}], got ${n}`) as RangeError & {
      code: string;
    };
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
  return n;
}

function refusalError(r: Refusal, name: string): Error {
  const path = name + r.segs.reverse().join('');
  if (!r.tooDeep) return uncloneable(path, r.reason);
  const e = new RangeError(`cannot send ${shortPath(path)}: ${r.reason}`) as RangeError & {
    code: string;
    path: string;
  };
  e.code = 'ERR_OUT_OF_RANGE';
  e.path = path;
  return e;
}
