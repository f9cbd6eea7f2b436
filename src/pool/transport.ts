/**
 * The transport abstraction: how task submissions reach workers and outcomes come back.
 * Two implementations: pool/message/main.ts (MessagePort, batched; SHOAL_TRANSPORT=message)
 * and the shared-memory transport (rings + doorbells), chosen by pool.ts.
 *
 * Runs on the main thread. Owns nothing; it is the contract between the pool (which owns the
 * task table, the workers' lives and the promises) and a transport (which owns the queue of
 * unclaimed tasks and the wire).
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { WorkerLoad, WorkerTask } from './protocol.js';
import type { WireError } from './wire-error.js';

/** What a transport reports to the pool. Called on the main thread, from the transport's own turn. */
export interface TransportSink {
  /** Task `id` was handed to (claimed by) the worker in `slot`: a crash there now rejects it. */
  assigned(slot: number, id: number): void;
  /** Task `id` settled on the worker in `slot`; `value` is the result, or the rebuilt error. */
  settled(slot: number, id: number, ok: boolean, value: unknown): void;
  /** A task could not be sent after all (the platform refused it late); reject it with `err`. */
  sendFailed(id: number, err: unknown): void;
  /** The worker in `slot` reported its load. */
  load(slot: number, load: WorkerLoad): void;
  /** True while any task is unsettled or still running on a worker (results are still expected). */
  active(): boolean;
  /** Tasks assigned to the worker in `slot` and not settled there yet. */
  running(slot: number): number;
  /** Unsettled tasks (what callers still wait for). */
  pending(): number;
  /** The worker in `slot` answered query `queryId`. */
  tasks(slot: number, queryId: number, tasks: WorkerTask[]): void;
  /** The worker in `slot` asks to be recycled (it loaded too many modules): see Pool.retiring. */
  retiring(slot: number): void;
}

/** Park counters of one worker slot (rt.stats()); zeros on transports that never park a worker. */
export interface SlotGauges {
  /** blocking parks (Atomics.wait) so far */
  parks: number;
  /** blocking parks entered while the worker had live work: always 0 unless shoal has a bug */
  parkedWhileLive: number;
  /** parked siblings this worker woke for work it left at its fair share */
  siblingWakes: number;
}

/** The main-thread half of a transport. */
export interface Transport {
  readonly kind: 'message' | 'shared';
  /** Transport-specific boot data for a worker starting in `slot` (goes in WorkerBoot.shared). */
  bootData(slot: number): unknown;
  /** A worker started in `slot`: listen to it. */
  attach(slot: number, worker: Worker): void;
  /** The worker in `slot` is gone: forget its pull/claim state (the pool rejects its tasks). */
  detach(slot: number): void;
  /**
   * Route nothing new to the worker in `slot` (no pull answered, no direct task), then tell it
   * RETIRE: it finishes what it holds and exits; the pool replaces it.
   */
  retire(slot: number): void;
  /**
   * Queue a task for whichever worker claims it first. Throws, with nothing queued, when the
   * arguments cannot be carried (call-site refusal).
   */
  submit(id: number, url: string, name: string, args: unknown[], transfer?: readonly TransferListItem[]): void;
  /**
   * Forget a task the pool has not seen claimed (it was cancelled while queued). A transport that
   * cannot take it back (the shared queue) makes sure it never starts, or, if a worker claimed it
   * a moment ago, that its signal aborts with `reason`.
   */
  drop(id: number, reason: WireError): void;
  /** Ask the worker in `slot` to abort task `id`'s signal. */
  cancel(slot: number, id: number, reason: WireError): void;
  /** Ask the worker in `slot` for its live tasks (answered through TransportSink.tasks). */
  query(slot: number, queryId: number): void;
  /** Tasks queued and not yet claimed by any worker. */
  queued(): number;
  /** Park counters of `slot` (they survive the slot's worker being replaced). */
  gauges(slot: number): SlotGauges;
  /** Per-slot ring use in [0, 1] (0 on paths without rings). */
  ringUse(slot: number): number;
  /**
   * Wake the worker in `slot` if it is parked (blocked in Atomics.wait), so it reads its ports:
   * call after posting it a message on a port of another subsystem (the reactor's OPEN, agent
   * messages). A worker with nothing live may be parked for seconds, deaf to its ports. No-op on
   * transports whose workers never block their thread.
   */
  wakeWorker(slot: number): void;
  /** Stop: drop every queued task (the pool has rejected them) and release resources. */
  close(): void;
}
