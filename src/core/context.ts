/**
 * Cancellation context: the one place every shoal wait asks "am I cancelled?".
 *
 * A wait (sleep, channel take/put, select, timeout...) is cancelled by its explicit `signal`
 * option and, when it runs inside a task made by `spawn`, by that task's own signal too
 * ("ambient" or level-triggered cancellation: once a task is cancelled, its later shoal waits
 * reject without the user threading the signal by hand).
 *
 * Runs on any thread. Owns the ambient-task lookup (see task.ts for who sets it).
 *
 * Ambient cancellation is opt-in (`spawn(fn, { ambient: true })`, `setAmbient(true)` or
 * SHOAL_AMBIENT=1), because on Node 20 AsyncLocalStorage rides on async_hooks promise hooks: once
 * the first `run()` happens, EVERY promise of the thread pays a hook, not only the tasks'. Measured
 * in perf/core-spawn.bench.ts (2 cores, Node 20.20, 1M tasks): ambient tasks take 2.4x-8x the
 * time of bare async functions (plain tasks 1.8x-2.9x) and 944 B each instead of 680 B (the hook
 * stores the context on every promise), and other promise code of the thread can slow down too
 * (1.0x-2.8x in the same runs). Code
 * that never spawns an ambient task pays nothing: `getStore()` on a never-run storage is a field
 * load. The explicit `signal` works everywhere regardless.
 *
 * The store is the Task itself (it implements TaskContext): its `signal` getter makes the task's
 * AbortController on first use, so an ambient task that never waits never allocates one.
 *
 * Contract used by every waiting primitive:
 *   throwIfCancelled(opts?.signal)              // at the call site, before parking
 *   const off = onCancel(opts?.signal, (err) => reject(err))   // while parked
 *   ... off() once settled
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CancelledError } from './errors.js';

/** What a running task exposes to the waits inside it. */
export interface TaskContext {
  readonly signal: AbortSignal;
}

const ambient = new AsyncLocalStorage<TaskContext>();

/** Run `fn` with `ctx` as the ambient task (used by spawn). */
export function runInTask<R>(ctx: TaskContext, fn: () => R): R {
  return ambient.run(ctx, fn);
}

/** The ambient task whose code is running now, if any (without touching its signal). */
export function ambientTask(): TaskContext | undefined {
  return ambient.getStore();
}

/** The signal of the shoal task whose code is running now, if any. */
export function ambientSignal(): AbortSignal | undefined {
  return ambient.getStore()?.signal;
}

/** The CancelledError for an aborted signal (its reason becomes `cause`, or is reused). */
export function cancelledError(signal: AbortSignal): CancelledError {
  const r = signal.reason;
  if (r instanceof CancelledError) return r;
  return new CancelledError('cancelled', { cause: r });
}

/** Throw CancelledError when the explicit or the ambient signal is already aborted. */
export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelledError(signal);
  const a = ambientSignal();
  if (a?.aborted) throw cancelledError(a);
}

/**
 * Call `fn` once, with a CancelledError, when the explicit or ambient signal aborts.
 * Returns the unsubscribe function; call it once the wait settles.
 *
 * Each signal gets ONE 'abort' listener from here, kept for the signal's life, fanning out to a
 * Set of parked waits: adding and removing a wait is a Set operation (cheaper than an EventTarget
 * listener), and a task with many parked waits (`Promise.all` of 50 takes) trips no
 * MaxListenersExceededWarning.
 */
export function onCancel(signal: AbortSignal | undefined, fn: (err: CancelledError) => void): () => void {
  const a = ambientSignal();
  const other = a !== undefined && a !== signal ? a : undefined;
  if (signal === undefined && other === undefined) return noop;
  let done = false;
  const fire = (s: AbortSignal): void => {
    if (done) return;
    off();
    fn(cancelledError(s));
  };
  const h1 = signal !== undefined ? () => fire(signal) : undefined;
  const h2 = other !== undefined ? () => fire(other) : undefined;
  const off = (): void => {
    done = true;
    if (h1 !== undefined) waitersOf(signal!).delete(h1);
    if (h2 !== undefined) waitersOf(other!).delete(h2);
  };
  if (h1 !== undefined) waitersOf(signal!).add(h1);
  if (h2 !== undefined) waitersOf(other!).add(h2);
  return off;
}

const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/** The parked waits of `s`, installing its one 'abort' listener on first use. */
function waitersOf(s: AbortSignal): Set<() => void> {
  let set = waiters.get(s);
  if (set === undefined) {
    const ws = (set = new Set());
    waiters.set(s, ws);
    // Each handler removes itself (deleting during Set iteration is safe in JS).
    const onAbort = (): void => {
      for (const h of ws) h();
    };
    s.addEventListener('abort', onAbort, { once: true });
  }
  return set;
}

function noop(): void {}
