/**
 * `timeout(p, ms)`: the outcome of `p`, or TimeoutError once `ms` have passed, whichever is first.
 *
 * Runs on any thread. Owns one timer per call, cleared as soon as the race is decided either way,
 * so a settled timeout never keeps the thread alive.
 *
 * Given a function instead of a promise, `timeout` calls it with an AbortSignal that it aborts
 * (with the TimeoutError, or the CancelledError) when the race is lost, so the work itself can
 * stop instead of running on unobserved. It does not wait for that work to wind down.
 */
import { onCancel, throwIfCancelled } from './context.js';
import { TimeoutError } from './errors.js';
import { checkString, codeError, validateOptions, validateSignal, validateTimeout } from './args.js';

/**
 * Options of `timeout`.
 *
 * @example
 * await timeout(p, 100, { signal, message: 'upstream too slow' });
 */
export interface TimeoutOptions {
  /** Cancels the wait: it rejects with CancelledError. */
  signal?: AbortSignal;
  /** Message of the TimeoutError. Default: `timed out after <ms> ms`. */
  message?: string;
}

/**
 * Race `work` against a timer of `ms` milliseconds.
 *
 * @example
 * const body = await timeout(fetch(url), 2000);              // TimeoutError after 2 s
 * const res = await timeout((signal) => fetch(url, { signal }), 2000); // and the fetch is aborted
 */
export function timeout<T>(
  work: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T> | T),
  ms: number,
  opts?: TimeoutOptions,
): Promise<T> {
  validateTimeout(ms, 'ms');
  validateOptions(opts);
  const signal = validateSignal(opts?.signal);
  const message = opts?.message ?? `timed out after ${ms} ms`;
  checkString('message', message);
  const isFn = typeof work === 'function';
  if (!isFn && (work === null || typeof work !== 'object' || typeof (work as PromiseLike<T>).then !== 'function')) {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'work must be a promise, a thenable or a function returning one',
    );
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let off: () => void = noop;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctl = isFn ? new AbortController() : undefined;
    // Decides the race exactly once; everything after the first call is a no-op.
    const finish = (ok: boolean, v: unknown): void => {
      if (done) return;
      done = true;
      globalThis.clearTimeout(timer);
      off();
      if (!ok) ctl?.abort(v);
      if (ok) resolve(v as T);
      else reject(v);
    };
    try {
      throwIfCancelled(signal);
    } catch (e) {
      reject(e);
      return;
    }
    timer = globalThis.setTimeout(() => finish(false, new TimeoutError(message)), ms);
    off = onCancel(signal, (err) => finish(false, err));
    let p: PromiseLike<T> | T;
    try {
      p = isFn ? (work as (s: AbortSignal) => PromiseLike<T> | T)(ctl!.signal) : work;
    } catch (e) {
      finish(false, e);
      return;
    }
    // Promise.resolve also attaches a handler, so a late rejection of `work` is never unhandled.
    Promise.resolve(p).then(
      (v) => finish(true, v),
      (e: unknown) => finish(false, e),
    );
  });
}

function noop(): void {}
