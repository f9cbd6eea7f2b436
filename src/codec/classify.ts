/**
 * What the value codec does with an object that is neither a plain object nor an array: the
 * structured-clone rules, decided by the object's brand (its internal type), not its prototype.
 * Also the table of shoal's own error classes, so a CancelledError thrown on one thread arrives
 * as a CancelledError on the other.
 *
 * Runs on any thread, called by writer.ts (kinds) and reader.ts (error classes).
 * Owns no memory.
 *
 * The rules, following what `postMessage` does on Node 20:
 * 1. Brands structured clone copies (Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView,
 *    Error, boxed primitives) are copied, subclass instances included (they arrive as the base
 *    class, as with structured clone). Node Buffers arrive as Buffers (structured clone would give
 *    a Uint8Array; a Buffer is one, so nothing that expects a Uint8Array notices).
 * 2. Objects postMessage shares or hands to Node's own cloning (SharedArrayBuffer, views over one,
 *    WebAssembly.Module/Memory, MessagePort, Blob, File, X509Certificate, KeyObject, CryptoKey and
 *    other objects carrying Node's messaging symbols) cannot be put in bytes: they travel by
 *    reference through the caller's side table (`side` option), or are refused when there is none.
 * 3. Objects with hidden state that postMessage refuses (Promise, Proxy, WeakMap, WeakSet, WeakRef,
 *    FinalizationRegistry, generators, iterators, `arguments`, module namespaces, Intl objects,
 *    Symbol wrappers) are refused.
 * 4. Any other object is an ordinary object: its own enumerable string-keyed properties are copied
 *    into a plain object, its prototype and private fields are not (class instances, AbortSignal,
 *    URL... all arrive as plain objects, exactly as with postMessage).
 */
import { types } from 'node:util';
import { MessagePort } from 'node:worker_threads';
import * as shoalErrors from '../core/errors.js';
import { ShoalError } from '../core/errors.js';
import { ERROR_BASES, KIND_DATAVIEW, VIEW_CTORS } from './format.js';

export const K_PLAIN = 0;
export const K_VIEW = 1;
export const K_BUFFER = 2;
export const K_ARRAY_BUFFER = 3;
export const K_DATE = 4;
export const K_REGEXP = 5;
export const K_MAP = 6;
export const K_SET = 7;
export const K_ERROR = 8;
export const K_BOXED = 9;
export const K_SIDE = 10;
export const K_SIDE_VIEW = 11;
export const K_REFUSE = 12;

/** A classification: the kind, and for K_REFUSE the reason shown to the user. */
export interface Classified {
  kind: number;
  reason?: string;
}

const PLAIN: Classified = { kind: K_PLAIN };
const VIEW: Classified = { kind: K_VIEW };
const BUFFER: Classified = { kind: K_BUFFER };
const SIDE_VIEW: Classified = { kind: K_SIDE_VIEW };
const SIDE: Classified = { kind: K_SIDE };
const refuse = (reason: string): Classified => ({ kind: K_REFUSE, reason });
const simple = (kind: number): Classified => ({ kind });
const DATE = simple(K_DATE);
const REGEXP = simple(K_REGEXP);
const MAP = simple(K_MAP);
const SET = simple(K_SET);
const ERROR = simple(K_ERROR);
const BOXED = simple(K_BOXED);
const ARRAY_BUFFER = simple(K_ARRAY_BUFFER);

/** %TypedArray%.prototype[Symbol.toStringTag]: the brand name of a typed array, or undefined. */
const typedArrayName = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)!.get as (this: unknown) => string | undefined;

const KIND_BY_NAME = new Map<string, number>(VIEW_CTORS.map((C, i) => [C.name, i]));

/** The TYPED kind byte of an ArrayBuffer view (its brand, not its prototype). */
export function viewKind(v: ArrayBufferView): number {
  const name = typedArrayName.call(v);
  return name === undefined ? KIND_DATAVIEW : KIND_BY_NAME.get(name)!;
}

/** Node marks objects it clones or transfers itself with these symbols on their prototype. */
const NODE_MESSAGING = new Set(['messaging_clone_symbol', 'messaging_transfer_symbol']);
const hostProtos = new WeakMap<object, boolean>();

function hasNodeMessagingSymbol(o: object): boolean {
  let p = Object.getPrototypeOf(o) as object | null;
  const first = p;
  if (first !== null) {
    const cached = hostProtos.get(first);
    if (cached !== undefined) return cached;
  }
  let found = false;
  for (; p !== null && !found; p = Object.getPrototypeOf(p) as object | null) {
    for (const s of Object.getOwnPropertySymbols(p)) {
      if (NODE_MESSAGING.has(s.description ?? '')) found = true;
    }
  }
  if (first !== null) hostProtos.set(first, found);
  return found;
}

/** Not in our TypeScript libs (no DOM lib), but always present in Node. */
const wasm = (globalThis as unknown as { WebAssembly: Record<'Module' | 'Memory', Function> }).WebAssembly;

function isSideObject(o: object): boolean {
  return (
    o instanceof MessagePort ||
    o instanceof wasm.Module ||
    o instanceof wasm.Memory ||
    types.isKeyObject(o) ||
    types.isCryptoKey(o) ||
    hasNodeMessagingSymbol(o)
  );
}

