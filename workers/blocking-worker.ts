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
import { assertCloneable, MAX_DEPTH, nestedDeeperThan, tooDeepError } from '../src/pool/message/cloneable.js';
import { resultRefused } from '../src/pool/post-batch.js';

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
  let value: unknown;
  try {
    value = await (fn as (...a: unknown[]) => unknown)(...job.args);
  } catch (e) {
    return { ok: false, error: toWire(e) };
  }
  // The same rule as the pool's results: a value that cannot travel back fails its job with a
  // coded error (piscina would reject with a bare `{}` from a failed postMessage).
  try {
    assertCloneable(value, 'result');
    if (value !== null && typeof value === 'object' && nestedDeeperThan(value, MAX_DEPTH)) throw tooDeepError('result');
  } catch (e) {
    return { ok: false, error: toWire(resultRefused(e)) };
  }
  return { ok: true, value };
}
