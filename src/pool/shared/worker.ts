/**
 * Worker side of the shared-memory transport: claim tasks one at a time from the shared queue,
 * start each as a green thread, write outcomes into this worker's results ring, publish them in
 * batches, and park on this worker's doorbell when there is nothing to do.
 *
 * Runs on a pool worker. Owns: the consumer handle on the task queue, the writer of its results
 * ring, its claim log, and its doorbell (it is the only thread that waits on it).
 *
 * The loop, one turn (a setImmediate callback, so timers, I/O and port messages run between turns):
 *   1. claim a task (one CAS), decode it, release the slot, log the claim, start the task: its
 *      synchronous slice runs now. Repeat up to a 2 ms budget or 512 tasks. A task stuck in a long
 *      synchronous slice stops the claiming, so unclaimed tasks stay in the queue for other
 *      workers: no hostages, one task at a time. Tasks that stay live (await I/O) are claimed
 *      only up to this worker's fair share; the rest is left for a sibling at rest, which is
 *      rung (siblings.ts).
 *   2. publish: CLAIM frames for claimed tasks still running, then the results ring (one store of
 *      TAIL), ring the main thread's bell (a syscall only if main is parked), clear the claim log.
 *   3. if it claimed anything and nothing it started is still live (sync tasks, the cold and the
 *      sequential case): decide before step 2 whether to spin and, if so, publish SPINNING
 *      before the results (main, spinning for a lone result, submits the next call within a µs
 *      of the publish; had it seen this worker RUNNING it would have woken a parked sibling with
 *      a futex and parked itself); then spin on the bell for the next task for the budget below, within the
 *      turn's budget, and claim it at once if it comes; otherwise next turn. If it claimed
 *      nothing: park: Atomics.wait (waitSync) when nothing is live (no task, no task waiting for
 *      its DEFINE, no result unsent, no connection: nothing could need the event loop; bounded
 *      to IDLE_PARK_MS so the loop still breathes), or Atomics.waitAsync when something is
 *      live: a worker in Atomics.wait cannot run its own timers and I/O callbacks. A waitAsync
 *      wake claims at once, without another loop turn. A worker spins before it parks only
 *      right after doing work, only if it holds the spinner token, and only once per idle spell.
 *
 * Spin budget (call-gap.ts): how soon the next task came after this worker last ran out of
 * work, the median of the last few such gaps. When it is short enough that a spin costs less CPU
 * than the cold round trip it saves (SPIN_GAP_MAX_US), the worker spins for up to twice that gap,
 * at least spinUs (its own measured wake-up lag, clamped to SPIN_MIN_US..SPIN_MAX_US) and, after
 * a task that had to wake it, at least SPIN_GAP_MAX_US (the caller's main parked too, and answers
 * no sooner than its own wake-up); otherwise it parks at once. A loop of `await rt.run()`, hot or
 * with main parking between calls, and a caller that awaits a setImmediate between calls find it
 * spinning; calls a millisecond or more apart (a service at low load) pay for no spin at all; a
 * new caller after a long idle inherits the gaps of the last one, so a loop that follows a burst
 * or another pool's burst is hot from its second call (the warm-up). Spins that miss anyway (a
 * busy machine: the spinner holds the CPU the caller needs) make the worker skip its next 1, 2,
 * 4 ... MISS_BACKOFF_MAX chances to spin; a hit, or an idle gap over BACKOFF_RESET_GAP_US, resets that.
 * Calls a little too far apart to spin for (median gap up to 300 µs) get one probe spin of 300 µs
 * every PROBE_EVERY calls: a gap measured while both sides park includes main's own wake-up, and
 * on a busy machine that alone can keep the pair parked.
 *
 * Outcomes of async tasks are published at the next loop turn (setImmediate): one publish, and
 * at most one wake-up of main, for every outcome of that turn. Publishing from a microtask
 * instead cut latency but cost more CPU per task in wake-ups, and on a machine with as many
 * threads busy as cores CPU is what bounds throughput. A worker that publishes also claims
 * whatever is queued then: it is awake anyway, and main then needs no futex wake to reach it.
 *
 * Main rings this worker's bell after posting it a control message, so a parked worker wakes to
 * read its port promptly.
 */
