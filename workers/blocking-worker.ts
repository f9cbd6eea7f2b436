/**
 * Entry point of a blocking-pool thread (piscina's `filename`): load the job's module, call the
 * export, and send back the value or a WireError (so code, cause and class name survive).
 *
 * Runs on a piscina worker thread. Owns nothing.
 */
import type { BlockingJob, BlockingReply } from '../src/pool/blocking.js';
import { TaskLoadError } from '../src/core/errors.js';
import { describeModule, moduleLoadError } from '../src/core/module-ref.js';
import { toWire } from '../src/pool/wire-error.js';

export default async function runBlocking(job: BlockingJob): Promise<BlockingReply> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(job.url)) as Record<string, unknown>;
  } catch (e) {
    return {
      ok: false,
      error: toWire(moduleLoadError('task module', job.url, e)),
    };
  }
  const fn = ns[job.name];
  if (typeof fn !== 'function') {
    return {
      ok: false,
      error: toWire(new TaskLoadError(`task module ${describeModule(job.url)} has no function export '${job.name}'`)),
    };
  }
  try {
    return { ok: true, value: await (fn as (...a: unknown[]) => unknown)(...job.args) };
  } catch (e) {
    return { ok: false, error: toWire(e) };
  }
}
