/**
 * Main-thread half of the shared-memory transport (the default): tasks go into one multi-consumer
 * slot queue that idle workers claim from; results come back through one SPSC byte ring per
 * worker; doorbells wake whoever is parked. Layout and frames: layout.ts.
 *
 * Runs on the main thread only (it never calls Atomics.wait: it polls with setImmediate while
 * results are expected soon, then parks with waitAsync). Owns: the producer side of the task
 * queue, an overflow FIFO for when it is full, the reader of every results ring, the fnId table,
 * each worker's control lane (control.ts: what travels on its port), and main's parker.
 *
 * A burst of submissions (everything submitted before the next microtask checkpoint):
 *   1. the first submission queues its task and rings the workers at once (wake.ts): on a
 *      cold call the wake-up of a parked worker is the longest step, so it starts before anything
 *      else main does (docs/measurements.md, "cold round trip");
 *   2. at the end of the burst (one microtask), ring again if more tasks followed the first;
 *      then choose how main waits for the results: a lone task whose worker was awake (running
 *      or spinning) is spun for (bounded by SPIN_MS: shorter than a park and wake-up, so a
 *      spin that misses costs less than the park it tried to save); a task that had to wake a
 *      parked worker cannot come back before that worker's wake-up, so main parks at once
 *      (waitAsync through a LoopParker: no promise, no timer), unless that worker has answered
 *      already (it may run on main's CPU during the ring): then the pump drains now; or unless
 *      the call came right after main settled the one before (a sequential loop that met a
 *      parked worker): then the pump polls for up to COLD_POLL_MS, so that main's own wake-up
 *      does not hold the loop in the parked regime; otherwise the pump polls.
 *
 * The pump (main's loop, one setImmediate or bell wake-up per turn):
 *   1. drain every results ring: settle OK/ERR, record CLAIMs; release the ring space in one store;
 *   2. move overflowed tasks into the queue while it has room (else set WANT_SPACE: a worker's
 *      release rings main's bell); a long synchronous burst of submit() calls, which gets no
 *      turn, also refills every 64 overflowed tasks, so workers do not idle behind main;
 *   3. ring workers for what was queued (wake.ts: at most one futex wake per burst);
 *   4. while results are expected: poll again next turn if anything happened in the last
 *      POLL_MS and results have been arriving less than POLL_MS apart, otherwise park on main's
 *      bell (waitAsync, unref'd: the pool refs the workers while tasks are in flight). A worker
 *      that publishes rings main's bell; a burst submitted while main is parked leaves it parked
 *      unless a worker was awake to take it (then its results come sooner than a wake-up).
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import { createByteRing } from '../../shm/byte-ring.js';
import { ByteRingReader } from '../../shm/byte-ring-reader.js';
import { createDoorbell, Doorbell } from '../../shm/doorbell.js';
import { LoopParker } from '../../shm/loop-parker.js';
import { Waker } from './wake.js';
import { OverflowQueue } from './overflow-queue.js';
import { copyBytes } from '../../shm/copy-bytes.js';
import { createSlotQueue, SlotQueue } from '../../shm/slot-queue.js';
import { FrameReader, FrameWriter } from '../../codec/index.js';
import { CANCEL, DEFINE, QUERY, RETIRE, SUBMIT, type FromWorker, type ToWorker } from '../protocol.js';
import { ControlLane, receiveControl } from './control.js';
import {
  CLAIM_LOG_SIZE,
  R_CLAIM,
  R_ERR,
  R_OK,
  RESULT_RING_BYTES,
  T_TASK,
  TASK_SLOT_BYTES,
  TASK_SLOTS,
  type SharedBoot,
} from './layout.js';
import type { SlotGauges, Transport, TransportSink } from '../transport.js';
import { fromWire, type WireError } from '../wire-error.js';

/** How long main keeps polling with setImmediate after the last sign of activity, ms. */
const POLL_MS = 0.1;
/**
 * How long main may spin synchronously for the result of a lone task whose worker was awake
 * (`await rt.run()` in a loop), ms. A hit saves a trip through the event loop and the worker's
 * notify; it is shorter than a park and wake-up here (20-60 µs, docs/measurements.md), so a miss
 * costs less CPU than the park it tried to save. After a miss main skips the spin for the next
 * `skip` lone tasks, `skip` doubling per consecutive miss up to SPIN_BACKOFF_MAX and reset by a
 * hit: a slow task costs at most a few spins, and one miss (a worker descheduled once, a burst
 * still draining) does not leave a loop slow for long.
 */
