/**
 * Posting a batch of worker -> main frames on the worker's port, used by both transports (the
 * message transport for everything, the shared one for what does not fit its rings): one frame
 * that cannot be cloned fails only its own task.
 *
 * Runs on a pool worker. Owns nothing.
 */
import type { MessagePort } from 'node:worker_threads';
import { typeError } from '../core/args.js';
import { ERR, OK, type FromWorker } from './protocol.js';
import { toWire } from './wire-error.js';

/**
 * Post a batch; when one frame cannot be cloned (a task returned a function...), resend frame by
 * frame and turn each refused result into an ERR frame, so one bad result fails only its task.
 */
export function postBatch(port: MessagePort, batch: FromWorker[]): void {
  try {
    port.postMessage(batch);
  } catch {
    for (const f of batch) {
      try {
        port.postMessage([f]);
      } catch (e) {
        if (f[0] === OK) {
          const why = typeError(
            `the task's result cannot be sent back to the main thread: ${(e as Error).message}`,
            'ERR_SHOAL_UNCLONEABLE',
          );
          port.postMessage([[ERR, f[1], toWire(why)]]);
        }
      }
    }
  }
}
