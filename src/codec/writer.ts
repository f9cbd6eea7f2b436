/**
 * FrameWriter — the encoding half of the value codec (wire format: format.ts): walks a
 * value, applies the structured-clone rules (classify.ts), tracks shared references and
 * cycles, and refuses what postMessage would refuse, naming the path. The bytes themselves, and
 * the staging that keeps a destination untouched until a frame is complete, are FrameSink's
 * (sink.ts).
 *
 * Runs on any thread; one writer belongs to one thread and is not re-entrant. Owns, during one
 * `value()` call only, the table of objects met so far and the caller's side table.
 *
 * Invariants:
 * 1. After `value()` throws, the writer is exactly as it was before the call (same size, same
 *    staged payloads) and the caller's side table has its old length.
 * 2. Object ids are given in the order objects are met, an object before its children, exactly
 *    as the reader will number them (format.ts).
 * 3. Every value item starts with a HEADER byte, so items can be read back one by one.
 */
import { types } from 'node:util';
import { rangeError } from '../core/args.js';
import {
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
  T_HOLES,
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
  keySegment,
  shortPath,
  uncloneable,
} from './format.js';
import * as K from './classify.js';
import { FrameSink } from './sink.js';

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

const SMALL_REFS = 32;

const ObjectPrototype = Object.prototype;
const getTime = Date.prototype.getTime;
const regexpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get!;
const regexpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags')!.get!;

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

/**
 * Builds one frame: raw numbers and value items, staged until `writeTo()` or `bytes()`.
 *
 * @example
 * const w = new FrameWriter();
 * w.reset().u32(taskId).value(args, { name: 'args' });
 * const n = w.writeTo(ring.bytes, at, at + room); // -1: did not fit, nothing written
 */
export class FrameWriter extends FrameSink {
  /** Objects met in the current value, by id; entries past nSeen are stale (null). */
  private readonly seen: (object | null)[] = [];
  private nSeen = 0;
  private seenMap: Map<object, number> | null = null;
  private usedRefs = false;
  private side: unknown[] | null = null;
  private depth = 0;
  private busy = false;

  override reset(direct = false): this {
    if (this.busy) throw new Error('FrameWriter.reset() called while it encodes (re-entrant use)');
    return super.reset(direct);
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
      if (this.nSeen > 4096) this.seen.length = 0;
      else for (let i = 0; i < this.nSeen; i++) this.seen[i] = null;
      this.nSeen = 0;
      this.seenMap = null;
      this.usedRefs = false;
      this.depth = 0;
      this.side = null;
    }
    return this;
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
        return this.val(K.unbox(o));
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

  private sideIndex(o: object, what: string): number {
    const side = this.side;
    if (side === null) {
      throw new Refusal(`${what} travels by reference, and this message has no side table to carry it`);
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
    const { base, registeredName, props } = K.describeError(e);
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

function elementCount(v: ArrayBufferView): number {
  return (v as Uint8Array).length;
}

function refusalError(r: Refusal, name: string): Error {
  const path = name + r.segs.reverse().join('');
  if (!r.tooDeep) return uncloneable(path, r.reason);
  return Object.assign(rangeError(`cannot send ${shortPath(path)}: ${r.reason}`), { path });
}
