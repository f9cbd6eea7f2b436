/**
 * `deferred<T>()`: a promise with its resolve and reject handed out, first delivery wins.
 *
 * Runs on any thread. Owns one promise.
 *
 * Choice on errors: a deferred can hold an error for awaiters that come later (that is what it is
 * for: "the config failed to load" stays the answer). So a rejected deferred is marked handled
 * and never raises an unhandled rejection by itself; each awaiter still gets the error.
 */

/**
 * A promise and the two functions that settle it.
 *
 * @example
 * const d: Deferred<number> = deferred();
 * d.resolve(1); d.settled; // true
 */
export interface Deferred<T> {
  /** Settles with the first delivery. Awaitable by any number of waiters. */
  readonly promise: Promise<T>;
  /** Deliver a value (or a promise to adopt). Returns false when something was already delivered. */
  resolve(value: T | PromiseLike<T>): boolean;
  /** Deliver an error. Returns false when something was already delivered. */
  reject(reason?: unknown): boolean;
  /** True once resolve or reject was accepted (even when the adopted promise is still pending). */
  readonly settled: boolean;
}

/**
 * Make a deferred: hand `resolve`/`reject` to one party and `promise` to many.
 *
 * @example
 * const ready = deferred<string>();
 * server.once('listening', () => ready.resolve('up'));
 * ready.resolve('again'); // false: the first delivery won
 * await ready.promise;    // 'up', for every awaiter
 */
export function deferred<T>(): Deferred<T> {
  let res!: (v: T | PromiseLike<T>) => void;
  let rej!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    res = a;
    rej = b;
  });
  let settled = false;
  return {
    promise,
    resolve(value: T | PromiseLike<T>): boolean {
      if (settled) return false;
      settled = true;
      res(value);
      // An adopted promise that rejects is held like a direct reject (see the module header).
      if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<T>).then === 'function')
        promise.catch(noop);
      return true;
    },
    reject(reason?: unknown): boolean {
      if (settled) return false;
      settled = true;
      promise.catch(noop);
      rej(reason);
      return true;
    },
    get settled(): boolean {
      return settled;
    },
  };
}

function noop(): void {}