const SPIN_MS = 0.03;
const SPIN_BACKOFF_MAX = 64;
/**
 * A lone call submitted within this many ms of main settling the one before is part of a
 * sequential loop (`await rt.run()` in a loop, or one setImmediate between calls). When such a
 * call has to wake a parked worker, main polls for its result for up to COLD_POLL_MS (a worker's
 * wake-up and cold task here: 30-200 µs) instead of parking at once.
 */
const SEQUENTIAL_MS = 0.1;
const COLD_POLL_MS = 0.25;
/**
 * A hit settles the caller inside the current microtask checkpoint, so a loop of `await rt.run()`
 * could run on microtasks alone and starve timers and I/O. Main spins only if its pump had an
 * event-loop turn within this many ms.
 */
const MAX_MICROTASK_CHAIN_MS = 1;

interface Lane {
  worker: Worker;
  boot: SharedBoot;
  bell: Doorbell;
  reader: ByteRingReader;
  claims: Int32Array;
  control: ControlLane;
  /** asked to retire: no direct task goes to it any more */
  retiring: boolean;
}

const enum Pump {
  Idle,
  Polling,
  Parked,
}

/** The shared-memory transport. */
export class SharedTransport implements Transport {
  readonly kind = 'shared' as const;
  private readonly sink: TransportSink;
  private readonly q: SlotQueue;
  private readonly qDesc;
  private readonly mainBell: Doorbell;
  private readonly mainBellDesc;
  /** main's side of its bell while the pump is parked (never Atomics.wait) */
  private readonly parker: LoopParker;
  private readonly spinners = new SharedArrayBuffer(4);
  private readonly waker: Waker;
  private readonly lanes: Array<Lane | undefined> = [];
  private readonly booting = new Map<number, SharedBoot>();
  /** url -> name -> fnId, plus the last pair looked up (a loop of rt.run hits it every time) */
  private readonly fnIds = new Map<string, Map<string, number>>();
  private lastUrl = '';
  private lastName = '';
  private lastFn = 0;
  private readonly defs: Array<[number, string, string]> = [];
  private readonly fw = new FrameWriter();
  private readonly fr = new FrameReader();
  private readonly side: unknown[] = [];
  private readonly encodeOpts = { name: 'args', side: this.side };
  private submitted = false;
  /** tasks submitted since the last end-of-burst microtask (0: no burst open) */
  private burst = 0;
  /** the burst's first ring had to wake a parked worker (results come no sooner than its wake-up) */
  private burstWoke = false;
  private spinSkip = 0;
  private spinBackoff = 0;
  private lastTurnAt = 0;
  private readonly overflow = new OverflowQueue();
  private controlScheduled = false;
  private pump = Pump.Idle;
  private lastActivity = 0;
  /** smoothed time between turns that found results, ms */
  private gapMs = 0;
  private lastResultAt = 0;
  private rr = 0;
  /** when main last settled results (drain), ms */
  private settledAt = 0;
  /** the pump polls at least until then, ms (a sequential call that woke a worker) */
  private pollUntil = 0;
  private closed = false;

  /** `slots`: how many workers the pool runs (bells and gauges are made once per slot). */
  constructor(sink: TransportSink, slots: number) {
    this.sink = sink;
    this.waker = new Waker(slots);
    this.qDesc = createSlotQueue(TASK_SLOTS, TASK_SLOT_BYTES);
    this.q = new SlotQueue(this.qDesc);
    this.mainBellDesc = createDoorbell();
    this.mainBell = new Doorbell(this.mainBellDesc, { spinIterations: 0 });
    this.parker = new LoopParker(this.mainBellDesc, this.wake);
  }

  bootData(slot: number): unknown {
    const boot: SharedBoot = {
      slot,
      tasks: this.qDesc,
      results: createByteRing(RESULT_RING_BYTES),
      bells: this.waker.bellDescriptors,
      mainBell: this.mainBellDesc,
      claims: new SharedArrayBuffer(4 * (1 + CLAIM_LOG_SIZE)),
      gauges: this.waker.gaugeBuffer,
      spinners: this.spinners,
      defs: this.defs.slice(),
    };
    this.booting.set(slot, boot);
    return boot;
  }

