/**
 * Posting a batch of worker -> main frames on the worker's port, used by both transports (the
 * message transport for everything, the shared one for what does not fit its rings): one frame
 * that cannot be cloned fails only its own task.
 *
 * Runs on a pool worker. Owns nothing.
 */
import type { MessagePort } from 'node:worker_threads';
import { rangeError, typeError } from '../core/args.js';
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
        if (f[0] === OK) port.postMessage([[ERR, f[1], toWire(resultRefused(e))]]);
      }
    }
  }
}

/**
 * The error a task fails with when its result cannot travel back to main: TypeError
 * ERR_SHOAL_UNCLONEABLE for what structured clone refuses, RangeError ERR_OUT_OF_RANGE for
 * nesting deeper than the codec's limit.
 */
export function resultRefused(e: unknown): Error {
  const deep = (e as { code?: unknown })?.code === 'ERR_OUT_OF_RANGE';
  const msg = `the task's result cannot be sent back to the main thread: ${messageOf(e)}`;
  return deep ? rangeError(msg) : typeError(msg, 'ERR_SHOAL_UNCLONEABLE');
}

function messageOf(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unprintable error';
  }
}
