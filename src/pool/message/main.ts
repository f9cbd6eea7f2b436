/**
 * Main-thread half of the message transport: a FIFO of unclaimed tasks, answered to workers'
 * PULLs in batches, one postMessage per worker per turn.
 *
 * Runs on the main thread only. Owns: the queue of unclaimed submissions, each worker's open
 * pull, and each worker's outgoing batch. Values travel by structured clone.
 *
 * Dispatch rule (pairs with worker.ts, "The pull rule"):
 *   1. A task is sent only against an open PULL; one PULL is answered by one batch.
 *   2. A batch holds at most min(n, fair share) tasks. The fair share of a worker is
 *      ceil((queued + tasks out on every live worker) / live workers) minus its own tasks out,
 *      so a burst is split over the workers, also those not pulling right now: a burst of async
 *      tasks (each waiting on I/O, its CPU work to come later) is not all handed to whichever
 *      worker pulled first while the other was busy for a moment.
 *   2a. No hostages: a worker at its share still gets work once every other worker has sent
 *      nothing for STALL_MS (stuck in a long synchronous slice); a timer re-checks then.
 *   3. Dispatch runs in a microtask: a synchronous loop of `rt.run()` calls queues everything
 *      first and is then sent in as few posts as there are pulling workers.
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import { assertCloneable } from './cloneable.js';
import {
  CANCEL,
  ERR,
  OK,
  PULL,
  QUERY,
  RETIRE,
  RETIRING,
  STATS,
  SUBMIT,
  TASKS,
  type FromWorker,
  type SubmitFrame,
  type ToWorker,
} from '../protocol.js';
import type { SlotGauges, Transport, TransportSink } from '../transport.js';
import { fromWire, type WireError } from '../wire-error.js';
import { STALL_MS } from '../protocol.js';

interface Lane {
  worker: Worker;
  /** tasks the worker asked for in its open pull; 0 when no pull is open */
  want: number;
  /** performance.now() of its last message: a worker that sends nothing is busy or stuck */
  lastHeard: number;
  batch: ToWorker[];
  /** transfer list of the whole outgoing batch, and per task (for the one-by-one fallback) */
  transfer: TransferListItem[];
  taskTransfer: Map<number, readonly TransferListItem[]>;
  /** asked to retire: its pulls are no longer answered */
  retiring: boolean;
}

/** The MessagePort transport (SHOAL_TRANSPORT=message). */
export class MessageTransport implements Transport {
  readonly kind = 'message' as const;
  private readonly sink: TransportSink;
  private readonly lanes: Array<Lane | undefined> = [];
  /** FIFO of unclaimed submissions; `head` is the next to send (compacted as it drains) */
  private q: SubmitFrame[] = [];
  private head = 0;
  private readonly dropped = new Set<number>();
  private readonly transfers = new Map<number, readonly TransferListItem[]>();
  private dispatchScheduled = false;
  private recheck: NodeJS.Timeout | undefined;
  private closed = false;

  /** `stallMs`: rule 2a's wait (tests pass their own). */
  constructor(
    sink: TransportSink,
    private readonly stallMs = STALL_MS,
  ) {
    this.sink = sink;
  }

  bootData(): unknown {
    return undefined;
  }

  attach(slot: number, worker: Worker): void {
    const lane: Lane = {
      worker,
      want: 0,
      lastHeard: performance.now(),
      batch: [],
      transfer: [],
      taskTransfer: new Map(),
      retiring: false,
    };
    this.lanes[slot] = lane;
    worker.on('message', (batch: FromWorker[]) => {
      if (this.lanes[slot] !== lane) return; // a late batch from a worker already replaced
      this.receive(slot, lane, batch);
    });
  }

  detach(slot: number): void {
    this.lanes[slot] = undefined;
  }

  submit(id: number, url: string, name: string, args: unknown[], transfer?: readonly TransferListItem[]): void {
    assertCloneable(args, 'args', transfer);
    this.q.push([SUBMIT, id, url, name, args]);
    if (transfer?.length) this.transfers.set(id, transfer);
    this.scheduleDispatch();
  }

  retire(slot: number): void {
    const lane = this.lanes[slot];
    if (!lane || lane.retiring) return;
    lane.retiring = true;
    lane.want = 0;
    // after every batch already sent (the port is FIFO): the worker has all it will ever get
    lane.batch.push([RETIRE]);
    this.scheduleDispatch();
  }

  drop(id: number): void {
    // the queue is ours: the task never left main, so removing it is enough
    this.dropped.add(id);
    this.transfers.delete(id);
  }

  cancel(slot: number, id: number, reason: WireError): void {
    const lane = this.lanes[slot];
    if (!lane) return;
    lane.batch.push([CANCEL, id, reason]);
    this.scheduleDispatch();
  }

