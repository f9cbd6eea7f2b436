/**
 * Object shapes for the codec's reader: a per-thread cache from the bytes of an object's key list
 * to its keys, and, once a shape recurs, a generated factory that builds the object from an
 * object literal.
 *
 * Runs on any thread, called by reader.ts. Owns the cache (SLOTS entries, direct-mapped).
 *
 * Why: building an object with `o[k] = v` for keys that change from store to store is slow in V8
 * (measured here: 2.1 µs for 20 keys, against 0.03 µs for an object literal and 1.1 µs for
 * JSON.parse). Messages between threads repeat the same few shapes, so after a shape's
 * HOT_AFTER-th sighting its literal is compiled once (`new Function`) and reused.
 *
 * Invariants:
 * 1. A factory is generated only from keys that are distinct, latin1, at most MAX_KEY_LEN chars,
 *    and never `__proto__` (a literal `__proto__:` would set the prototype), quoted with
 *    JSON.stringify; so the generated source is a plain object literal and nothing else.
 * 2. A shape is found only by comparing every byte of the key list, never by hash alone.
 * 3. Shapes that do not recur never cost a compilation (a dictionary-like object with ever-new
 *    keys stays on the `o[k] = v` path), and the cache holds at most SLOTS shapes.
 * 4. Where code generation is disallowed (--disallow-code-generation-from-strings), the first
 *    failure turns factories off for the thread; decoding stays correct, only slower.
 */

/** Builds an object from v[b], v[b + 1], ... in key order. */
export type Factory = (v: unknown[], b: number) => Record<string, unknown>;

/** A cached key list. */
export interface Shape {
  readonly keys: readonly string[];
  /** The key list's bytes as they appear in a frame. */
  readonly bytes: Uint8Array;
  /** Generated once the shape turned up HOT_AFTER times; null until then or if not eligible. */
  make: Factory | null;
  hits: number;
  readonly eligible: boolean;
}

export const MAX_SHAPE_KEYS = 64;
export const MAX_KEY_LEN = 32;
const SLOTS = 256;
const HOT_AFTER = 3;

const cache: (Shape | undefined)[] = new Array<Shape | undefined>(SLOTS).fill(undefined);
let codegen = true;

/** A slot from the span's length and up to 16 sampled bytes (findShape compares them all). */
function hash(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  const step = n > 16 ? n >>> 4 : 1;
  let h = n;
  for (let i = start; i < end; i += step) h = (Math.imul(h, 31) + b[i]!) | 0;
  return (h ^ (h >>> 15)) & (SLOTS - 1);
}

/** The cached shape whose key bytes are exactly b[start, end), if any. */
export function findShape(b: Uint8Array, start: number, end: number): Shape | undefined {
  const s = cache[hash(b, start, end)];
  if (s === undefined) return undefined;
  const sb = s.bytes;
  const n = end - start;
  if (sb.length !== n) return undefined;
  for (let i = 0; i < n; i++) if (sb[i] !== b[start + i]) return undefined;
  return s;
}

/** Cache the key list b[start, end) (already decoded into `keys`). */
export function rememberShape(b: Uint8Array, start: number, end: number, keys: string[]): Shape {
  const eligible =
    keys.length <= MAX_SHAPE_KEYS &&
    new Set(keys).size === keys.length &&
    keys.every((k) => k !== '__proto__' && k.length <= MAX_KEY_LEN);
  const s: Shape = { keys, bytes: b.slice(start, end), make: null, hits: 0, eligible };
  cache[hash(b, start, end)] = s;
  return s;
}

/** Count a sighting of `s`; returns its factory once it is hot (null before, or if none). */
export function factoryOf(s: Shape): Factory | null {
  if (s.make !== null || !s.eligible || !codegen) return s.make;
  if (++s.hits < HOT_AFTER) return null;
  const body = s.keys.map((k, i) => `${JSON.stringify(k)}: v[b + ${i}]`).join(', ');
  try {
    s.make = new Function('v', 'b', `return { ${body} };`) as Factory;
  } catch {
    codegen = false;
  }
  return s.make;
}