import type { MessagePort } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ByteRingWriter } from '../../shm/byte-ring-writer.js';
import { Doorbell } from '../../shm/doorbell.js';
import { SlotQueue } from '../../shm/slot-queue.js';
import { FrameReader, FrameWriter } from '../../codec/index.js';
import {
  CANCEL,
  DEFINE,
  ERR,
  OK,
  QUERY,
  RETIRE,
  RETIRING,
  STATS,
  SUBMIT,
  TASKS,
  type FromWorker,
  type ToWorker,
  type WorkerBoot,
} from '../protocol.js';
import { CLAIM_LOG_SIZE, R_CLAIM, R_ERR, R_OK, T_TASK, type SharedBoot } from './layout.js';
import { CallGap, SPIN_GAP_MAX_US } from './call-gap.js';
import { Siblings, STALL_MS } from './siblings.js';
import { TaskRunner, type Outbox } from '../task-runner.js';
import { toWire, type WireError } from '../wire-error.js';
import { postBatch, resultRefused } from '../post-batch.js';

const TURN_BUDGET_MS = 2;
const TURN_MAX_TASKS = 512;
const IDLE_PARK_MS = 20;
/**
 * An idle worker whose event loop holds nothing but its ports (what needs it then comes with a
 * ring: a task, or a control message main rings for) parks up to this long: every timed-out
 * park is a wake-up that costs CPU (150-300 µs of it on a loaded 2-core VM), and a started
 * runtime with nothing to do should cost next to none. Anything else active on the loop (a
 * timer, a socket, a file read, a queued immediate) keeps the bound at IDLE_PARK_MS (see
 * idleParkMs for an immediate that stays reported).
 */
const IDLE_PARK_MAX_MS = 5000;
/** Short parks in a row with only an immediate reported queued before it counts as stale. */
const IMMEDIATE_STALE = 3;
/** Bounds of spinUs, the shortest spin, µs (see the header: the measured wake-up lag, clamped). */
const SPIN_MIN_US = 10;
const SPIN_MAX_US = 60;
const STATS_EVERY_MS = 500;
/** After a spin that missed, skip the next 1, 2, 4 ... up to this many chances to spin (spinForNext). */
const MISS_BACKOFF_MAX = 16;
/**
 * One probe spin (call-gap.ts probeBudgetUs) per this many chances passed up because calls came a
 * little too far apart: at most 300 µs per 16 calls for a caller 150-300 µs apart.
 */
const PROBE_EVERY = 16;
/** An idle gap this long (µs) clears the miss backoff: the next caller starts with a spin. */
const BACKOFF_RESET_GAP_US = 1000;

/** Boot the shared-memory loop on this worker. */
/**
 * Asked before a worker parks its thread: true means another subsystem on this thread (the TCP
 * handlers) still has work that needs the event loop, so the worker must not block it. Passed in
 * by the entry point so that the pool never imports the features built on top of it.
 */
export type IdleVeto = () => boolean;

export function startSharedWorker(port: MessagePort, boot: WorkerBoot, idleVeto: IdleVeto = () => false): void {
  new SharedWorker(port, boot.shared as SharedBoot, boot.maxRunning, boot.ambient, idleVeto, boot.maxModules).start();
}

