/**
 * Example task module used by the examples in this folder: each export is a task.
 *
 * Runs on pool workers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type SharedChannel, sleep, taskSignal } from 'shoal';

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

/** Cancellation without being handed the signal: `taskSignal()` and shoal's own waits see it. */
export async function fileSize(path: string): Promise<number> {
  const data = await readFile(path, { signal: taskSignal() });
  await sleep(100); // rejects with CancelledError once the task is cancelled
  return data.length;
}

/** A long CPU job for the blocking pool. */
export function hashHuge(buf: Uint8Array, rounds = 1000): string {
  let digest: Uint8Array = buf;
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return Buffer.from(digest).toString('hex');
}

/** Consumes a channel made on the main thread (`rt.channel`), returning the sum of what it took. */
export async function consume(jobs: SharedChannel<number>): Promise<number> {
  let sum = 0;
  for await (const j of jobs) sum += j;
  return sum;
}
