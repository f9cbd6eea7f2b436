/**
 * Example task module used by the examples in this folder: each export is a task.
 *
 * Runs on pool workers.
 */
import { sleep, taskSignal } from '../src/index.js';

/** CPU: naive Fibonacci. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** I/O-like: waits, honouring cancellation without being handed the signal. */
export async function slowEcho<T>(value: T, ms: number): Promise<T> {
  await sleep(ms); // rejects with CancelledError once the task is cancelled
  return value;
}

/** Reads the task's signal explicitly, e.g. to pass it to fetch(). */
export async function waitForCancel(): Promise<string> {
  const signal = taskSignal();
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  return `saw cancellation: ${String((signal.reason as Error)?.message ?? signal.reason)}`;
}
