/**
 * Call-site check that task arguments can be carried to a worker, so a bad argument fails the
 * one `rt.run()` that passed it, synchronously, with nothing sent.
 *
 * Runs on the main thread. Owns nothing.
 *
 * Why a walker and not `structuredClone(args)`: a full clone per task doubles the cost of the
 * message path for the common case (numbers, strings, arrays, plain objects), and batching
 * means a single bad value found later by `postMessage` would fail the whole batch. The walker
 * accepts the common shapes in one pass and falls back to `structuredClone` only for objects it
 * does not recognise (class instances, host objects), which is where the platform's own verdict
 * is needed anyway.
 */
import { types } from 'node:util';
import { typeError } from '../../core/args.js';
import { MAX_DEPTH } from '../../codec/index.js';

/** Thrown (as a TypeError with this code) for an argument that cannot cross to a worker. */
export const ERR_UNCLONEABLE = 'ERR_SHOAL_UNCLONEABLE';

/**
 * Throw a TypeError naming the path of the first value in `value` that cannot be
 * structured-cloned. `transfer` items are accepted wherever they appear.
 */
export function assertCloneable(value: unknown, what: string, transfer?: readonly unknown[]): void {
  const seen = new Set<object>();
  const moved = transfer?.length ? new Set<unknown>(transfer) : undefined;
  const stack: Array<[unknown, string, number]> = [[value, what, 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    const t = typeof v;
    if (t === 'function' || t === 'symbol') fail(path, t);
    if (v === null || t !== 'object') continue;
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (moved?.has(o)) continue;
    if (types.isProxy(o)) fail(path, 'a Proxy');
    if (depth >= MAX_DEPTH) throw tooDeepError(path);
    const d = depth + 1;
    if (Array.isArray(o)) {
      // paths are built lazily (a string per element made a 1e6-element array cost seconds), and a
      // sparse array is walked by its present indices only (`a[1e9] = 1` is one element)
      forEachIndex(o, (x, i) => {
        if (x !== null && (typeof x === 'object' || typeof x === 'function' || typeof x === 'symbol'))
          stack.push([x, `${path}[${i}]`, d]);
      });
      continue;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) {
      for (const k of Object.keys(o)) {
        const x = (o as Record<string, unknown>)[k];
        if (x !== null && (typeof x === 'object' || typeof x === 'function' || typeof x === 'symbol'))
          stack.push([x, `${path}.${k}`, d]);
      }
      continue;
    }
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date || o instanceof RegExp) continue;
    if (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer) continue;
    if (o instanceof Map) {
      for (const [k, x] of o) stack.push([k, `${path}<key>`, d], [x, `${path}.get(…)`, d]);
      continue;
    }
    if (o instanceof Set) {
      for (const x of o) stack.push([x, `${path}<member>`, d]);
      continue;
    }
    if (o instanceof Error) continue; // the platform clones errors (lossily; wire-error.ts is for results)
    if (types.isPromise(o) || o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef) {
      fail(path, `a ${proto?.constructor?.name ?? 'value'}`);
    }
    // Unknown shape (class instance, boxed primitive, host object): ask the platform.
    try {
      structuredClone(o);
    } catch (e) {
      fail(path, `a ${proto?.constructor?.name ?? 'value'} (${(e as Error).message})`);
    }
  }
}

function fail(path: string, kind: string): never {
  throw typeError(
    `${path} cannot be sent to a worker: it is ${kind}, which structured clone cannot copy`,
    ERR_UNCLONEABLE,
  );
}

/** Deepest nesting carried between threads: the value codec's limit (codec/format.ts MAX_DEPTH). */
export { MAX_DEPTH };

/** The RangeError for a value nested deeper than MAX_DEPTH, the same the codec throws. */
export function tooDeepError(path: string): RangeError & { code: string } {
  const e = new RangeError(
    `cannot send ${path}: nesting deeper than ${MAX_DEPTH} levels cannot be sent`,
  ) as RangeError & {
    code: string;
  };
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}

/**
 * True when `v` nests arrays, plain objects, Maps or Sets deeper than `max` levels. Iterative (no
 * stack overflow whatever the depth); stops at the first level past `max`.
 */
export function nestedDeeperThan(v: object, max: number): boolean {
  const seen = new Set<object>();
  const stack: Array<[object, number]> = [[v, 1]];
  while (stack.length) {
    const [o, depth] = stack.pop()!;
    if (depth > max) return true;
    if (seen.has(o)) continue;
    seen.add(o);
    const push = (x: unknown): void => {
      if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
    };
    if (Array.isArray(o)) forEachIndex(o, push);
    else if (o instanceof Map) for (const [k, x] of o) push(k), push(x);
    else if (o instanceof Set) for (const x of o) push(x);
    else if (!ArrayBuffer.isView(o) && !types.isProxy(o))
      for (const k of Object.keys(o)) push((o as Record<string, unknown>)[k]);
  }
  return false;
}

/**
 * Call `fn` for each present element of `a`: by index while the array is dense, by its own keys
 * from the first hole on, so a sparse array costs what it holds, not its length.
 */
export function forEachIndex(a: readonly unknown[], fn: (x: unknown, i: number) => void): void {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const x = a[i];
    if (x === undefined && !(i in a)) {
      for (const key of Object.keys(a)) {
        const k = Number(key);
        if (!(k < n) || String(k) !== key) break; // index keys come first, ascending
        if (k > i) fn(a[k], k);
      }
      return;
    }
    fn(x, i);
  }
}