  query(slot: number, queryId: number): void {
    const lane = this.lanes[slot];
    if (!lane) return;
    lane.batch.push([QUERY, queryId]);
    this.scheduleDispatch();
  }

  queued(): number {
    return this.q.length - this.head - this.dropped.size;
  }

  gauges(): SlotGauges {
    return { parks: 0, parkedWhileLive: 0, siblingWakes: 0 }; // workers here never block: they wait on their port
  }

  wakeWorker(): void {} // a message-transport worker never blocks its thread

  ringUse(): number {
    return 0;
  }

  close(): void {
    this.closed = true;
    if (this.recheck) clearTimeout(this.recheck);
    this.q = [];
    this.head = 0;
    this.dropped.clear();
    this.transfers.clear();
  }

  private receive(slot: number, lane: Lane, batch: FromWorker[]): void {
    lane.lastHeard = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const f = batch[i]!;
      switch (f[0]) {
        case OK:
          this.sink.settled(slot, f[1], true, f[2]);
          break;
        case ERR:
          this.sink.settled(slot, f[1], false, fromWire(f[2]));
          break;
        case PULL:
          if (lane.retiring) break;
          lane.want = f[1];
          if (this.q.length > this.head) this.scheduleDispatch();
          break;
        case STATS:
          this.sink.load(slot, f[1]);
          break;
        case TASKS:
          this.sink.tasks(slot, f[1], f[2]);
          break;
        case RETIRING:
          this.sink.retiring(slot);
          break;
        default:
          throw new Error(`pool: unknown frame kind ${String((f as unknown[])[0])} from worker ${slot}`);
      }
    }
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.closed) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => this.dispatch());
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    if (this.closed) return;
    let live = 0;
    let out = 0;
    for (let s = 0; s < this.lanes.length; s++) {
      if (!this.lanes[s] || this.lanes[s]!.retiring) continue;
      live++;
      out += this.sink.running(s);
    }
    const now = performance.now();
    let held = false;
    for (let s = 0; s < this.lanes.length; s++) {
      const lane = this.lanes[s];
      if (!lane) continue;
      const queued = this.q.length - this.head;
      if (lane.want > 0 && queued > 0) {
        let n = Math.min(lane.want, Math.ceil((queued + out) / live) - this.sink.running(s));
        if (n <= 0) {
          if (this.othersStalled(lane, now))
            n = Math.min(lane.want, queued); // rule 2a
          else held = true;
        }
        if (n > 0) out += this.fill(s, lane, n);
      }
      if (lane.batch.length) this.post(lane);
    }
    if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    if (held && this.recheck === undefined) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        this.scheduleDispatch();
      }, this.stallMs);
      this.recheck.unref(); // pending tasks keep the workers ref'd, and so the process alive
    }
  }

  /** True when every live worker but `lane` has sent nothing for STALL_MS and is not pulling. */
  private othersStalled(lane: Lane, now: number): boolean {
    for (const other of this.lanes) {
      if (!other || other === lane) continue;
      if (other.want > 0 || now - other.lastHeard < this.stallMs) return false;
    }
    return true;
  }

  /** Move up to `n` queued tasks into `lane`'s batch; returns how many. */
  private fill(slot: number, lane: Lane, n: number): number {
    let sent = 0;
    while (sent < n && this.head < this.q.length) {
      const f = this.q[this.head]!;
      this.q[this.head++] = undefined as unknown as SubmitFrame;
      const id = f[1];
      if (this.dropped.size && this.dropped.delete(id)) continue;
      lane.batch.push(f);
      const t = this.transfers.size ? this.transfers.get(id) : undefined;
      if (t) {
        for (const x of t) lane.transfer.push(x);
        lane.taskTransfer.set(id, t);
        this.transfers.delete(id);
      }
      this.sink.assigned(slot, id);
      sent++;
    }
    if (sent > 0) lane.want = 0;
    return sent;
  }

  private post(lane: Lane): void {
    const batch = lane.batch;
    const transfer = lane.transfer;
    const taskTransfer = lane.taskTransfer;
    lane.batch = [];
    if (transfer.length) {
      lane.transfer = [];
      lane.taskTransfer = new Map();
    }
    try {
      lane.worker.postMessage(batch, transfer);
    } catch {
      // One bad frame must not sink its batch-mates: resend one by one, failing only the bad ones.
      for (const f of batch) {
        try {
          lane.worker.postMessage([f], (f[0] === SUBMIT && taskTransfer.get(f[1])) || []);
        } catch (e) {
          if (f[0] === SUBMIT) this.sink.sendFailed(f[1], e);
        }
      }
    }
  }
}
