/**
 * Task module shared by the pool benchmarks: the same functions run under shoal, piscina,
 * tinypool and workerpool, so every pool does exactly the same work.
 *
 * Runs on pool worker threads (each pool's own workers).
 */

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

/** piscina / tinypool call one function with the task as its only argument. */
export default function (task: { fn: 'noop' | 'cpu'; us?: number }): number {
  return task.fn === 'cpu' ? cpu(task.us ?? 50) : noop();
}
