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

/** Thrown (as a TypeError with this code) for an argument that cannot cross to a worker. */
export const ERR_UNCLONEABLE = 'ERR_SHOAL_UNCLONEABLE';

/**
 * Throw a TypeError naming the path of the first value in `value` that cannot be
 * structured-cloned. `transfer` items are accepted wherever they appear.
 */
export function assertCloneable(value: unknown, what: string, transfer?: readonly unknown[]): void {
  const seen = new Set<object>();
  const moved = transfer?.length ? new Set<unknown>(transfer) : undefined;
  const stack: Array<[unknown, string]> = [[value, what]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    const t = typeof v;
    if (t === 'function' || t === 'symbol') fail(path, t);
    if (v === null || t !== 'object') continue;
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (moved?.has(o)) continue;
    if (types.isProxy(o)) fail(path, 'a Proxy');
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) stack.push([o[i], `${path}[${i}]`]);
      continue;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) {
      for (const k of Object.keys(o)) stack.push([(o as Record<string, unknown>)[k], `${path}.${k}`]);
      continue;
    }
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date || o instanceof RegExp) continue;
    if (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer) continue;
    if (o instanceof Map) {
      for (const [k, x] of o) stack.push([k, `${path}<key>`], [x, `${path}.get(…)`]);
      continue;
    }
    if (o instanceof Set) {
      for (const x of o) stack.push([x, `${path}<member>`]);
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
