/**
 * CallGap — a pool worker's estimate of how soon its next task comes after it runs out of work:
 * the median of the last few idle gaps it saw (from going idle to the next task's arrival), and
 * the spin budget that estimate pays for.
 *
 * Runs on a pool worker (one per worker thread, used by worker.ts spinForNext). Owns: its sample
 * ring (plain memory, not shared).
 *
 * Why a median of gaps, not a hit/miss backoff: a worker that parks costs a cold round trip
 * (its wake-up, main's wake-up, and every step in between run on cold CPUs), several times the
 * CPU of a hot call (figures: docs/measurements.md, 2026-12-07 "cold calls' CPU"). A spin pays for itself when the next task comes before it ends and the spin is shorter than
 * that extra cost. The gap tells both at once: a caller that awaits one setImmediate between
 * calls comes back after tens of µs, past any fixed wake-lag budget (so a backoff learned to park
 * after every call), but well inside a spin that the gap itself sizes; a caller 1 ms apart never
 * would, and a spin of 1 ms costs more than the wake-up it saves. A median ignores a lone
 * outlier both ways: one slow call (a GC on main) in a hot loop, one quick call in a slow stream.
 */

/** Gaps kept (the median of this many). Odd, so the median is one sample. */
const SAMPLES = 5;
/**
 * Spin only when the expected gap is at most this, µs: below the extra CPU a cold call costs
 * over a hot one here (see the header), so a spin that hits saves more than it burns.
 */
export const SPIN_GAP_MAX_US = 150;
/** A spin lasts up to this many expected gaps (room for a gap's jitter), and never over the cap below. */
const BUDGET_GAPS = 2;
const BUDGET_MAX_US = 2 * SPIN_GAP_MAX_US;

/**
 * The recent idle gaps of one worker and the spin they pay for.
 *
 * @example
 * const gaps = new CallGap();
 * gaps.idleAt(performance.now());             // ran out of work
 * gaps.arrived(performance.now());            // the next task came
 * const us = gaps.spinBudgetUs(30);           // 0: park at once; else spin up to `us`
 */
export class CallGap {
  private readonly xs = new Float64Array(SAMPLES).fill(Infinity);
  private readonly sorted = new Float64Array(SAMPLES);
  private next = 0;
  /** when this worker last ran out of work, ms (performance.now()); 0: not idle since the last arrival */
  private since = 0;

  /** The worker ran out of work at `nowMs` (its last outcome is published). */
  idleAt(nowMs: number): void {
    this.since = nowMs;
  }

  /** A task arrived at `atMs`: records the gap since idleAt, once. Returns it, µs (-1: none recorded). */
  arrived(atMs: number): number {
    if (this.since === 0) return -1;
    const us = Math.max(0, (atMs - this.since) * 1000);
    this.add(us);
    this.since = 0;
    return us;
  }

  /** Record one gap, µs. */
  add(us: number): void {
    this.xs[this.next] = us;
    this.next = (this.next + 1) % SAMPLES;
  }

  /** The median of the recorded gaps, µs (Infinity until more than half the samples exist). */
  expectedUs(): number {
    const s = this.sorted;
    s.set(this.xs);
    s.sort();
    return s[SAMPLES >> 1]!;
  }

  /**
   * The budget of an occasional probe spin, µs, when spinBudgetUs says park: BUDGET_MAX_US if the
   * expected gap is at most that, else 0. A gap measured while both sides parked includes the
   * caller's own wake-up (its main parks when its call has to wake a worker), which a spinning
   * worker would have spared it: on a busy machine that alone can take the median past
   * SPIN_GAP_MAX_US, and without a probe the pair would stay parked for good.
   */
  probeBudgetUs(): number {
    return this.expectedUs() <= BUDGET_MAX_US ? BUDGET_MAX_US : 0;
  }

  /**
   * True when no spin, probe spin included, will follow a task that arrives at `atMs` (ms), once
   * its gap is recorded: the expected gap is over BUDGET_MAX_US now and stays so with that gap
   * counted. A worker's cold path (worker.ts publishNow) publishes before deciding to spin only then.
   *
   * @example
   * if (gaps.staysLong(performance.now())) publishAtOnce();
   */
  staysLong(atMs: number): boolean {
    if (this.probeBudgetUs() > 0) return false;
    return this.since === 0 || (atMs - this.since) * 1000 > BUDGET_MAX_US;
  }

  /**
   * How long to spin for the next task, µs: 0 (park at once) when the expected gap exceeds
   * SPIN_GAP_MAX_US, otherwise BUDGET_GAPS expected gaps, at least `minUs` (the shortest spin the
   * caller knows is worth it: its own wake-up lag, or more after a cold call) and at most BUDGET_MAX_US.
   */
  spinBudgetUs(minUs: number): number {
    const g = this.expectedUs();
    if (!(g <= SPIN_GAP_MAX_US)) return 0;
    return Math.min(BUDGET_MAX_US, Math.max(minUs, g * BUDGET_GAPS));
  }
}
