/**
 * AwakeWindow — how long a loop that is driven by another thread's doorbell rings stays awake,
 * turning over its event loop with setImmediate, after its last piece of work before it parks.
 *
 * Runs on any thread: the reactor (main thread) and each worker's net host have one each. Owns
 * nothing shared; it is a small adaptive policy, one instance per loop, used from that loop only.
 *
 * Why: waking a parked thread costs the ringer an Atomics.notify (tens of µs of its own CPU:
 * docs/measurements.md "Platform") and the sleeper a wake-up through the kernel. A loop that is awake (its doorbell STATE is RUNNING, a turn is queued) costs a ringer
 * nothing and picks the work up on its next loop iteration. But staying awake burns CPU that the
 * other threads may need (on 2 cores the workers, the main thread and often the load all share
 * them), so the window adapts to what it would have saved:
 *
 * 1. A park after a window that found no work halves the window (it was spent for nothing);
 *    below MIN it closes (0).
 * 2. A wake-up that came sooner than `maxMs` after the last work (or the park, if later) opens
 *    the window to cover that gap (x1.5): had the loop stayed awake that long, the wake-up would
 *    have been free. The gap ends when the peer rang, not when this loop ran again: the kernel's
 *    wake-up delay (tens of µs, more on a busy box; from the doorbell's RUNG_AT) is not the peer's
 *    silence. Counting it made a ping-pong that once parked keep parking (every gap then looked
 *    longer than maxMs).
 * 3. Work keeps the loop awake for the current window after it; work never grows the window by
 *    itself, so a loop whose peers answer slowly (a CPU-heavy handler) converges to parking at once.
 * 4. A hold (`setHold`, 0 = none; the net hosts use it with at most a few connections open): while
 *    the moving average of the time between turns with work (1/8 weight to the newest gap) is
 *    under `maxMs`, the loop stays awake for at least `holdMs` after its last work: rare long gaps
 *    (a GC, a busy scheduler) otherwise each park the loop, cost the peer a notify and send rules
 *    1 and 2 relearning the window. The cost is bounded: a peer that goes quiet costs one hold of
 *    spinning, and a sparse peer (average gap over `maxMs`) is never held.
 * 5. A spin that lost its CPU (`preempted`, detected by the loop: a turn that came more than
 *    PREEMPTED_MS after an empty awake turn, where a turn of a running loop comes within µs)
 *    closes the window and turns staying awake off for a while (SUSPEND_MIN_MS, doubling up to
 *    SUSPEND_MAX_MS while preempted spins keep coming). A thread that is descheduled
 *    while it spins is taking a core that a thread doing work (the peer it waits for, the load, a
 *    neighbour) needed: on a machine with more runnable threads than cores, staying awake makes
 *    the peer's answer slower, not faster (both threads spinning take turns on one core:
 *    docs/measurements.md 2026-12-07 10:50, the TCP echo at one connection). Parking then
 *    costs a notify a message, which is the cheaper of the two there. On a machine with a core
 *    to spare no spin is preempted and nothing changes.
 *
 * The design and the measurements behind each rule: docs/design.md "Why stay awake",
 * docs/measurements.md "awake windows".
 */
import { rangeError } from '../core/args.js';

/** Below this a window is not worth a turn (ms). */
const MIN_MS = 0.005;

/**
 * Rule 5: an awake turn that follows an empty awake turn by more than this (ms) was held off the
 * CPU. A running loop turns over in µs (a few more while a socket event runs between turns); the
 * scheduler's slices on a busy machine are milliseconds.
 */
export const PREEMPTED_MS = 1;

/**
 * Rule 5: how long staying awake stays off after a preempted spin (ms): SUSPEND_MIN_MS after a
 * lone one (a GC pause, a neighbour's burst), doubling up to SUSPEND_MAX_MS while preempted spins
 * keep coming within SUSPEND_RECENT_MS of the end of the last suspension (a machine short of cores).
 */
export const SUSPEND_MIN_MS = 2;
export const SUSPEND_MAX_MS = 50;
const SUSPEND_RECENT_MS = 20;

/**
 * The adaptive stay-awake policy of one loop.
 *
 * @example
 * const win = new AwakeWindow(0.1);
 * // in each turn:
 * if (found > 0) win.work(now);
 * if (found > 0 || win.awake(now)) queueTurn();
 * else { win.parking(now); await bell.wait(seq); win.woken(performance.now()); }
 */
