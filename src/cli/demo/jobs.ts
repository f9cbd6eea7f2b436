/**
 * The demo's task module, loaded both by shoal's workers (`rt.run(url, name, [arg])`) and by
 * piscina (`pool.run(arg, { name })`): every export takes one argument so the same code runs on
 * both pools, and the comparison measures the pools, not the jobs.
 *
 * Runs on pool worker threads (shoal's or piscina's). Owns nothing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { taskSignal } from '../../pool/task-context.js';

/** A fine-grained job: `n` SHA-256 passes over 64 bytes (about 1 µs each on this kind of box). */
export function fine(n: number): number {
  let h = Buffer.alloc(64, n & 0xff);
  for (let i = 0; i < n; i++) h = createHash('sha256').update(h).digest();
  return h[0]!;
}

/** A coarse job's parameters. */
export interface CoarseSpec {
  path: string;
  rounds: number;
}

/** A coarse job: read a file, then hash it `rounds` times (a few ms of CPU). */
export async function coarse(spec: CoarseSpec): Promise<number> {
  const data = await readFile(spec.path);
  let h = createHash('sha256').update(data).digest();
  for (let i = 1; i < spec.rounds; i++) h = createHash('sha256').update(h).update(data).digest();
  return h[0]!;
}

/** The thread a job ran on (the demo counts threads that a cancellation replaced). */
export function whoami(): number {
  return threadId;
}

/**
 * A long job that stays cancellable: CPU in 1 ms slices, with a turn of the event loop between
 * slices so that a cancellation reaches it (`signal` is the task's own: shoal's `taskSignal()`).
 */
export async function long(ms: number, signal?: AbortSignal): Promise<number> {
  const end = performance.now() + ms;
  let slices = 0;
  while (performance.now() < end) {
    const stop = performance.now() + 1;
    while (performance.now() < stop) {
      /* burn */
    }
    slices++;
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw signal.reason;
  }
  return slices;
}

/** `long` on shoal: the task's own signal aborts when the caller cancels (no thread is killed). */
export function longTask(ms: number): Promise<number> {
  return long(ms, taskSignal());
}
