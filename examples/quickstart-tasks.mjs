/**
 * The task module of examples/quickstart.mjs: each export is a task, run on a pool worker.
 */
import { createHash } from 'node:crypto';

export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}
