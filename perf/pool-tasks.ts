/**
 * Task module shared by the pool benchmarks: the same functions run under shoal, piscina,
 * tinypool and workerpool, so every pool does exactly the same work.
 *
 * Runs on pool worker threads (each pool's own workers).
 */

import { readFile } from 'node:fs/promises';

/** The no-op task: measures dispatch alone. */
export function noop(): number {
  return 0;
}

/** Burn about `us` microseconds of CPU (a busy loop on the clock, so the work is the same everywhere). */
export function cpu(us: number): number {
  const end = performance.now() + us / 1000;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}

/** The I/O-bound task: read a file, return its size (the worker mostly waits on the fs). */
export async function readSize(path: string): Promise<number> {
  return (await readFile(path)).length;
}

/** piscina / tinypool call one function with the task as its only argument. */
export default function (task: { fn: 'noop' | 'cpu' | 'read'; us?: number; path?: string }): number | Promise<number> {
  if (task.fn === 'read') return readSize(task.path!);
  return task.fn === 'cpu' ? cpu(task.us ?? 50) : noop();
}