class SharedWorker implements Outbox {
  private readonly port: MessagePort;
  private readonly q: SlotQueue;
  private readonly out: ByteRingWriter;
  /** this worker's bell (spins are time-bounded: Doorbell.spinUntil) */
  private readonly bell: Doorbell;
  /** the shortest spin: this worker's measured wake-up lag, µs (header) */
  private spinUs = 30;
  /** recent idle gaps: how long to spin for the next task (call-gap.ts) */
  private readonly gaps = new CallGap();
  /** when the task the next claim takes arrived (a spin's hit, a park's ring), ms; 0: now */
  private arrivedAt = 0;
  /** the last task came while this worker was parked: its caller's main parked too (main.ts endBurst) */
  private cameCold = false;
  /**
   * Woken from a park for a task, and no spin will follow it: the outcome of a lone synchronous
   * task is published from result() itself, before the turn's bookkeeping (the cold path).
   */
  private publishNow = false;
  /** spin chances to skip, and the skip after the next miss (doubles per miss, reset by a hit) */
  private spinSkip = 0;
  private spinBackoff = 0;
  /** chances to spin passed up since the last spin or probe (spinForNext, PROBE_EVERY) */
  private sinceProbe = 0;
  /** inside turn(): outcomes produced now are published by the turn itself, no flush to schedule */
  private inTurn = false;
  /** work was done since the last park: a spin before the next park may pay off */
  private spinOwed = false;
  /** planSpin took the spinner token and published SPINNING; endSpin gives both back */
  private spinHeld = false;
  /** the lag of the last rung park's wake-up (notify to running), ms; -1 unknown */
  private wakeLagMs = -1;
  /** how the last blocking park ended, until afterPark() did its bookkeeping */
  private parkEnded: 'rung' | 'timed-out' | undefined;
  /** short parks in a row during which only an immediate was reported queued (idleParkMs) */
  private staleImmediate = 0;
  /** event-loop delay, sampled only while the loop runs (a park is not a slow slice) */
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private readonly spinners: Int32Array;
  private readonly mainBell: Doorbell;
  private readonly log: Int32Array;
  private readonly runner: TaskRunner;
  private readonly sib: Siblings;
  private readonly defs = new Map<number, [string, string]>();
  /** tasks claimed before their DEFINE arrived: fnId -> [id, args][] */
  private readonly undefinedFn = new Map<number, Array<[number, unknown[]]>>();
  /** ids in undefinedFn: live work the runner has not seen yet (main must hear of their claim) */
  private readonly undefinedIds = new Set<number>();
  /** CANCELs for tasks not claimed yet (the queue cannot take a task back); pruned as ids pass */
  private readonly preCancelled = new Set<number>();
  private readonly fw = new FrameWriter();
  private readonly fr = new FrameReader();
  /** results that did not fit the ring right now, already encoded */
  private backlog: Array<[number, Uint8Array]> = [];
  private portOut: FromWorker[] = [];
  private logCount = 0;
  private turnScheduled = false;
  /** the bell's SEQ when this thread last handed control to its event loop (scheduleTurn) */
  private loopSeq = -1;
  private flushScheduled = false;
  private waiting = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly maxRunning: number;
  /** the last turn stopped claiming because maxRunning tasks were live */
  private full = false;
  /** the last turn left queued work to siblings (fair share): do not spin on the queue */
  private leftWork = false;
  /** RETIRE received: claim nothing more, exit once nothing is live (Pool.retiring) */
  private retiring = false;

  constructor(
    port: MessagePort,
    s: SharedBoot,
    maxRunning: number,
    ambient: boolean,
    private readonly idleVeto: IdleVeto,
    maxModules = Infinity,
  ) {
    this.port = port;
    this.maxRunning = maxRunning;
    this.mainBell = new Doorbell(s.mainBell);
    const own = s.bells[s.slot]!;
    this.bell = new Doorbell(own, { spinIterations: 0 });
    this.sib = new Siblings(s.slot, s.bells, s.gauges);
    this.spinners = new Int32Array(s.spinners);
    this.q = new SlotQueue(s.tasks, { onProducerWaiting: () => this.mainBell.ring() });
    this.out = new ByteRingWriter(s.results, { onPublish: () => this.mainBell.ring() });
    this.log = new Int32Array(s.claims);
    for (const [id, url, name] of s.defs) this.defs.set(id, [url, name]);
    this.runner = new TaskRunner(this, ambient);
    this.runner.maxModules = maxModules;
    this.runner.onTooManyModules = () => {
      this.portOut.push([RETIRING]);
      this.scheduleFlush();
    };
  }

