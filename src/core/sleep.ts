/**
 * The two simplest waits: `sleep(ms)` and `yieldNow()`.
 *
 * Runs on any thread. Owns nothing but the timer or immediate of each pending wait. Both honour an
 * explicit `signal` and the ambient task signal (context.ts), rejecting with CancelledError and
 * clearing their timer at once, so a cancelled sleeper wakes promptly and holds no handle.
 *
 * Timers are read from `globalThis` at call time (not imported from node:timers) so that the fake
 * clock of the tests (test/fixtures/fake-clock.ts) can stand in for them.
 */
import { onCancel, throwIfCancelled } from './context.js';
import { codeError, MAX_TIMEOUT_MS, validateOptions, validateSignal } from './args.js';

/**
 * Options of `sleep` and `yieldNow`.
 *
 * @example
 * await sleep(100, { signal: controller.signal });
 */
export interface WaitOptions {
  /** Cancels the wait: it rejects with CancelledError (cause = the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Resolve after `ms` milliseconds: any finite number in [0, 2^31-1], fractions included
 * (`sleep(Math.random() * 100)`), handed to `setTimeout` as is, so it is rounded the way timers
 * round (a timer fires on a whole millisecond, never early). NaN, negatives, Infinity and larger
 * values throw RangeError at the call site. Keeps the thread alive while pending, like `setTimeout`.
 *
 * @example
 * await sleep(100);
 * await sleep(Math.random() * 50); // jitter: fractions are fine
 * await sleep(60_000, { signal: AbortSignal.timeout(10) }).catch((e) => e.code); // 'ERR_SHOAL_CANCELLED'
 */
export function sleep(ms: number, opts?: WaitOptions): Promise<void> {
  validateDelay(ms);
  validateOptions(opts);
  const signal = validateSignal(opts?.signal);
  return new Promise<void>((resolve, reject) => {
    throwIfCancelled(signal);
    const off = onCancel(signal, (err) => {
      globalThis.clearTimeout(timer);
      reject(err);
    });
    const timer = globalThis.setTimeout(() => {
      off();
      resolve();
    }, ms);
  });
}

/**
 * Let every other ready task run, and let I/O callbacks and due timers in, then continue.
 *
 * Why setImmediate and not a microtask: a microtask (`await null`) runs before the event loop
 * gets a turn, so a loop that "yields" that way still starves sockets, timers and other threads'
 * messages. setImmediate resumes in the check phase, after the poll phase has run I/O. Cost: one
 * loop turn (~µs when idle), so yield every few ms of CPU work, not every iteration.
 *
 * @example
 * for (const item of bigList) {
 *   work(item);
 *   if (++n % 1000 === 0) await yieldNow();
 * }
 */
export function yieldNow(opts?: WaitOptions): Promise<void> {
  validateOptions(opts);
  const signal = validateSignal(opts?.signal);
  return new Promise<void>((resolve, reject) => {
    throwIfCancelled(signal);
    const off = onCancel(signal, (err) => {
      globalThis.clearImmediate(imm);
      reject(err);
    });
    const imm = globalThis.setImmediate(() => {
      off();
      resolve();
    });
  });
}

/** sleep's `ms`: a number of ms, fractions allowed (unlike the integer timeouts of channel waits). */
function validateDelay(ms: unknown): void {
  if (typeof ms !== 'number') {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `ms must be a number of ms, got ${typeof ms}`);
  }
  if (!(ms >= 0 && ms <= MAX_TIMEOUT_MS)) {
    throw codeError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `ms must be a number in [0, ${MAX_TIMEOUT_MS}] ms, got ${String(ms)}`,
    );
  }
}
