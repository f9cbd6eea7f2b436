/**
 * FrameReader — the decoding half of the value codec (wire format: format.ts): rebuilds
 * values, objects with the shape cache's factories (shapes.ts), errors with their class,
 * and the side table's shared objects. The cursor, strings and payloads are FrameSource's
 * (source.ts).
 *
 * Runs on any thread. Owns, during one `value()` call, the table of objects built so far (when
 * the frame uses REFs) and a stack of values for objects under construction.
 *
 * Invariants (garbage in, CodecError out):
 * 1. A count of elements is checked against the bytes left before the container is filled
 *    (each element takes at least one byte), so garbage cannot make the reader loop or
 *    allocate beyond the frame's size.
 * 2. Nesting is capped at MAX_DEPTH; REF and SIDE indices are checked against what exists.
 * 3. No user code runs while decoding (objects are built with literals, defineProperty and
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
} from './format.js';
import { registeredErrorClass } from './classify.js';
import { EMPTY, FrameSource } from './source.js';
import { MAX_KEY_LEN, MAX_SHAPE_KEYS, type Shape, factoryOf, findShape, rememberShape } from './shapes.js';

/** Options for reading value items. */
export interface ReadOptions {
  /** The side table the writer filled (see ValueOptions.side), as received from postMessage. */
  side?: readonly unknown[];
}

const HEX = /^[0-9a-f]+$/;

/**
 * Reads a frame item by item, in the order it was written.
 *
 * @example
 * const r = new FrameReader(ring.bytes, at, length);
 * const taskId = r.u32();
 * const args = r.value({ side }) as unknown[];
 * r.finish(); // CodecError if bytes are left over
 */
export class FrameReader extends FrameSource {
  private side: readonly unknown[] | null = null;
  private refs: unknown[] | null = null;
  private depth = 0;
  /** Values of objects being built by a shape factory (see object()); sp is the next free slot. */
  private readonly stack: unknown[] = [];
  private sp = 0;

  constructor(bytes?: Uint8Array, offset?: number, length?: number) {
    super();
    if (bytes !== undefined) this.reset(bytes, offset, length);
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
        i += k; // holes are not written: `a[1e9] = 1` costs one element, not its length
      } else {
        a[i++] = this.val();
      }
    }
    if (a.length !== n) a.length = n; // trailing holes
    this.depth--;
    return a;
  }

  /** OBJECT: vu n, n keys, n values. Built by a shape's factory when it can be (shapes.ts). */
  private object(): Record<string, unknown> {
    const o = this.objectBody();
    // a feature's own wire form (an agent handle: { shoalAgent: 1, ... }) becomes its live object
    if (objectReviver !== undefined && o.shoalAgent === 1) return objectReviver(o) as Record<string, unknown>;
    return o;
  }

  private objectBody(): Record<string, unknown> {
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

/** See setObjectReviver. */
let objectReviver: ((o: Record<string, unknown>) => unknown) | undefined;

/**
 * Let a feature above the codec turn its wire form back into a live object as frames decode: the
 * reviver sees each decoded plain object whose `shoalAgent` property is 1 (agent handles, so a
 * handle read from a channel is a handle) and returns its replacement or the object itself.
 *
 * @example
 * setObjectReviver((o) => reviveHandle(o) ?? o);
 */
export function setObjectReviver(f: (o: Record<string, unknown>) => unknown): void {
  objectReviver = f;
}