  start(): void {
    this.port.on('message', (batch: ToWorker[]) => this.control(batch));
    const delay = this.delay;
    delay.enable();
    // a first load report: tells main this worker booted (a later death is not a boot failure)
    this.portOut.push([STATS, { running: 0, starting: 0, loopDelayP99Ms: 0, loopDelayMaxMs: 0 }]);
    this.scheduleFlush();
    let idleSent = false;
    setInterval(() => {
      // an idle worker reports once, not every STATS_EVERY_MS: each report wakes main's loop
      const idle = this.runner.running === 0 && this.runner.starting === 0;
      if (idle && idleSent) return;
      idleSent = idle;
      this.portOut.push([
        STATS,
        {
          running: this.runner.running,
          starting: this.runner.starting,
          loopDelayP99Ms: delay.count === 0 ? 0 : delay.percentile(99) / 1e6,
          loopDelayMaxMs: delay.count === 0 ? 0 : delay.max / 1e6,
        },
      ]);
      delay.reset();
      this.scheduleFlush(); // also re-checks a retiring worker held by open connections
    }, STATS_EVERY_MS).unref();
    this.sib.announce();
    this.scheduleTurn();
  }

  // --- Outbox (called by the runner, synchronously for sync tasks) --------------------------

  ok(id: number, value: unknown): void {
    this.result(R_OK, id, value);
  }

  err(id: number, error: WireError): void {
    this.result(R_ERR, id, error);
  }

  private result(tag: number, id: number, value: unknown): void {
    const fw = this.fw;
    try {
      fw.reset().u32(id).value(value, { name: 'result' });
    } catch (e) {
      if (tag === R_OK && (e as { code?: unknown }).code === 'ERR_OUT_OF_RANGE') {
        // nested deeper than the codec carries: main could not rebuild it either (its stack is
        // smaller than a worker's), so the task fails with the codec's own RangeError
        this.result(R_ERR, id, toWire(resultRefused(e)));
        return;
      }
      if (tag === R_OK) {
        // not encodable here (SharedArrayBuffer, port...): structured clone on the port may carry it
        this.portOut.push([OK, id, value]);
      } else {
        this.portOut.push([ERR, id, value as WireError]);
      }
      this.scheduleFlush();
      return;
    }
    const size = fw.size;
    if (size > this.out.maxFrameLength) {
      this.portOut.push(tag === R_OK ? [OK, id, value] : [ERR, id, value as WireError]);
    } else if (this.backlog.length > 0 || !this.writeFrame(tag)) {
      this.backlog.push([tag, fw.bytes().slice()]);
    }
    this.scheduleFlush();
    if (this.publishNow && this.q.size() === 0) {
      // the cold path: main is parked and nothing else is queued, so nothing is batched by waiting
      // for the end of the turn; every step before main's ring is paid on a cold CPU in its latency
      this.publishNow = false;
      this.flush();
    }
    if (this.full) this.scheduleTurn(); // a place freed up: claim again
  }

  private writeFrame(tag: number): boolean {
    const off = this.out.reserve(this.fw.size);
    if (off < 0) return false;
    this.out.commit(this.fw.writeTo(this.out.bytes, off, off + this.fw.size), tag);
    return true;
  }

