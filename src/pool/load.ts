/**
 * `rt.load<T>(url)`: a typed proxy whose methods run the module's exports on the pool.
 *
 * Runs on the main thread. Owns nothing (each call is an `rt.run`).
 *
 * Why a Proxy over rt.run and not comlink: comlink sends one postMessage per call with its own
 * RPC envelope and resolves replies by UUID, so every proxied call would bypass shoal's batched
 * transports and pay a full wake-up; its types also model remote *objects* (property gets,
 * callbacks as proxies) that a stateless task module does not have. `Remote<T>` below keeps the
 * one thing comlink's types give that matters here: each function export, typed, returning a
 * promise of its awaited result.
 */

/** Options every call through a loaded module gets (a per-call signal composes with them). */
export interface LoadOptions {
  /** cancel every call made through this proxy */
  signal?: AbortSignal;
  /** per-call timeout, ms */
  timeout?: number;
}

/** The module `T` as seen from the main thread: each function export returns a promise. */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

type Runner = (name: string, args: unknown[]) => Promise<unknown>;

/**
 * Names the proxy answers itself and never sends as tasks: what JavaScript and Node ask of any
 * object (`String(m)`, `${m}`, `await m`, `JSON.stringify(m)`, `console.log(m)`, `m + ''`).
 * A module export with one of these names is still reachable with `rt.run(url, name, args)`.
 */
export const LOCAL_NAMES: readonly string[] = Object.freeze([
  'then',
  'toString',
  'valueOf',
  'toJSON',
  'toLocaleString',
  'inspect',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__proto__',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
]);
const LOCAL = new Set(LOCAL_NAMES);
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Build the proxy. `label` (the module's URL) is what `String(m)` and `console.log(m)` show.
 * The well-known names above (and every symbol) are answered here, never run as tasks: a proxy
 * must not look like a promise, and printing it must not send a task named `toString`.
 */
export function remoteModule<T>(run: Runner, label = 'module'): Remote<T> {
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const text = `[shoal module ${label}]`;
  const local: Record<string, unknown> = {
    toString: () => text,
    toLocaleString: () => text,
    valueOf: () => text,
    toJSON: () => text,
    inspect: () => text,
  };
  // util.inspect looks at a proxy's target, not through its traps: the target answers it
  const target = Object.create(null) as Record<symbol, unknown>;
  Object.defineProperty(target, INSPECT, { value: () => text });
  return new Proxy(target, {
    get(_t, key) {
      if (typeof key === 'symbol') {
        if (key === Symbol.toPrimitive) return () => text;
        if (key === INSPECT) return () => text;
        if (key === Symbol.toStringTag) return 'shoal module';
        return undefined;
      }
      if (LOCAL.has(key)) return local[key];
      let f = cache.get(key);
      if (!f) {
        f = (...args: unknown[]) => run(key, args);
        cache.set(key, f);
      }
      return f;
    },
    set() {
      return false;
    },
  }) as Remote<T>;
}
