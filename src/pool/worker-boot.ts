/**
 * Worker-side boot: pick the worker half of the transport named in the boot data.
 *
 * Runs on a pool worker. Owns nothing.
 */
import type { MessagePort } from 'node:worker_threads';
import { setTracing } from '../core/introspect.js';
import type { WorkerBoot } from './protocol.js';
import { startMessageWorker } from './message/worker.js';
import { startSharedWorker, type IdleVeto } from './shared/worker.js';

/** Start serving tasks on this worker thread. */
export function bootPoolWorker(port: MessagePort, boot: WorkerBoot, idleVeto?: IdleVeto): void {
  if (boot.tracing) setTracing(true);
  switch (boot.transport) {
    case 'message':
      startMessageWorker(port, boot, idleVeto);
      return;
    case 'shared':
      startSharedWorker(port, boot, idleVeto);
      return;
    default:
      throw new Error(`pool worker: transport '${boot.transport}' is not available`);
  }
}
