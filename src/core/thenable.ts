/**
 * `isThenable`: whether a value is a promise or promise-like (has a callable `then`). Runs on any
 * thread; owns nothing. A `then` getter that throws propagates to the caller.
 */

/** True for a promise or any object or function with a callable `then`. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}