  attach(slot: number, worker: Worker): void {
    const boot = this.booting.get(slot)!;
    this.booting.delete(slot);
    const bell = this.waker.bell(slot);
    const lane: Lane = {
      worker,
      boot,
      bell,
      reader: new ByteRingReader(boot.results, { onWriterWaiting: () => bell.ring() }),
      claims: new Int32Array(boot.claims),
      control: new ControlLane(worker, bell),
      retiring: false,
    };
    this.lanes[slot] = lane;
    this.waker.setAlive(slot, true);
    worker.on('message', (batch: FromWorker[]) => {
      if (this.lanes[slot] !== lane) return;
      receiveControl(this.sink, slot, batch);
    });
  }

  detach(slot: number): void {
    const lane = this.lanes[slot];
    if (!lane) return;
    // The thread is gone: read what it published, then learn from its claim log which tasks it
    // had taken without telling us yet, so the pool rejects them too.
    this.drain(slot, lane);
    const n = Atomics.load(lane.claims, 0); // pairs with: worker.ts claimed (Atomics.store COUNT)
    for (let i = 0; i < n && i < CLAIM_LOG_SIZE; i++) this.sink.assigned(slot, lane.claims[1 + i]!);
    this.lanes[slot] = undefined;
    this.waker.setAlive(slot, false);
  }

  submit(id: number, url: string, name: string, args: unknown[], transfer?: readonly TransferListItem[]): void {
    const fnId = url === this.lastUrl && name === this.lastName ? this.lastFn : this.fnId(url, name);
    const side = this.side;
    const fw = this.fw.reset().u32(id).u32(fnId).value(args, this.encodeOpts); // refusal throws here
    if (side.length > 0 || (transfer && transfer.length > 0) || fw.size > this.q.slotBytes) {
      side.length = 0;
      this.direct(id, url, name, args, transfer);
    } else if (this.overflow.length > 0 || !this.put(fw)) {
      this.overflow.push(id, fw);
      // A long synchronous burst of submissions gets no pump turn: keep the queue fed from here.
      if ((this.overflow.length & 63) === 0 && this.refill() > 0) this.waker.ring(this.queueDepth);
    }
    if (this.burst++ === 0) {
      // the first of a burst: start a parked worker's wake-up now (the cold call's longest step)
      this.burstWoke = this.waker.ring(this.queueDepth);
      queueMicrotask(this.endBurst);
    }
    this.submitted = true; // the next turn counts as activity
  }

  retire(slot: number): void {
    const lane = this.lanes[slot];
    if (!lane || lane.retiring) return;
    lane.retiring = true;
    this.send(slot, [RETIRE]); // it stops claiming from the queue; the others take the rest
  }

  drop(id: number, reason: WireError): void {
    this.overflow.drop(id);
    // It may sit in the queue (a worker will skip it) or have just been claimed (abort it there).
    for (let s = 0; s < this.lanes.length; s++) if (this.lanes[s]) this.cancel(s, id, reason);
  }

  cancel(slot: number, id: number, reason: WireError): void {
    this.send(slot, [CANCEL, id, reason]);
  }

  query(slot: number, queryId: number): void {
    this.send(slot, [QUERY, queryId]);
  }

  queued(): number {
    return this.q.size() + this.overflow.length;
  }

  gauges(slot: number): SlotGauges {
    return this.waker.gauges(slot);
  }

  wakeWorker(slot: number): void {
    if (this.lanes[slot]) this.waker.bell(slot).ring(); // a syscall only if that worker is parked
  }

  ringUse(slot: number): number {
    const lane = this.lanes[slot];
    return lane ? lane.reader.unreadBytes() / RESULT_RING_BYTES : 0;
  }

  close(): void {
    this.closed = true;
    this.overflow.clear();
    this.parker.dispose(); // its waiter fires: the pump turns once more and stops
  }

  // --- submission -------------------------------------------------------------------------------

  private put(fw: FrameWriter): boolean {
    const off = this.q.reserve();
    if (off < 0) return false;
    this.q.commit(fw.writeTo(this.q.bytes, off, off + this.q.slotBytes), T_TASK);
    return true;
  }

