/**
 * Introspection of this thread's green threads: what is alive (`tasks()`), where it was spawned
 * (tracing), and whether something held the thread for long (`loopDelay()`, `watchSlowSlices()`).
 *
 * Runs on any thread; every figure is about the calling thread only. Owns the tracing switch
 * (stored in task.ts's registry so spawn reads it with one load), one lazily enabled event-loop
 * delay histogram, and the timers of slow-slice watchers.
 *
 * Long slices are reported, never pre-empted: JS cannot interrupt a running slice, and killing a
 * thread to stop one is what users hate about pools (piscina#156). A task that must run long
 * should `await yieldNow()` now and then.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { checkBoolean, codeError, validateOptions } from './args.js';
import type { TaskState } from './task.js';
import { registry } from './task-registry.js';

/**
 * One live task in a `tasks()` snapshot (frozen).
 *
 * @example
 * for (const t of tasks()) if (t.ageMs > 60_000) console.warn(`${t.name} running for a minute`, t.stack ?? '');
 */
export interface TaskInfo {
  readonly id: number;
  readonly name: string;
  readonly state: TaskState;
  /** Milliseconds since spawn. */
  readonly ageMs: number;
  /** Where it was spawned (the stack without its first line), when tracing was on at spawn. */
  readonly stack?: string;
}

/**
 * Snapshot of this thread's live tasks, newest first. Plain frozen objects: safe to log, keep or
 * send to another thread.
 *
 * @example
 * setTracing(true);
 * spawn(() => sleep(1000), { name: 'nap' });
 * tasks(); // [{ id: 1, name: 'nap', state: 'running', ageMs: 0.1, stack: '    at ...' }]
 */
export function tasks(opts?: { limit?: number }): readonly TaskInfo[] {
  validateOptions(opts);
  const limit = opts?.limit ?? Infinity;
  if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
    throw codeError(RangeError, 'ERR_OUT_OF_RANGE', `limit must be a number >= 0, got ${String(limit)}`);
  }
  const now = globalThis.performance.now();
  const out: TaskInfo[] = [];
  for (let t = registry.head; t !== null && out.length < limit; t = t._next) {
    const info: { -readonly [K in keyof TaskInfo]: TaskInfo[K] } = {
      id: t.id,
      name: t.name,
      state: t.state,
      ageMs: now - t._born,
    };
    if (t._trace !== undefined) info.stack = stackOf(t._trace);
    out.push(Object.freeze(info));
  }
  return Object.freeze(out);
}

/**
 * Number of live tasks on this thread (cheap: no snapshot).
 *
 * @example
 * if (taskCount() > 10_000) shedLoad();
 */
export function taskCount(): number {
  return registry.count;
}

/**
 * Record where each task is spawned from now on (shown by `tasks()`). Also on when the thread
 * starts with SHOAL_TRACE=1. Costs a captured stack per spawn (~µs), so off by default.
 *
 * @example
 * setTracing(true); // then tasks()[0].stack
 */
export function setTracing(on: boolean): void {
  checkBoolean('on', on);
  registry.tracing = on;
}

/**
 * True when spawn records stacks.
 *
 * @example
 * if (!isTracing()) setTracing(true);
 */
export function isTracing(): boolean {
  return registry.tracing;
}

function stackOf(e: Error): string {
  const s = e.stack ?? '';
  // Drop the message line and the frames inside shoal's own spawn machinery.
  return s
    .split('\n')
    .slice(1)
    .filter((l) => !/[/\\]core[/\\](task|scope)\.(js|ts)/.test(l))
    .join('\n');
}

/**
 * Event-loop delay statistics, in milliseconds.
 *
 * @example
 * const { p99 }: LoopDelayStats = loopDelay();
 */
export interface LoopDelayStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  /** Samples taken since the histogram started or was last reset. */
  readonly count: number;
}

let histogram: IntervalHistogram | undefined;

/**
 * This thread's event-loop delay since the first call (or the last `reset`): how late the loop
 * came round, so `max` is the longest slice something held the thread for (within ~10 ms). The
 * first call starts the sampler (an unref'd 10 ms timer inside Node) and returns zeros.
 *
 * @example
 * loopDelay();                       // start sampling
 * // ... later
 * const { p99, max } = loopDelay({ reset: true });
 */
export function loopDelay(opts?: { reset?: boolean }): LoopDelayStats {
  validateOptions(opts);
  if (histogram === undefined) {
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
  }
  const h = histogram;
  const ms = (ns: number): number => ns / 1e6;
  const stats: LoopDelayStats =
    h.count === 0
      ? { min: 0, max: 0, mean: 0, p50: 0, p99: 0, count: 0 }
      : {
          min: ms(h.min),
          max: ms(h.max),
          mean: ms(h.mean),
          p50: ms(h.percentile(50)),
          p99: ms(h.percentile(99)),
          count: h.count,
        };
  if (opts?.reset === true) h.reset();
  return Object.freeze(stats);
}

/**
 * What a slow-slice watcher reports.
 *
 * @example
 * watchSlowSlices({ thresholdMs: 100, onSlow: ({ blockedMs, liveTasks }) => log(blockedMs, liveTasks) });
 */
export interface SlowSlice {
  /** How much later than expected the loop came round: the length of the slice, roughly. */
  readonly blockedMs: number;
  /** performance.now() when it was noticed (the slice just ended). */
  readonly at: number;
  /** Live tasks on this thread then. */
  readonly liveTasks: number;
}

/**
 * A running slow-slice watcher.
 *
 * @example
 * const w = watchSlowSlices({ thresholdMs: 100, onSlow }); w.stop();
 */
export interface SlowSliceWatcher extends Disposable {
  stop(): void;
}

/**
 * Call `onSlow` whenever the thread was held for more than `thresholdMs` in one go (a long
 * synchronous slice). Samples every `intervalMs` (default: thresholdMs / 2, at least 5) with an
 * unref'd timer, so it never keeps the thread alive. Reported, never pre-empted.
 *
 * @example
 * using w = watchSlowSlices({ thresholdMs: 50, onSlow: (s) => console.warn(`blocked ${s.blockedMs} ms`) });
 */
export function watchSlowSlices(opts: {
  thresholdMs: number;
  intervalMs?: number;
  onSlow: (s: SlowSlice) => void;
}): SlowSliceWatcher {
  if (typeof opts !== 'object' || opts === null)
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'options must be an object');
  const { thresholdMs, onSlow } = opts;
  if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs <= 0) {
    throw codeError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `thresholdMs must be a finite number > 0, got ${String(thresholdMs)}`,
    );
  }
  const intervalMs = opts.intervalMs ?? Math.max(5, Math.floor(thresholdMs / 2));
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 1) {
    throw codeError(RangeError, 'ERR_OUT_OF_RANGE', `intervalMs must be an integer >= 1, got ${String(intervalMs)}`);
  }
  if (typeof onSlow !== 'function') throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'onSlow must be a function');
  let expected = globalThis.performance.now() + intervalMs;
  const timer = globalThis.setInterval(() => {
    const now = globalThis.performance.now();
    const late = now - expected;
    expected = now + intervalMs;
    if (late > thresholdMs) onSlow(Object.freeze({ blockedMs: late, at: now, liveTasks: registry.count }));
  }, intervalMs);
  timer.unref();
  const stop = (): void => globalThis.clearInterval(timer);
  return { stop, [Symbol.dispose]: stop };
}
