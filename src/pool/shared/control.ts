/**
 * The control plane of the shared-memory transport: what travels on a worker's MessagePort
 * rather than through the task queue and result rings (CANCEL, QUERY, DEFINE, and SUBMIT for
 * tasks that do not fit a slot or carry shared objects; OK / ERR for results the ring cannot
 * carry, STATS and TASKS coming back). Frames: protocol.ts.
 *
 * Runs on the main thread only. Owns: one outgoing batch (and its transfer list) per worker.
 * Frames are collected for one microtask checkpoint and posted as one batch per worker, then that
 * worker's bell is rung, so a worker parked in Atomics.wait wakes to read its port.
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { Doorbell } from '../../shm/doorbell.js';
import { ERR, OK, RETIRING, STATS, SUBMIT, TASKS, type FromWorker, type ToWorker } from '../protocol.js';
import type { TransportSink } from '../transport.js';
import { fromWire } from '../wire-error.js';

/** One worker's outgoing control batch. */
export class ControlLane {
  private out: ToWorker[] = [];
  private transfer: TransferListItem[] = [];
  private readonly worker: Worker;
  private readonly bell: Doorbell;

  constructor(worker: Worker, bell: Doorbell) {
    this.worker = worker;
    this.bell = bell;
  }

  /** Queue a frame (and what it transfers) for the next flush. */
  push(f: ToWorker, transfer?: readonly TransferListItem[]): void {
    this.out.push(f);
    if (transfer) for (const x of transfer) this.transfer.push(x);
  }

  /**
   * Post the batch and ring the worker's bell. A batch the platform refuses is resent frame by
   * frame, so one bad frame fails only its own task (`sendFailed`).
   */
  flush(sink: TransportSink): void {
    if (this.out.length === 0) return;
    const batch = this.out;
    const transfer = this.transfer;
    this.out = [];
    this.transfer = [];
    try {
      this.worker.postMessage(batch, transfer);
    } catch {
      for (const f of batch) {
        try {
          this.worker.postMessage([f]);
        } catch (e) {
          if (f[0] === SUBMIT) sink.sendFailed(f[1], e);
        }
      }
    }
    this.bell.ring(); // a parked worker reads its port when it wakes
  }
}

/** Deliver a batch a shared-transport worker posted on its port. */
export function receiveControl(sink: TransportSink, slot: number, batch: FromWorker[]): void {
  for (const f of batch) {
    switch (f[0]) {
      case OK:
        sink.settled(slot, f[1], true, f[2]);
        break;
      case ERR:
        sink.settled(slot, f[1], false, fromWire(f[2]));
        break;
      case STATS:
        sink.load(slot, f[1]);
        break;
      case TASKS:
        sink.tasks(slot, f[1], f[2]);
        break;
      case RETIRING:
        sink.retiring(slot);
        break;
      default:
        break; // PULL is a message-transport frame; a shared worker never sends it
    }
  }
}