  /** Too big for a slot, or carrying shared objects: hand it to one worker over its port. */
  private direct(id: number, url: string, name: string, args: unknown[], transfer?: readonly TransferListItem[]): void {
    let slot = -1;
    for (let i = 0; i < this.lanes.length; i++) {
      const s = (this.rr + i) % this.lanes.length;
      const lane = this.lanes[s];
      if (!lane || lane.retiring) continue;
      if (slot < 0) slot = s;
      if (lane.bell.state() !== 'running') {
        slot = s; // prefer an idle worker
        break;
      }
    }
    if (slot < 0) {
      // every live worker is retiring: the first one still runs what it is given before it exits
      for (let s = 0; s < this.lanes.length && slot < 0; s++) if (this.lanes[s]) slot = s;
    }
    if (slot < 0) throw new Error('pool: no worker is running to take the task');
    this.rr = slot + 1;
    this.sink.assigned(slot, id);
    this.send(slot, [SUBMIT, id, url, name, args], transfer);
  }

  private fnId(url: string, name: string): number {
    let names = this.fnIds.get(url);
    if (!names) this.fnIds.set(url, (names = new Map()));
    let id = names.get(name);
    if (id === undefined) {
      id = this.defs.length + 1;
      names.set(name, id);
      this.defs.push([id, url, name]);
      // Posted now, before any task naming it is queued, so a worker meets DEFINE on its port first.
      for (const lane of this.lanes) lane?.worker.postMessage([[DEFINE, id, url, name]]);
    }
    this.lastUrl = url;
    this.lastName = name;
    this.lastFn = id;
    return id;
  }

  /** Move overflowed tasks into the queue while it has room; returns how many moved. */
  private refill(): number {
    const n = this.overflow.drainInto(this.putFrame);
    if (this.overflow.length > 0) this.q.hasSpace(); // sets WANT_SPACE: the next release rings main's bell
    return n;
  }

  private readonly putFrame = (src: Uint8Array, from: number, len: number): boolean => {
    const q = this.q;
    const at = q.reserve();
    if (at < 0) return false;
    copyBytes(src, from, from + len, q.bytes, at);
    q.commit(len, T_TASK);
    return true;
  };

  /** Policy steps 2-3 of the pump: wake workers for what was queued (wake.ts). */
  private ringWorkers(): void {
    this.waker.ring(this.queueDepth);
  }

  private readonly queueDepth = (): number => this.q.size();

  /** End of a burst of submissions (one microtask): ring for the rest, then choose how to wait. */
  private readonly endBurst = (): void => {
    const more = this.burst > 1;
    this.burst = 0;
    if (more && this.waker.ring(this.queueDepth)) this.burstWoke = true;
    if (this.closed) return;
    const lone = this.sink.pending() === 1;
    if (lone && !this.burstWoke && this.spinForLone()) return; // settled here: nothing to wait for
    if (this.pump === Pump.Idle) {
      if (lone && this.burstWoke && this.overflow.length === 0) {
        const now = performance.now();
        if (now - this.settledAt < SEQUENTIAL_MS) {
          // the caller answers its last result with this call: a loop that met a parked worker.
          // Main polls for the answer instead of parking, so the next call follows at once and
          // finds the worker still spinning after its cold task; a parked main would add its own
          // wake-up to every gap the worker measures, and the loop would stay cold
          // (docs/measurements.md, 2026-12-07 08:20 "the sequential loop")
          this.pollUntil = now + COLD_POLL_MS;
          this.pump = Pump.Polling;
          setImmediate(this.turn);
          return;
        }
        if (this.parkNow()) return;
        // not parked: the woken worker has answered already (on a 2-core machine it often runs on
        // main's CPU while main is still inside the ring's notify): settle it now, not a turn later
        return this.turn();
      }
      this.pump = Pump.Polling;
      setImmediate(this.turn);
    } else if (this.pump === Pump.Parked && !this.burstWoke) {
      // a worker was awake to take the burst: its results come sooner than a wake-up, poll for them
      this.parker.unpark();
      this.pump = Pump.Polling;
      setImmediate(this.turn);
    }
  };

