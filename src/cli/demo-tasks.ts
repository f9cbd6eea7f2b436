/**
 * The `shoal demo` workload: a CPU-plus-IO job (read a file, hash it many rounds, then wait on a
 * timer as a stand-in for a network call). The same function runs on the pool and, for the
 * comparison, on the main thread.
 *
 * Runs on pool workers (and on the main thread for the single-thread baseline).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sleep } from '../core/sleep.js';

/** One demo job's outcome. */
export interface JobResult {
  digest: string;
  bytes: number;
}

/**
 * Read `path`, hash it `rounds` times (CPU), then wait `ioMs` (I/O-like latency; shoal's sleep
 * honours the task's cancellation).
 *
 * @example
 * await rt.run(new URL('./demo-tasks.js', import.meta.url), 'job', ['/tmp/x.bin', 40, 3]);
 */
export async function job(path: string, rounds: number, ioMs: number): Promise<JobResult> {
  const data = await readFile(path);
  const h = hashRounds(data, rounds);
  await sleep(ioMs);
  return { digest: h.toString('hex').slice(0, 16), bytes: data.length };
}

/**
 * The CPU part of a job alone: `rounds` chained SHA-256 passes over `data` (the demo calibrates
 * its rounds with this, so the I/O and the timer wait do not count as CPU).
 *
 * @example
 * const digest = hashRounds(await readFile(path), 100);
 */
export function hashRounds(data: Uint8Array, rounds: number): Buffer {
  let h = createHash('sha256').update(data).digest();
  for (let i = 1; i < rounds; i++) h = createHash('sha256').update(h).update(data).digest();
  return h;
}

/** One job's parameters, as `rt.map` passes a single input per call. */
export interface JobSpec {
  path: string;
  rounds: number;
  ioMs: number;
}

/**
 * `job` taking one spec object (the shape `rt.map` calls with).
 *
 * @example
 * for await (const r of rt.map(specs, new URL('./demo-tasks.js', import.meta.url), 'jobOf')) {}
 */
export function jobOf(spec: JobSpec): Promise<JobResult> {
  return job(spec.path, spec.rounds, spec.ioMs);
}
