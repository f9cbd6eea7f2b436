/**
 * A case worker: imports the user's suite module on a fresh worker thread (its own heap, module
 * instances and JIT state), then either lists the suite's cases or measures one of them and
 * posts the samples back.
 *
 * Runs on a worker thread started by src/harness/bench/main.ts (entry: workers/bench-case.ts), one
 * per case. Owns the suite module's instance on this thread.
 *
 * Measuring one case, in order:
 *   1. `setup()` when the suite exports it (awaited); its result is passed to every call of the
 *      case and to `teardown(state)`;
 *   2. one call tells whether the case is async (it returns a promise: then every call is awaited);
 *   3. calibrate: double the iterations of a batch until a batch lasts at least the sample time
 *      (a budget/50, at least 1 ms), so timer resolution and loop overhead are under 1 %;
 *   4. warm up for `warmupMs`, then take samples (ns per call = batch time / iterations) until the
 *      budget is spent and at least `minSamples` were taken;
 *   5. `teardown(state)`, then post the samples.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HOOKS, type CaseJob, type CaseMessage } from './protocol.js';

type Fn = (state?: unknown) => unknown;

/** Run the job given in workerData and post its one message. */
export async function runCaseWorker(): Promise<void> {
  const job = workerData as CaseJob;
  parentPort!.postMessage(await caseMessage(job));
}

async function caseMessage(job: CaseJob): Promise<CaseMessage> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(job.module)) as Record<string, unknown>;
  } catch (e) {
    return errorMessage('load', e, job.name);
  }
  if (job.mode === 'list') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function' && !HOOKS.has(k));
    return { kind: 'list', names };
  }
  const name = job.name!;
  const fn = mod[name] as Fn | undefined;
  if (typeof fn !== 'function')
    return errorMessage('load', new Error(`the suite has no function export '${name}'`), name);
  let state: unknown;
  try {
    if (typeof mod.setup === 'function') state = await (mod.setup as () => unknown)();
  } catch (e) {
    return errorMessage('setup', e, name);
  }
  let measured: { async: boolean; iterations: number; samplesNs: number[] };
  try {
    measured = await measure(fn, state, job);
  } catch (e) {
    await teardown(mod, state);
    return errorMessage('case', e, name);
  }
  try {
    if (typeof mod.teardown === 'function') await (mod.teardown as (s: unknown) => unknown)(state);
  } catch (e) {
    return errorMessage('teardown', e, name);
  }
  return { kind: 'samples', name, ...measured };
}

async function teardown(mod: Record<string, unknown>, state: unknown): Promise<void> {
  try {
    if (typeof mod.teardown === 'function') await (mod.teardown as (s: unknown) => unknown)(state);
  } catch {
    // the case's own error is the one reported
  }
}

async function measure(
  fn: Fn,
  state: unknown,
  job: CaseJob,
): Promise<{ async: boolean; iterations: number; samplesNs: number[] }> {
  const first = fn(state);
  const isAsync = typeof (first as { then?: unknown } | null)?.then === 'function';
  if (isAsync) await first;
  const batch = isAsync ? asyncBatch(fn, state) : syncBatch(fn, state);
  const sampleMs = Math.max(1, job.timeMs / 50);
  let iterations = await calibrate(batch, 1, sampleMs);
  const warmEnd = performance.now() + job.warmupMs;
  while (performance.now() < warmEnd) await batch(iterations);
  // again after the warm-up: optimised code is faster, and a GC during the first calibration
  // can make a batch look long enough when it is not (iterations only grow)
  iterations = await calibrate(batch, iterations, sampleMs);
  const samplesNs: number[] = [];
  const end = performance.now() + job.timeMs;
  while ((performance.now() < end || samplesNs.length < job.minSamples) && samplesNs.length < 10_000) {
    const ms = await batch(iterations);
    samplesNs.push((ms * 1e6) / iterations);
  }
  return { async: isAsync, iterations, samplesNs };
}

/** Grow `iterations` until a batch lasts at least `sampleMs`. */
async function calibrate(batch: (n: number) => Promise<number>, iterations: number, sampleMs: number): Promise<number> {
  for (;;) {
    const ms = await batch(iterations);
    if (ms >= sampleMs || iterations >= 2 ** 30) return iterations;
    // grow towards the sample time in one step when the batch was measurable, else double
    iterations = ms > sampleMs / 16 ? Math.ceil((iterations * sampleMs * 1.1) / ms) : iterations * 2;
  }
}

/** A timed batch of `n` synchronous calls; resolves with the ms it took. */
function syncBatch(fn: Fn, state: unknown): (n: number) => Promise<number> {
  return (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(state);
    return Promise.resolve(performance.now() - t0);
  };
}

function asyncBatch(fn: Fn, state: unknown): (n: number) => Promise<number> {
  return async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn(state);
    return performance.now() - t0;
  };
}

function errorMessage(phase: 'load' | 'setup' | 'case' | 'teardown', e: unknown, name?: string): CaseMessage {
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'error', ...(name !== undefined ? { name } : {}), phase, message: err.message, stack: err.stack };
}