  // --- the loop ---------------------------------------------------------------------------------

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    this.loopSeq = this.bell.seq(); // the loop runs next: it delivers what was posted before these rings
    setImmediate(() => this.turn());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // a pending immediate would also shorten the next idle park (idleParkMs): none when the turn flushes
    if (!this.inTurn) setImmediate(this.flushLater);
  }

  private readonly flushLater = (): void => {
    if (!this.flushScheduled) return; // a turn flushed meanwhile
    this.flush();
    // Awake anyway: take queued work now instead of waiting for main to ring (a futex wake).
    if (!this.turnScheduled && this.q.size() > 0) this.turn();
  };

  private turn(): void {
    this.turnScheduled = false;
    const t0 = performance.now();
    for (;;) {
      const at = this.arrivedAt > 0 ? this.arrivedAt : performance.now();
      this.arrivedAt = 0;
      this.inTurn = true;
      let n = 0;
      try {
        n = this.claimSome();
      } catch (e) {
        this.inTurn = false;
        this.flush(); // outcomes already written must not wait for an immediate nobody scheduled
        throw e;
      }
      this.inTurn = false;
      let planned = -1;
      if (n > 0) {
        // misses of an earlier caller say nothing about one that starts after a long idle
        if (this.gaps.arrived(at) > BACKOFF_RESET_GAP_US) this.spinSkip = this.spinBackoff = 0;
        this.spinOwed = true;
        // step 3 is decided before step 2: a spinner announces itself before its answer is out,
        // since the caller's next task can land while it would still read as running
        if (!this.full && this.mayBlock()) planned = this.planSpin();
      }
      this.flush();
      if (this.parkEnded !== undefined) this.afterPark();
      if (this.sib.holding()) this.recheckAfterStall();
      if (this.full) return;
      if (n > 0) {
        // published: idle from now unless more comes (after the publish, whose ring of a parked
        // main is a syscall: counted in the gap, it would make calls look further apart than they are)
        this.gaps.idleAt(performance.now());
        // step 3: the next lone task often follows at once (main settles, the caller submits)
        if (this.mayBlock() && performance.now() - t0 < TURN_BUDGET_MS && this.spinForNext(planned)) continue;
        this.endSpin();
        return this.scheduleTurn(); // let timers, I/O and port messages in between turns
      }
      if (!this.idle()) return;
      // woken by a ring with tasks already queued: claim them now rather than a loop turn later
    }
  }

  /** Nothing live needs this thread's event loop, so it may spin or block for a while. */
  private mayBlock(): boolean {
    return (
      this.liveWork() === 0 &&
      this.backlog.length === 0 &&
      this.portOut.length === 0 &&
      !this.idleVeto() &&
      !this.stallTimer
    );
  }

  /**
   * Decide whether to spin for the next task, and for how long: the budget the recent idle gaps
   * pay for (call-gap.ts), if this worker gets the spinner token (one spinner at a time: spinners
   * in layout.ts). Returns the budget in µs, holding the token with SPINNING published; 0 when it
   * decided to park; -1 when another worker spins (look again before parking).
   */
  private planSpin(): number {
    // After a task that had to wake this worker, the caller's main parked too, and its next call
    // comes no sooner than main's own wake-up: a spin of the usual gap would end before it (the
    // loop would stay cold, two wake-ups a call), so it lasts the longest gap a spin pays for.
    let us = this.gaps.spinBudgetUs(this.cameCold ? SPIN_GAP_MAX_US : this.spinUs);
    this.cameCold = false;
    // calls a little too far apart for a spin, maybe only because both sides park: probe now and then
    if (us === 0 && ++this.sinceProbe >= PROBE_EVERY) {
      this.sinceProbe = 0;
      us = this.gaps.probeBudgetUs();
    }
    if (us === 0 || this.spinSkip > 0) {
      // calls come further apart than a spin pays for, or spins have been missing: park at once
      if (us > 0) this.spinSkip--;
      this.spinOwed = false;
      return 0;
    }
    if (Atomics.compareExchange(this.spinners, 0, 0, 1) !== 0) return -1; // pairs with: endSpin, on other workers
    this.spinOwed = false;
    this.spinHeld = true;
    this.bell.markSpinning();
    return us;
  }

  /** Give back the spinner token taken by planSpin, and publish RUNNING if no spin ran. */
  private endSpin(): void {
    if (!this.spinHeld) return;
    this.spinHeld = false;
    this.bell.markRunning();
    Atomics.store(this.spinners, 0, 0); // pairs with: planSpin (Atomics.compareExchange)
  }

  /**
   * Spin for the next task (`planned`: planSpin's answer, taken before the publish; -1: decide
   * now). True when one is queued for it now.
   */
  private spinForNext(planned = -1): boolean {
    const seen = this.bell.seq();
    if (this.q.size() > 0) {
      this.endSpin();
      return !this.leftWork;
    }
    const us = planned === -1 ? this.planSpin() : planned;
    if (us <= 0) return false;
    let hit = false;
    try {
      hit = this.bell.spinUntil(seen, us) && this.q.size() > 0;
    } finally {
      this.endSpin();
    }
    // A gap that fits a spin can still miss it: on a machine with more runnable threads than cores
    // the spinner holds the CPU its caller needs to answer (docs/measurements.md, 2026-12-07
    // "regime flips", point 3). Misses in a row make the worker skip 1, 2, 4 ... up to
    // MISS_BACKOFF_MAX chances to spin; a hit resets it.
    if (hit) {
      this.arrivedAt = performance.now();
      this.spinBackoff = 0;
      this.sinceProbe = 0;
    } else {
      this.spinBackoff = Math.min(MISS_BACKOFF_MAX, this.spinBackoff * 2 || 1);
      this.spinSkip = this.spinBackoff;
    }
    return hit;
  }

  /** Work is left for busy siblings: look again once they had STALL_MS to take it. */
  private recheckAfterStall(): void {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      this.scheduleTurn();
    }, STALL_MS);
  }

  /** Work on this thread that needs its event loop: tasks, tasks awaiting DEFINE, unsent outcomes. */
  private liveWork(): number {
    return this.runner.liveCount + this.undefinedIds.size;
  }

  /** Step 1 of the loop: claim and start tasks within the turn budget. Returns how many. */
  private claimSome(): number {
    if (this.retiring) return 0; // the others take what is queued
    const q = this.q;
    const t0 = performance.now();
    let n = 0;
    let past = 0;
    let atShare = false;
    this.full = false;
    // at least one: a worker with nothing live always takes work (a share of 0 would hold it back)
    const share = Math.max(1, this.sib.share(this.liveWork(), q.size()));
    while (n < TURN_MAX_TASKS) {
      const live = this.liveWork();
      if (this.runner.liveCount >= this.maxRunning) {
        this.full = true; // leave the rest to other workers; a settling task schedules a turn
        break;
      }
      if (live >= share) {
        atShare = true;
        // at its share of async work: a sibling at rest takes the rest (rung now); siblings that
        // are all busy get STALL_MS to claim it before this worker takes one more per turn
        if (q.size() === 0 || past > 0) break;
        this.sib.publishLive(live); // before ringing: the sibling computes its share from it
        if (this.sib.leaveRest(performance.now())) break;
        past++;
      }
      if (q.claim() < 0) break;
      const tag = q.claimTag;
      let id = 0;
      let fnId = 0;
      let args: unknown[] | undefined;
      if (tag === T_TASK) {
        const r = this.fr.reset(q.bytes, q.claimOffset, q.claimLength);
        id = r.u32();
        fnId = r.u32();
        args = r.value() as unknown[];
        r.finish();
      }
      q.release();
      if (args === undefined) continue;
      if (this.preCancelled.size > 0 && this.skipCancelled(id)) continue;
      n++;
      this.claimed(id);
      const def = this.defs.get(fnId);
      if (def) this.runner.submit(id, def[0], def[1], args);
      else this.awaitDefine(fnId, id, args);
      if ((n & 31) === 0 && performance.now() - t0 > TURN_BUDGET_MS) break;
    }
    this.publishNow = false;
    this.leftWork = atShare && q.size() > 0;
    if (!this.leftWork) this.sib.clearHeld();
    this.sib.publishLive(this.liveWork());
    return n;
  }

  /** True when `id` was cancelled before we claimed it. Queue ids rise, so older entries go. */
  private skipCancelled(id: number): boolean {
    const hit = this.preCancelled.delete(id);
    for (const x of this.preCancelled) if (x < id) this.preCancelled.delete(x);
    return hit;
  }

  private claimed(id: number): void {
    if (this.logCount === CLAIM_LOG_SIZE) this.flush();
    this.log[1 + this.logCount++] = id;
    Atomics.store(this.log, 0, this.logCount); // pairs with: main.ts diedWith (read after exit)
  }

  private awaitDefine(fnId: number, id: number, args: unknown[]): void {
    // DEFINE is posted before the first task naming fnId is queued, so it is on our port already.
    let list = this.undefinedFn.get(fnId);
    if (!list) this.undefinedFn.set(fnId, (list = []));
    list.push([id, args]);
    this.undefinedIds.add(id);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.logCount > 0) this.writeClaims();
    while (this.backlog.length > 0) {
      const [tag, bytes] = this.backlog[0]!;
      if (!this.out.tryWrite(bytes, tag)) break;
      this.backlog.shift();
    }
    this.out.flush(); // one TAIL store; onPublish rings main's bell
    Atomics.store(this.log, 0, 0); // pairs with: main.ts diedWith
    this.logCount = 0;
    if (this.backlog.length > 0) {
      // ring full: main's release rings our bell (WANT_SPACE); retry on the next turn
      this.out.hasSpace(this.backlog[0]![1].length);
      this.scheduleTurn();
    }
    if (this.portOut.length > 0) {
      const b = this.portOut;
      this.portOut = [];
      postBatch(this.port, b);
    }
    this.sib.publishLive(this.liveWork());
    if (this.retiring && this.liveWork() === 0 && this.backlog.length === 0 && !this.idleVeto()) {
      process.exit(0); // everything is published: main drains the ring and the port before 'exit'
    }
  }

  /** CLAIM frame: which claimed tasks are still running (main needs them to route cancels). */
  private writeClaims(): void {
    if (this.liveWork() === 0) return; // every claimed task settled already: nothing to route cancels to
    const ids: number[] = [];
    for (let i = 0; i < this.logCount; i++) {
      const id = this.log[1 + i]!;
      // a task waiting for its DEFINE is claimed too: if this thread dies, main must reject it
      if (this.runner.isLive(id) || this.undefinedIds.has(id)) ids.push(id);
    }
    if (ids.length === 0) return;
    const fw = this.fw.reset().u32(ids.length);
    for (const id of ids) fw.u32(id);
    const bytes = fw.bytes().slice();
    if (this.backlog.length > 0 || !this.out.tryWrite(bytes, R_CLAIM)) this.backlog.push([R_CLAIM, bytes]);
  }

  /**
   * Step 3 of the loop: wait for the bell. Returns true when the caller should claim again at
   * once (woken with tasks queued), false when a turn or a wake-up has been scheduled instead.
   */
  private idle(): boolean {
    if (this.waiting) return false;
    const seen = this.bell.seq();
    if (!this.leftWork && this.q.size() > 0) return true;
    // idleVeto() (the net host's busy flag, wired in workers/pool-worker.ts): open TCP connections are green threads too; their wake-ups need the event loop
    if (this.mayBlock()) {
      // Nothing live needs the event loop: block, after one spin if work was done since the last park.
      if (this.spinOwed && this.spinForNext()) return true;
      this.spinOwed = false;
      // A ring since the loop last ran may have come with a port message (a task sent directly
      // because its arguments hold a SharedArrayBuffer, an OPEN, a control frame): its ring was
      // spent (on a spin, or while this thread was running), and Atomics.wait would keep the
      // message undelivered for the whole park (5 s). Let the loop deliver it first.
      if (this.bell.seq() !== this.loopSeq) {
        this.scheduleTurn();
        return false;
      }
      this.sib.parked(this.liveWork() > 0); // the guard above makes this false: a regression counts
      const ms = this.idleParkMs();
      this.delay.disable(); // a park is not a slow slice: do not sample across it
      const r = this.bell.waitSync(seen, ms);
      // the bookkeeping of the wake-up waits until the turn has claimed and published (afterPark):
      // on a cold CPU every step before the first claim is paid in the caller's latency
      this.parkEnded = r;
      // now: the lag alone, not the claim after it; over 1 ms it is a stale RUNG_AT (doorbell.ts invariant 7)
      if (r === 'rung') this.wakeLagMs = this.bell.msSinceNotify(1);
      if (this.q.size() > 0 && this.bell.seq() !== seen) {
        // the task came when main rang, not when this thread got to run again
        this.arrivedAt = performance.now() - Math.max(0, this.wakeLagMs);
        this.cameCold = true;
        // calls further apart than any spin (probe included) pays for, this one too: publish as soon
        // as it is done (a spin decided after the publish would reach main too late: planSpin)
        this.publishNow = this.gaps.staysLong(this.arrivedAt);
        return true;
      }
      this.afterPark();
      this.scheduleTurn(); // via setImmediate: port messages get their turn first
      return false;
    }
    this.waiting = true;
    const resume = (): void => {
      this.waiting = false;
      this.turn(); // already a turn of the event loop (the wait settled there): claim now
    };
    this.bell.wait(seen, { ref: false }).then(resume, resume);
    return false;
  }

  /**
   * The bound of an idle park: long while nothing but ports is active (IDLE_PARK_MAX_MS). A
   * queued immediate that is still reported after IMMEDIATE_STALE short parks in a row, with a
   * loop turn between each (which would have run it), is not one: Node sometimes reports one on
   * an idle worker for good, and it must not cost a wake-up every 20 ms.
   */
  private idleParkMs(): number {
    let immediate = false;
    for (const r of process.getActiveResourcesInfo()) {
      if (r === 'Immediate') immediate = true;
      else if (r !== 'MessagePort') return IDLE_PARK_MS;
    }
    if (!immediate) {
      this.staleImmediate = 0;
      return IDLE_PARK_MAX_MS;
    }
    return ++this.staleImmediate > IMMEDIATE_STALE ? IDLE_PARK_MAX_MS : IDLE_PARK_MS;
  }

  /** The bookkeeping of a park that ended: sample the loop's delay again, measure a rung wake-up. */
  private afterPark(): void {
    const r = this.parkEnded;
    this.parkEnded = undefined;
    this.delay.enable();
    if (r === 'rung') {
      this.staleImmediate = 0;
      this.measureWake();
    }
  }

  /** After a rung park: fold the wake-up's lag (notify to running) into the spin budget. */
  private measureWake(): void {
    const ms = this.wakeLagMs;
    if (ms < 0) return;
    const us = Math.min(SPIN_MAX_US, Math.max(SPIN_MIN_US, ms * 1000));
    this.spinUs = this.spinUs * 0.875 + us * 0.125;
  }

  // --- control plane (port) -----------------------------------------------------------------

  private control(batch: ToWorker[]): void {
    if (!Array.isArray(batch)) return; // not ours: the reactor's attach message (src/net/worker/host.ts)
    for (const f of batch) {
      switch (f[0]) {
        case SUBMIT:
          this.runner.submit(f[1], f[2], f[3], f[4]);
          break;
        case CANCEL:
          if (this.runner.isLive(f[1])) this.runner.cancel(f[1], f[2]);
          else this.preCancelled.add(f[1]);
          break;
        case QUERY:
          this.portOut.push([TASKS, f[1], this.runner.snapshot()]);
          break;
        case RETIRE:
          this.retiring = true;
          break;
        case DEFINE: {
          this.defs.set(f[1], [f[2], f[3]]);
          const waiting = this.undefinedFn.get(f[1]);
          if (waiting) {
            this.undefinedFn.delete(f[1]);
            for (const [id] of waiting) this.undefinedIds.delete(id);
            for (const [id, args] of waiting) this.runner.submit(id, f[2], f[3], args);
          }
          break;
        }
        default:
          this.portOut.push([
            ERR,
            0,
            toWire(new Error(`pool worker: unknown frame kind ${String((f as unknown[])[0])}`)),
          ]);
      }
    }
    this.scheduleFlush();
    this.scheduleTurn();
  }
}