  /**
   * One task in flight and its worker awake: spin briefly for its result and settle it from here
   * (no event-loop trip). True when nothing is left in flight. // main thread only, never blocks long
   */
  private spinForLone(): boolean {
    if (this.spinSkip > 0) {
      this.spinSkip--;
      return false;
    }
    const now = performance.now();
    if (now - this.lastTurnAt > MAX_MICROTASK_CHAIN_MS) return false; // let the event loop turn first
    const end = now + SPIN_MS;
    for (let i = 1; ; i++) {
      for (let s = 0; s < this.lanes.length; s++) {
        const lane = this.lanes[s];
        if (lane?.reader.available() && this.drain(s, lane) > 0 && this.sink.pending() === 0) {
          this.spinBackoff = 0;
          return !this.sink.active();
        }
      }
      if ((i & 15) === 0 && performance.now() > end) break;
    }
    this.spinBackoff = Math.min(SPIN_BACKOFF_MAX, this.spinBackoff * 2 || 1);
    this.spinSkip = this.spinBackoff;
    return false;
  }

  /**
   * Park the idle pump at once (a cold call: nothing can come back before a wake-up). False when
   * a result is already readable or the bell rang since: then there is something to drain now.
   */
  private parkNow(): boolean {
    const seen = this.mainBell.seq();
    for (const lane of this.lanes) if (lane?.reader.available()) return false;
    if (!this.parker.park(seen)) return false;
    this.pump = Pump.Parked;
    return true;
  }

  // --- control plane ---------------------------------------------------------------------------

  private send(slot: number, f: ToWorker, transfer?: readonly TransferListItem[]): void {
    const lane = this.lanes[slot];
    if (!lane) return;
    lane.control.push(f, transfer);
    if (this.controlScheduled) return;
    this.controlScheduled = true;
    queueMicrotask(this.flushControl);
  }

  private readonly flushControl = (): void => {
    this.controlScheduled = false;
    for (const lane of this.lanes) lane?.control.flush(this.sink);
  };

  // --- the pump --------------------------------------------------------------------------------

  private readonly turn = (): void => {
    if (this.closed) {
      this.pump = Pump.Idle;
      return;
    }
    let n = 0;
    for (let s = 0; s < this.lanes.length; s++) {
      const lane = this.lanes[s];
      if (lane) n += this.drain(s, lane);
    }
    if (this.overflow.length > 0 && this.refill() > 0) {
      n++;
      this.ringWorkers();
    }
    this.waker.wakeIfStuck(this.q.size());
    const now = performance.now();
    this.lastTurnAt = now;
    if (n > 0) {
      this.pollUntil = 0;
      this.gapMs = this.gapMs * 0.75 + (now - this.lastResultAt) * 0.25;
      this.lastResultAt = now;
    }
    if (n > 0 || this.submitted) this.lastActivity = now;
    this.submitted = false;
    if (!this.sink.active() && this.overflow.length === 0) {
      this.pump = Pump.Idle;
      return;
    }
    // Poll only while results come faster than a park and wake-up would cost; sparse results
    // (tasks of a millisecond or more) would have main spin through empty turns for each one.
    if ((now - this.lastActivity < POLL_MS && this.gapMs < POLL_MS) || now < this.pollUntil) {
      this.pump = Pump.Polling;
      setImmediate(this.turn);
      return;
    }
    const seen = this.mainBell.seq();
    for (const lane of this.lanes) {
      if (lane?.reader.available()) {
        setImmediate(this.turn);
        return;
      }
    }
    if (!this.parker.park(seen)) {
      setImmediate(this.turn); // rung since `seen`: look again
      return;
    }
    this.pump = Pump.Parked;
  };

  /** main's bell fired: a worker published (or a stale waiter of an earlier park fired). */
  private readonly wake = (slept: boolean): void => {
    if (!slept || this.pump !== Pump.Parked) return; // awake already: a turn is scheduled
    this.pump = Pump.Polling;
    this.lastActivity = performance.now();
    this.turn();
  };

  private drain(slot: number, lane: Lane): number {
    const n = this.drainRing(slot, lane);
    if (n > 0) this.settledAt = performance.now();
    return n;
  }

  private drainRing(slot: number, lane: Lane): number {
    const fr = this.fr;
    const sink = this.sink;
    return lane.reader.drain((bytes, off, len, tag) => {
      const r = fr.reset(bytes, off, len);
      if (tag === R_CLAIM) {
        const count = r.u32();
        for (let i = 0; i < count; i++) sink.assigned(slot, r.u32());
        r.finish();
        return;
      }
      const id = r.u32();
      const v = r.value();
      r.finish();
      if (tag === R_OK) sink.settled(slot, id, true, v);
      else if (tag === R_ERR) sink.settled(slot, id, false, fromWire(v as WireError));
    });
  }
}