export class AwakeWindow {
  /** Longest window (ms); 0 disables staying awake. */
  maxMs: number;
  private windowMs = 0;
  private lastWorkAt = -Infinity;
  private parkedAt = -1;
  private holdMs = 0;
  /** moving average of the time between turns with work (rule 4) */
  private avgGapMs = Infinity;
  /** rule 5: staying awake is off until then (performance.now() ms) */
  private suspendedUntil = -Infinity;
  private suspendMs = 0;
  /** rule 5: preempted spins seen, for stats and tests */
  preemptions = 0;

  constructor(maxMs: number) {
    if (!(maxMs >= 0) || !Number.isFinite(maxMs)) {
      throw rangeError(`AwakeWindow: maxMs must be a finite number >= 0, got ${String(maxMs)}`);
    }
    this.maxMs = maxMs;
  }

  /**
   * Change the longest window (ms), e.g. with the load: a loop with few peers to serve is
   * latency-bound and has CPU to spare, one with many finds work on its turns anyway.
   */
  setMax(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw rangeError(`AwakeWindow: maxMs must be a finite number >= 0, got ${String(ms)}`);
    }
    this.maxMs = ms;
    if (this.windowMs > ms) this.windowMs = ms;
  }

  /** The loop found or caused work at `now` (performance.now()). */
  work(now: number): void {
    // rule 4's moving average (a first gap from nothing sets it)
    if (this.lastWorkAt > -Infinity) {
      const gap = now - this.lastWorkAt;
      this.avgGapMs = this.avgGapMs === Infinity ? gap : this.avgGapMs + (gap - this.avgGapMs) / 8;
    }
    this.lastWorkAt = now;
  }

  /** True while the loop should stay awake (queue another turn rather than park). */
  awake(now: number): boolean {
    if (now < this.suspendedUntil) return false; // rule 5
    // rule 4: a busy peer's long gap is its tail, not silence
    const held = this.holdMs > 0 && this.avgGapMs < this.maxMs;
    return now - this.lastWorkAt < (held ? Math.max(this.windowMs, this.holdMs) : this.windowMs);
  }

  /** Rule 4: stay awake at least `ms` after work while the peer is busy (0 = no hold). */
  setHold(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw rangeError(`AwakeWindow: holdMs must be a finite number >= 0, got ${String(ms)}`);
    }
    this.holdMs = ms;
  }

  /**
   * Rule 5: the loop stayed awake and was held off the CPU (a turn came more than PREEMPTED_MS
   * after an empty awake turn): close the window and stay off for a while (doubling while it recurs).
   */
  preempted(now: number): void {
    this.preemptions++;
    this.windowMs = 0;
    const again = now - this.suspendedUntil < SUSPEND_RECENT_MS;
    this.suspendMs = again ? Math.min(SUSPEND_MAX_MS, this.suspendMs * 2) : SUSPEND_MIN_MS;
    this.suspendedUntil = now + this.suspendMs;
  }

  /** The loop parks at `now`: rule 1. */
  parking(now: number): void {
    if (this.windowMs > 0) this.windowMs = this.windowMs / 2 < MIN_MS ? 0 : this.windowMs / 2;
    this.parkedAt = now;
  }

  /**
   * The loop woke from a park at `now`: rule 2. `lagMs`: how long after the peer's ring it ran
   * (Doorbell.msSinceNotify), or -1 when unknown.
   */
  woken(now: number, lagMs = -1): void {
    if (this.parkedAt < 0) return;
    // work done while parked (a socket event's turn) restarts the clock: the gap that a window
    // would have had to cover runs from the last work, not from the park
    let gap = now - Math.max(this.parkedAt, this.lastWorkAt);
    if (lagMs >= 0 && lagMs <= gap) gap -= lagMs;
    this.parkedAt = -1;
    if (gap < this.maxMs) this.windowMs = Math.min(this.maxMs, Math.max(this.windowMs, gap * 1.5));
  }

  /**
   * The loop is awake again without a wake-up from its peer (another event ran a turn that found
   * work): the park is over without a gap to learn from.
   */
  unparked(): void {
    this.parkedAt = -1;
  }

  /** The current window (ms), for stats and tests. */
  get windowMsNow(): number {
    return this.windowMs;
  }
}