/**
 * Classify an object that is not an Array and whose prototype is not Object.prototype or null.
 * Proxies have been refused already by the caller.
 */
export function classify(o: object): Classified {
  if (ArrayBuffer.isView(o)) {
    if (types.isSharedArrayBuffer(o.buffer)) return SIDE_VIEW;
    return Buffer.isBuffer(o) ? BUFFER : VIEW;
  }
  if (types.isArrayBuffer(o)) return ARRAY_BUFFER;
  if (types.isSharedArrayBuffer(o)) return SIDE;
  if (types.isDate(o)) return DATE;
  if (types.isRegExp(o)) return REGEXP;
  if (types.isMap(o)) return MAP;
  if (types.isSet(o)) return SET;
  if (types.isNativeError(o)) return ERROR;
  if (types.isBoxedPrimitive(o)) {
    return types.isSymbolObject(o) ? refuse('a Symbol wrapper object cannot be cloned') : BOXED;
  }
  if (types.isPromise(o)) return refuse('a Promise cannot be cloned (send its result instead)');
  if (types.isWeakMap(o) || types.isWeakSet(o)) return refuse('a WeakMap/WeakSet cannot be cloned');
  if (o instanceof WeakRef || o instanceof FinalizationRegistry) {
    return refuse('a WeakRef/FinalizationRegistry cannot be cloned');
  }
  if (types.isGeneratorObject(o)) return refuse('a generator object cannot be cloned');
  if (types.isMapIterator(o) || types.isSetIterator(o)) {
    return refuse('an iterator cannot be cloned (spread it into an array)');
  }
  if (types.isArgumentsObject(o)) return refuse('an arguments object cannot be cloned');
  if (types.isModuleNamespaceObject(o)) return refuse('a module namespace cannot be cloned');
  if (types.isExternal(o)) return refuse('an external (native) value cannot be cloned');
  if (isSideObject(o)) return SIDE;
  const tag = (o as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  if (typeof tag === 'string' && tag.startsWith('Intl.')) return refuse(`an ${tag} cannot be cloned`);
  return PLAIN;
}

/** Why a primitive of this typeof cannot be sent, or undefined when it can. */
export function refusePrimitive(t: string): string {
  return t === 'function'
    ? 'a function cannot be cloned (send a module URL and export name instead)'
    : 'a symbol cannot be cloned';
}

// ---- error classes -------------------------------------------------------------------------

type ErrorCtor = new (...args: never[]) => Error;

/** shoal's own error classes (every ShoalError subclass exported by core/errors.ts), by name. */
const registered = new Map<string, ErrorCtor>();
const registeredProtos = new Map<object, string>();
for (const v of Object.values(shoalErrors)) {
  if (typeof v === 'function' && (v === ShoalError || v.prototype instanceof ShoalError)) {
    registered.set(v.name, v as ErrorCtor);
    registeredProtos.set(v.prototype as object, v.name);
  }
}

/**
 * The error base of `e`: the index into ERROR_BASES of its nearest built-in class, or
 * ERR_REGISTERED with the shoal class name when a shoal error class is on its prototype chain.
 */
export function errorBase(e: Error): { base: number; registeredName?: string } {
  for (let p = Object.getPrototypeOf(e) as object | null; p !== null; p = Object.getPrototypeOf(p)) {
    const name = registeredProtos.get(p);
    if (name !== undefined) return { base: ERROR_BASES.length, registeredName: name };
    const i = (ERROR_BASES as readonly { prototype: object }[]).findIndex((C) => C.prototype === p);
    if (i >= 0) return { base: i };
  }
  return { base: 0 };
}

const KNOWN_ERROR_PROPS: readonly string[] = ['message', 'stack', 'cause', 'errors', 'name'];

/** What the writer sends for an Error: its base, and its properties as [key, enumerable, value]. */
export interface ErrorDescription {
  base: number;
  registeredName?: string;
  props: [string, boolean, unknown][];
}

/**
 * The own properties an Error is sent with: message, stack, cause, errors and name when own
 * (whatever their enumerability), `name` when a subclass changed it without owning it, then
 * every other own enumerable property (code, status...). Getters are called, once.
 */
export function describeError(e: Error): ErrorDescription {
  const { base, registeredName } = errorBase(e);
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
    if (!KNOWN_ERROR_PROPS.includes(k)) props.push([k, true, (e as unknown as Record<string, unknown>)[k]]);
  }
  return registeredName === undefined ? { base, props } : { base, registeredName, props };
}

/** The primitive inside a boxed Number, String, Boolean or BigInt (by brand, not valueOf). */
export function unbox(o: object): number | string | boolean | bigint {
  if (types.isNumberObject(o)) return Number.prototype.valueOf.call(o);
  if (types.isStringObject(o)) return String.prototype.valueOf.call(o);
  if (types.isBooleanObject(o)) return Boolean.prototype.valueOf.call(o);
  return BigInt.prototype.valueOf.call(o);
}

/** The class a decoded error gets: a shoal class by name, or undefined when unknown. */
export function registeredErrorClass(name: string): ErrorCtor | undefined {
  return registered.get(name);
}
