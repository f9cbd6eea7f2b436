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

/** Build the proxy. `then` is not a method name on purpose: the proxy must not look like a promise. */
export function remoteModule<T>(run: Runner): Remote<T> {
  const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_t, key) {
      if (typeof key !== 'string' || key === 'then') return undefined;
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
