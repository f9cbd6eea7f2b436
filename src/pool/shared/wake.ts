/**
 * Main's wake policy on the shared-memory transport: which worker bells to ring when tasks are
 * queued, and the per-slot bells and gauges behind it (layout: layout.ts "bells",
 * "gauges").
 *
 * Runs on the main thread only. Owns: one bell per slot (created once, inherited by replacement
 * workers), the gauges region (it writes G_ALIVE := 0 when a slot's worker died).
 *
 * The policy, each time main queued tasks (once per microtask burst of submissions):
 *   1. Ring every bell whose owner is not parked: no syscall. A spinning worker sees it within
 *      nanoseconds; a running one claims at its next turn or when it next publishes.
 *   2. If tasks are still queued and no worker is spinning, wake the least-loaded parked worker
 *      (fewest live tasks): one futex wake. A running worker may be deep in a long CPU slice, and
 *      a worker parked in waitAsync with live tasks is free right now; leaving it asleep because
 *      some other worker is "awake" made a two-worker pool slower than one on I/O-bound tasks.
 *      More workers are woken by the workers themselves when they leave work at their fair share
 *      (siblings.ts), so main pays at most one wake per burst.
 *   3. Once per pump turn, if the queue did not shrink since the last turn, wake one more parked
 *      worker (the backstop for a worker that stopped claiming).
 */
import { Doorbell, initDoorbell, DOORBELL_BYTES, type DoorbellDescriptor } from '../../shm/doorbell.js';
import type { SlotGauges } from '../transport.js';
import { GAUGE_WORDS, G_ALIVE, G_LIVE, G_PARKED_LIVE, G_PARKS, G_SIBLING_WAKES } from './layout.js';

/** Bells and gauges of every slot, and the policy that rings them. */
export class Waker {
  readonly bellDescriptors: DoorbellDescriptor[];
  readonly gaugeBuffer: SharedArrayBuffer;
  private readonly bells: Doorbell[];
  private readonly g: Int32Array;
  private readonly present: boolean[];
  private lastDepth = 0;
  private next = 0;

  constructor(slots: number) {
    const sab = new SharedArrayBuffer(DOORBELL_BYTES * slots);
    this.bellDescriptors = Array.from({ length: slots }, (_, s) => initDoorbell(sab, s * DOORBELL_BYTES));
    this.bells = this.bellDescriptors.map((d) => new Doorbell(d));
    this.gaugeBuffer = new SharedArrayBuffer(4 * GAUGE_WORDS * slots);
    this.g = new Int32Array(this.gaugeBuffer);
    this.present = new Array<boolean>(slots).fill(false);
  }

  /** The bell of `slot` (ring it after posting that worker a control message). */
  bell(slot: number): Doorbell {
    return this.bells[slot]!;
  }

  /**
   * A thread runs in `slot` (true) or it died (false). Siblings count a slot only once its worker
   * announced itself (a booting worker cannot take work yet) and until main saw it die.
   */
  setAlive(slot: number, alive: boolean): void {
    this.present[slot] = alive;
    if (alive) return; // the worker stores G_ALIVE = 1 itself when its loop starts
    const base = slot * GAUGE_WORDS;
    Atomics.store(this.g, base + G_LIVE, 0); // pairs with: siblings.ts share
    Atomics.store(this.g, base + G_ALIVE, 0); // pairs with: siblings.ts alive
  }

  /**
   * Policy steps 1 and 2, after tasks were queued; `queued` reads the queue depth now. True when
   * it had to wake a parked worker (a futex wake: the tasks start no sooner than its wake-up).
   */
  ring(queued: () => number): boolean {
    let spinning = false;
    for (let s = 0; s < this.bells.length; s++) {
      if (!this.present[s]) continue;
      const bell = this.bells[s]!;
      const st = bell.state();
      if (st === 'parked') continue;
      if (st === 'spinning') spinning = true;
      bell.ring();
    }
    return !spinning && queued() > 0 && this.wakeParked();
  }

  /** Policy step 3, once per pump turn. */
  wakeIfStuck(depth: number): void {
    const stuck = depth > 0 && depth >= this.lastDepth;
    this.lastDepth = depth;
    if (stuck) this.wakeParked();
  }

  /**
   * Ring the parked worker with the fewest live tasks (ties: the one woken last, then the next
   * slots in order). False if none parked. Waking the same worker again while it suffices keeps
   * the others in their long idle park: a wake-up is the costliest step of a cold call, in CPU
   * as much as in time, and a worker that was woken recently still has warm caches.
   */
  wakeParked(): boolean {
    const n = this.bells.length;
    let best = -1;
    let bestLive = Infinity;
    for (let i = 0; i < n; i++) {
      const s = (this.next + i) % n;
      if (!this.present[s] || this.bells[s]!.state() !== 'parked') continue;
      const live = Atomics.load(this.g, s * GAUGE_WORDS + G_LIVE); // pairs with: siblings.ts publishLive
      if (live < bestLive) {
        best = s;
        bestLive = live;
      }
    }
    if (best < 0) return false;
    this.next = best;
    this.bells[best]!.ring();
    return true;
  }

  /** Live tasks `slot` last published. */
  live(slot: number): number {
    return Atomics.load(this.g, slot * GAUGE_WORDS + G_LIVE); // pairs with: siblings.ts publishLive
  }

  /** Park counters of `slot` (they survive the slot's worker being replaced). */
  gauges(slot: number): SlotGauges {
    const base = slot * GAUGE_WORDS;
    return {
      parks: Atomics.load(this.g, base + G_PARKS), // pairs with: siblings.ts parked
      parkedWhileLive: Atomics.load(this.g, base + G_PARKED_LIVE), // pairs with: siblings.ts parked
      siblingWakes: Atomics.load(this.g, base + G_SIBLING_WAKES), // pairs with: siblings.ts leaveRest
    };
  }
}
