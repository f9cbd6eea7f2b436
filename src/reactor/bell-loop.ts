/**
 * BellLoop — a service loop on a thread's event loop, woken by that thread's doorbell. The
 * reactor (main thread) and each worker's net host (src/net/host.ts) run one.
 *
 * Runs on any thread. Owns: the owner side of its doorbell (only it waits there), its
 * AwakeWindow, and the turn / park state.
 *
 * A turn (a setImmediate) reads the bell's SEQ, then runs the owner's `step` (take dirty slots,
 * flush...), which returns how much it found. While turns find work, or the AwakeWindow says the
 * next ring is likely soon, another turn is queued: the bell stays RUNNING, so ringers make no
 * syscall. Otherwise the loop parks with an unref'd waitAsync from the SEQ read before the step
 * (doorbell.ts invariant 4: a ring after that read wakes it at once). The wait has no timer and
 * no listener, the cheapest kind; stop() rings the bell instead of aborting it.
 */
import type { Doorbell } from '../shm/doorbell.js';
import { AwakeWindow } from './awake-window.js';

/**
 * With at most this many connections open the awake cap is FEW_CONNS_FACTOR times longer. Such a
 * loop is latency-bound: its idle gap is a whole round trip through the other thread and the peer
 * (250-500 µs once anyone on the way parks), and a park costs the next message a kernel wake-up,
 * so a short window kept it parking (a single ping-pong connection ran at 7k or 20k messages a
 * second by chance). With many connections the turns find work anyway, and a longer cap only took
 * CPU from the other threads and the load (4x measured no faster than 2x for one connection).
 */
const FEW_CONNS = 4;
const FEW_CONNS_FACTOR = 2;

/** A doorbell-driven loop: turns while busy or likely busy soon, parked otherwise. */
export class BellLoop {
  /** the stay-awake policy (its cap follows fitToConnections) */
  readonly awake: AwakeWindow;
  /** turns run and times parked, for stats */
  turns = 0;
  parks = 0;
  private readonly bell: Doorbell;
  private readonly baseMaxMs: number;
  private readonly step: () => number;
  private turnQueued = false;
  /** a bell.wait() of ours is outstanding (the doorbell says PARKED) */
  private parked = false;
  private stopped = false;

  /** `bell`: this thread's own doorbell. `step`: one turn's work; returns how much it found. */
  constructor(bell: Doorbell, maxAwakeMs: number, step: () => number) {
    this.bell = bell;
    this.baseMaxMs = maxAwakeMs;
    this.step = step;
    this.awake = new AwakeWindow(maxAwakeMs);
  }

  /** True once stop() ran. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Begin parked: nothing to do until a ring or a queued turn. */
  start(): void {
    this.park(this.bell.seq(), performance.now());
  }

  /** Run a turn soon (once, however often asked before it runs). */
  queueTurn(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(this.turn);
  }

  /** End the loop: no more turns; a parked wait is rung so it ends too. */
  stop(): void {
    this.stopped = true;
    this.bell.ring();
  }

  /** The awake cap follows the number of open connections (FEW_CONNS). */
  fitToConnections(open: number): void {
    this.awake.setMax(open <= FEW_CONNS ? this.baseMaxMs * FEW_CONNS_FACTOR : this.baseMaxMs);
  }

  private readonly turn = (): void => {
    this.turnQueued = false;
    if (this.stopped) return;
    this.turns++;
    const s = this.bell.seq(); // doorbell.ts invariant 4: SEQ before looking for work
    const n = this.step();
    const now = performance.now();
    if (n > 0) this.awake.work(now);
    // A turn queued by other events while parked neither stays awake nor parks again.
    if (n > 0 || (!this.parked && this.awake.awake(now))) this.queueTurn();
    else this.park(s, now);
  };

  private park(s: number, now: number): void {
    if (this.parked || this.stopped) return;
    this.parked = true;
    this.parks++;
    this.awake.parking(now);
    this.bell.wait(s, { ref: false }).then(this.woken, this.woken);
  }

  private readonly woken = (): void => {
    this.parked = false;
    // a notify older than a few windows is a stale stamp (this wake came some other way)
    this.awake.woken(performance.now(), this.bell.msSinceNotify(this.awake.maxMs * 4));
    this.turn();
  };
}
