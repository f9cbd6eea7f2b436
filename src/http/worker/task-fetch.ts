/**
 * Task cancellation reaches `fetch`: on pool workers, a global `fetch()` called inside a task
 * without a signal of its own gets the task's signal (`taskSignal()`), so cancelling the task or
 * its timeout aborts the request. A call that passes its own signal keeps it, combined with the
 * task's. Outside a task (or with `ambient: false`) fetch is unchanged.
 *
 * Runs on pool workers (installed by workers/pool-worker.ts). Owns the wrapper around the
 * worker's global fetch.
 *
 * @example
 * // in a task module: cancelled with the task, no signal passed
 * export async function get(url: string) { return (await fetch(url)).text(); }
 */
import { ambientSignal } from '../../core/context.js';

let installed = false;

/** Wrap this thread's global fetch (idempotent). */
export function installTaskFetch(): void {
  if (installed || typeof globalThis.fetch !== 'function') return;
  installed = true;
  const nativeFetch = globalThis.fetch;
  const taskFetch = function fetch(input: Parameters<typeof nativeFetch>[0], init?: RequestInit): Promise<Response> {
    const task = ambientSignal();
    if (task === undefined) return nativeFetch(input, init);
    const own = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const signal = own ? AbortSignal.any([own, task]) : task;
    return nativeFetch(input, { ...init, signal });
  };
  globalThis.fetch = taskFetch as typeof globalThis.fetch;
}
