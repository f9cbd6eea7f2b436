/**
 * `taskSignal()`: the AbortSignal of the pool task whose code is running now, found through the
 * ambient task context (src/core/context.ts) so helpers deep in a task need no extra parameter.
 *
 * Runs on any thread (on the main thread, outside a task, it returns a signal that never aborts).
 * Owns nothing.
 */
import { ambientSignal } from '../core/context.js';

const never = new AbortController().signal;

/**
 * The current task's signal: aborted when the caller's signal aborts, its timeout fires, or the
 * runtime closes while the task still runs.
 *
 * @example
 * export async function crawl(url: string) {
 *   const res = await fetch(url, { signal: taskSignal() });
 *   return res.text();
 * }
 */
export function taskSignal(): AbortSignal {
  return ambientSignal() ?? never;
}
