/**
 * A pool worker's view of its siblings on the shared-memory transport: the fair share of async
 * work it may hold, which sibling to wake for work it leaves in the queue, and its own gauges
 * (live count, park counters) that main and the siblings read. Layout: layout.ts "gauges".
 *
 * Runs on a pool worker (one instance per worker thread). Owns: the worker's own gauge words
 * (G_LIVE, G_PARKS, G_PARKED_LIVE, G_SIBLING_WAKES of its slot; G_ALIVE := 1 once its loop runs) and non-spinning handles on
 * every sibling's bell.
 *
 * Why a share at all: the queue is claimed one task at a time, but a task that awaits I/O costs
 * its worker microseconds to start and milliseconds of CPU later (the demo job reads a file, then
 * hashes it). Whichever worker woke first would claim a whole burst and run all of it later while
 * its sibling idles. Tasks that finish synchronously do not count: they are done when claimed.
 */
import { Doorbell, type DoorbellDescriptor } from '../../shm/doorbell.js';
import { STALL_MS } from '../protocol.js';
import { GAUGE_WORDS, G_ALIVE, G_LIVE, G_PARKED_LIVE, G_PARKS, G_SIBLING_WAKES } from './layout.js';

// The stall window is shared with the message transport (../protocol.ts).
export { STALL_MS } from '../protocol.js';

/** One worker's handle on the gauges and bells of every slot. */
export class Siblings {
  /** number of slots (workers the pool runs) */
  readonly slots: number;
  private readonly me: number;
  private readonly g: Int32Array;
  private readonly bells: Doorbell[];
  private lastLive = -1;
  /** when this worker first left work queued with no sibling at rest (-1: not now) */
  private heldSince = -1;

  constructor(slot: number, bells: readonly DoorbellDescriptor[], gauges: SharedArrayBuffer) {
    this.me = slot;
    this.slots = bells.length;
    this.g = new Int32Array(gauges);
    this.bells = bells.map((d) => new Doorbell(d, { spinIterations: 0 }));
  }

  /** This worker's loop runs: siblings may leave work to it from now on. */
  announce(): void {
    Atomics.store(this.g, this.me * GAUGE_WORDS + G_ALIVE, 1); // pairs with: alive (on siblings)
  }

  /** Publish this worker's live async task count (skipped when unchanged: one store per change). */
  publishLive(n: number): void {
    if (n === this.lastLive) return;
    this.lastLive = n;
    Atomics.store(this.g, this.me * GAUGE_WORDS + G_LIVE, n); // pairs with: share / wakeOne on siblings, wake.ts leastLoaded
  }

  /**
   * The most live (async) tasks this worker should hold: ceil((live everywhere + queued) / alive
   * workers). Infinity on a one-worker pool.
   */
  share(myLive: number, queued: number): number {
    if (this.slots === 1) return Infinity;
    let total = myLive + queued;
    let alive = 1;
    for (let s = 0; s < this.slots; s++) {
      if (s === this.me || !this.alive(s)) continue;
      alive++;
      total += Atomics.load(this.g, s * GAUGE_WORDS + G_LIVE); // pairs with: publishLive on worker s
    }
    return Math.ceil(total / alive);
  }

  /**
   * This worker is at its share with work still queued: ring the least-loaded sibling at rest
   * (alive, and parked or spinning: it answers a ring at once) and return true; or, when every
   * sibling is busy, return true until they stayed busy for STALL_MS, then false (take the work).
   */
  leaveRest(now: number): boolean {
    let best = -1;
    let bestLive = Infinity;
    for (let s = 0; s < this.slots; s++) {
      if (s === this.me || !this.alive(s) || this.bells[s]!.state() === 'running') continue;
      const live = Atomics.load(this.g, s * GAUGE_WORDS + G_LIVE); // pairs with: publishLive on worker s
      if (live < bestLive) {
        best = s;
        bestLive = live;
      }
    }
    if (best >= 0) {
      this.heldSince = -1;
      if (this.bells[best]!.ring()) Atomics.add(this.g, this.me * GAUGE_WORDS + G_SIBLING_WAKES, 1); // pairs with: main.ts gauges
      return true;
    }
    if (this.heldSince < 0) this.heldSince = now;
    return now - this.heldSince < STALL_MS;
  }

  /** The queue ran dry or the work was taken: forget any stall in progress. */
  clearHeld(): void {
    this.heldSince = -1;
  }

  /** True while work is being left to busy siblings (the caller re-checks after STALL_MS). */
  holding(): boolean {
    return this.heldSince >= 0;
  }

  /** Count a blocking park; `live` says whether the worker had live work at that moment (a bug). */
  parked(live: boolean): void {
    const base = this.me * GAUGE_WORDS;
    Atomics.add(this.g, base + G_PARKS, 1); // pairs with: main.ts gauges
    if (live) Atomics.add(this.g, base + G_PARKED_LIVE, 1); // pairs with: main.ts gauges
  }

  private alive(s: number): boolean {
    return Atomics.load(this.g, s * GAUGE_WORDS + G_ALIVE) === 1; // pairs with: announce (worker s), wake.ts setAlive (main, at its death)
  }
}
