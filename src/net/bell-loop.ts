/**
 * BellLoop — a service loop on a thread's event loop, woken by that thread's doorbell. The
 * reactor (main thread) and each worker's net host (src/net/worker/host.ts) run one.
 *
 * Runs on any thread. Owns: the owner side of its doorbell (only it waits there), its
 * AwakeWindow, and the turn / park state.
 *
 * A turn (a setImmediate) reads the bell's SEQ, then runs the owner's `step` (take dirty slots,
 * flush...), which returns how much it found. While turns find work, or the AwakeWindow says the
 * next ring is likely soon, another turn is queued: the bell stays RUNNING, so ringers make no
 * syscall. Otherwise the loop parks (src/shm/loop-parker.ts: an unref'd waitAsync, reused across
 * parks) from the SEQ read before the step (doorbell.ts invariant 4: a ring after that read wakes
 * it at once). A turn that another event ran while parked and that found work un-parks the bell
 * with one store. The wait has no timer and no listener; stop() wakes it by a notify of its own.
 */
import type { Doorbell } from '../shm/doorbell.js';
import { LoopParker } from '../shm/loop-parker.js';
import { AwakeWindow, PREEMPTED_MS } from './awake-window.js';

/**
 * With at most this many connections open the awake cap is FEW_CONNS_FACTOR times longer. Such a
 * loop is latency-bound: its idle gap is a whole round trip through the other thread and the peer
 * (250-500 µs once anyone on the way parks), and a park costs the next message a kernel wake-up,
 * so a short window kept it parking. With many connections the turns find work anyway, and a
 * longer cap only took CPU from the other threads and the load (docs/measurements.md "awake
 * windows: the corrections").
 */
const FEW_CONNS = 4;
const FEW_CONNS_FACTOR = 2;

/** Options of a {@link BellLoop}. */
export interface BellLoopOptions {
  /**
   * Whether an answer through the bell is expected at all (the reactor: a worker was handed bytes
   * it has not answered yet). While false the loop parks as soon as a turn finds nothing, without
   * counting it against the awake window: staying awake for nobody only takes CPU from the
   * threads that are working (on 2 cores, the load generator and the workers). Default: always.
   */
  readonly expecting?: () => boolean;
  /** AwakeWindow rule 4's hold with at most FEW_CONNS connections open (ms). Default 0. */
  readonly holdMs?: number;
}

/** A doorbell-driven loop: turns while busy or likely busy soon, parked otherwise. */
export class BellLoop {
  /** the stay-awake policy (its cap follows fitToConnections) */
  readonly awake: AwakeWindow;
  /** turns run, for stats */
  turns = 0;
  private readonly bell: Doorbell;
  private readonly parker: LoopParker;
  private readonly baseMaxMs: number;
  private readonly step: () => number;
  private readonly expecting: () => boolean;
  private readonly holdMs: number;
  private turnQueued = false;
  private stopped = false;
  /** at most FEW_CONNS connections open: the latency-bound case whose spins rule 5 watches */
  private few = true;
  /** when the last turn ended having found nothing and staying awake (rule 5), else -1 */
  private spunAt = -1;

  /** `bell`: this thread's own doorbell. `step`: one turn's work; returns how much it found. */
  constructor(bell: Doorbell, maxAwakeMs: number, step: () => number, options: BellLoopOptions = {}) {
    this.bell = bell;
    this.baseMaxMs = maxAwakeMs;
    this.step = step;
    this.expecting = options.expecting ?? (() => true);
    this.holdMs = options.holdMs ?? 0;
    this.awake = new AwakeWindow(maxAwakeMs);
    this.parker = new LoopParker(bell.descriptor, this.woken);
  }

  /** True once stop() ran. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Times the loop went to sleep (a park that found SEQ unchanged). */
  get parks(): number {
    return this.parker.parks;
  }

  /** Begin parked: nothing to do until a ring or a queued turn. */
  start(): void {
    if (!this.parker.park(this.bell.seq())) this.queueTurn();
  }

  /** Run a turn soon (once, however often asked before it runs). */
  queueTurn(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(this.turn);
  }

  /** End the loop: no more turns; a parked or lingering wait is woken so it ends too. */
  stop(): void {
    this.stopped = true;
    this.parker.dispose(); // its waiter fires, and the turn it runs sees `stopped`
  }

  /** The awake cap follows the number of open connections (FEW_CONNS). */
  fitToConnections(open: number): void {
    this.few = open <= FEW_CONNS;
    this.awake.setMax(open <= FEW_CONNS ? this.baseMaxMs * FEW_CONNS_FACTOR : this.baseMaxMs);
    this.awake.setHold(open <= FEW_CONNS ? this.holdMs : 0);
  }

  private readonly turn = (): void => {
    this.turnQueued = false;
    if (this.stopped) return;
    this.turns++;
    const s = this.bell.seq(); // doorbell.ts invariant 4: SEQ before looking for work
    const n = this.step();
    const now = performance.now();
    // AwakeWindow rule 5: a spin that lost its CPU. Watched with few connections only: with many,
    // the socket events that run between two turns take milliseconds of their own.
    if (this.spunAt >= 0 && this.few && now - this.spunAt > PREEMPTED_MS) this.awake.preempted(now);
    this.spunAt = -1;
    if (n > 0) this.awake.work(now);
    const expecting = this.expecting();
    if (n > 0 || (expecting && this.awake.awake(now))) {
      if (n === 0) this.spunAt = now;
      // Awake, whatever woke us (the bell, a socket, a handler): the ring that answers this
      // turn's hand-offs must find the bell RUNNING and cost its ringer no notify.
      if (this.parker.parked) {
        this.parker.unpark();
        this.awake.unparked();
      }
      this.queueTurn();
      return;
    }
    if (this.parker.parked) return; // a turn run by another event while parked: stay parked
    // Only a park that ends an awake window teaches the window (rule 1 and rule 2 of
    // awake-window.ts); a park with nothing expected is not a window that failed.
    if (expecting) this.awake.parking(now);
    if (!this.parker.park(s)) this.queueTurn(); // SEQ moved since the turn began: look again
  };

  private readonly woken = (slept: boolean): void => {
    if (slept) {
      // a notify older than a few windows is a stale stamp (this wake came some other way)
      this.awake.woken(performance.now(), this.bell.msSinceNotify(this.awake.maxMs * 4));
    }
    this.turn();
  };
}
