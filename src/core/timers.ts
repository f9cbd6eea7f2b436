/**
 * Timers with handles: `after(ms, fn)` one-shot and `every(ms, fn)` periodic.
 *
 * Runs on any thread. Owns the underlying Node timer of each handle (one at a time per handle).
 * Timers and the clock are read from `globalThis` at call time so the fake clock of the tests
 * (test/fixtures/fake-clock.ts) can stand in for them.
 *
 * `every` policy (fixed rate, no drift, no overlap):
 *  1. Ticks are due at start + k*ms, k = 1, 2, ... Each timer is armed for the next due time
 *     computed from `start`, not from "now + ms", so lateness never accumulates.
 *  2. A run never overlaps the previous one: when `fn` returns a promise, the next run waits for
 *     it. Ticks that fell due meanwhile are skipped, not replayed in a burst; `fn` is told how many
 *     were missed.
 *  3. If `fn` throws or its promise rejects, the timer stops and the error goes where a
 *     `setTimeout` callback's error would (uncaught exception / unhandled rejection).
 *
 * Errors of `after`'s `fn` likewise go where setTimeout's would.
 */
import { codeError, validateOptions, validateSignal, validateTimeout } from './args.js';

/**
 * A running timer. Disposable: `using t = every(...)` cancels it at the end of the block.
 *
 * @example
 * const beat = every(1000, ping).unref(); // does not keep the thread alive
 * beat.cancel();
 */
export interface TimerHandle extends Disposable {
  /** Stop the timer. A run already in progress finishes. Returns false if it had already stopped. */
  cancel(): boolean;
  /** Keep the thread alive while the timer is armed (the default). */
  ref(): this;
  /** Let the thread exit while only this timer is armed. */
  unref(): this;
  /** True while the timer keeps the thread alive. */
  hasRef(): boolean;
  /** True until cancelled, fired (after) or stopped by an error (every). */
  readonly active: boolean;
}

/**
 * What `every` passes to each run.
 *
 * @example
 * every(100, ({ n, missed }) => { if (missed) console.warn(`tick ${n}: ${missed} skipped`) });
 */
export interface Tick {
  /** 1 for the first run, then the index of the due time this run serves. */
  readonly n: number;
  /** Ticks skipped since the previous run because it ran long or the thread was busy. */
  readonly missed: number;
}

/**
 * Options of `after` and `every`.
 *
 * @example
 * after(5000, warnSlow, { signal: request.signal }); // gone when the request ends
 */
export interface TimerOptions {
  /** Cancels the timer when aborted. */
  signal?: AbortSignal;
}

type NodeTimer = ReturnType<typeof setTimeout>;

/** The shared part of both handles: one armed Node timer at a time, ref state, signal link. */
abstract class BaseTimer implements TimerHandle {
  protected timer: NodeTimer | undefined = undefined;
  protected refed = true;
  protected live = true;
  private signal: AbortSignal | undefined;
  private readonly onAbort = (): void => void this.cancel();

  constructor(signal: AbortSignal | undefined) {
    if (signal !== undefined) {
      this.signal = signal;
      if (signal.aborted) this.live = false;
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get active(): boolean {
    return this.live;
  }

  protected arm(delay: number, cb: () => void): void {
    const t = globalThis.setTimeout(cb, Math.max(0, delay));
    if (!this.refed) t.unref();
    this.timer = t;
  }

  protected stop(): void {
    this.live = false;
    if (this.timer !== undefined) globalThis.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.signal !== undefined) {
      this.signal.removeEventListener('abort', this.onAbort);
      this.signal = undefined;
    }
  }

  cancel(): boolean {
    if (!this.live) return false;
    this.stop();
    return true;
  }

  ref(): this {
    this.refed = true;
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.refed = false;
    this.timer?.unref();
    return this;
  }

  hasRef(): boolean {
    return this.live && this.refed && this.timer !== undefined;
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

class AfterTimer extends BaseTimer {
  constructor(ms: number, fn: () => unknown, signal: AbortSignal | undefined) {
    super(signal);
    if (this.live) {
      this.arm(ms, () => {
        this.stop();
        fn();
      });
    }
  }
}

class EveryTimer extends BaseTimer {
  private readonly start = now();
  private n = 0;

  constructor(
    private readonly ms: number,
    private readonly fn: (tick: Tick) => unknown,
    signal: AbortSignal | undefined,
  ) {
    super(signal);
    if (this.live) this.arm(ms, this.fire);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (!this.live) return;
    // Which due time are we serving? floor((now - start) / ms), at least one past the last run.
    const due = Math.max(this.n + 1, Math.floor((now() - this.start) / this.ms));
    const tick: Tick = { n: due, missed: due - this.n - 1 };
    this.n = due;
    let r: unknown;
    try {
      r = this.fn(tick);
    } catch (e) {
      this.stop();
      throw e;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      Promise.resolve(r).then(this.next, (e: unknown) => {
        this.stop();
        throw e;
      });
    } else {
      this.next();
    }
  };

  /** Arm for the first due time strictly after now (skipping the ones that passed). */
  private readonly next = (): void => {
    if (!this.live) return;
    const elapsed = now() - this.start;
    const k = Math.max(this.n + 1, Math.floor(elapsed / this.ms) + 1);
    this.arm(this.start + k * this.ms - now(), this.fire);
  };
}

/**
 * Call `fn` once after `ms` milliseconds, unless cancelled first.
 *
 * @example
 * const t = after(5000, () => console.log('slow request'));
 * await doRequest();
 * t.cancel();
 */
export function after(ms: number, fn: () => unknown, opts?: TimerOptions): TimerHandle {
  validateTimeout(ms, 'ms');
  validateFn(fn);
  validateOptions(opts);
  return new AfterTimer(ms, fn, validateSignal(opts?.signal));
}

/**
 * Call `fn` every `ms` milliseconds (ms >= 1) at a fixed rate, never overlapping itself; see the
 * module header for the policy on late and long runs.
 *
 * @example
 * using beat = every(1000, async ({ n, missed }) => {
 *   await report(n);
 *   if (missed) console.warn(`${missed} beats skipped`);
 * });
 */
export function every(ms: number, fn: (tick: Tick) => unknown, opts?: TimerOptions): TimerHandle {
  validateTimeout(ms, 'ms');
  if (ms < 1) throw codeError(RangeError, 'ERR_OUT_OF_RANGE', `ms must be >= 1 for every(), got ${ms}`);
  validateFn(fn);
  validateOptions(opts);
  return new EveryTimer(ms, fn, validateSignal(opts?.signal));
}

function validateFn(fn: unknown): void {
  if (typeof fn !== 'function') {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      `fn must be a function, got ${fn === null ? 'null' : typeof fn}`,
    );
  }
}

function now(): number {
  return globalThis.performance.now();
}
