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
 * SHOAL_AMBIENT=1), because on Node 20 AsyncLocalStorage rides on an async_hooks promise hook:
 * while the storage is on, EVERY promise of the thread pays the hook, not only the tasks'.
 * Measured (2 cores, Node 20.20, 1M bare async functions parked on one promise, fresh process):
 * after one `run()` they take 1.9x the wall time (2.1x-2.3x CPU) and 584 B each instead of 392 B
 * (the hook stores the context on every promise). `enterWith` costs the same; Node 20's
 * AsyncLocalStorage takes no options (the experimental `onPropagate` was removed before v20, so
 * passing it is silently ignored); an AsyncResource alone installs no hook but propagates
 * nothing either. What does help: `disable()` removes the hook (back to 1.0x, 392 B). So the
 * storage is on only while an ambient task is live, plus one turn of the event loop
 * (`ambientStarted` / `ambientEnded` below): the tax is paid while ambient tasks run, not for the
 * rest of the thread's life.
 * Code that never spawns an ambient task pays nothing: `getStore()` on a disabled storage is a
 * field load. The explicit `signal` works everywhere regardless.
 *
 * A consequence of switching off: code that outlives its ambient task (a detached promise chain
 * started inside it and not awaited by it) sees no ambient task once no ambient task is live, so
 * its later waits are no longer cancelled by that settled task's signal. Waits it started before
 * the task settled keep their subscription.
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

/** Run `fn` with `ctx` as the ambient task (used by spawn). Turns the storage on if it was off. */
export function runInTask<R>(ctx: TaskContext, fn: () => R): R {
  return ambient.run(ctx, fn);
}

/** Ambient tasks spawned and not yet settled on this thread. */
let liveAmbient = 0;
/** A switch-off is queued for the next turn of the event loop. */
let offQueued = false;

/** spawn: an ambient task is about to run (call before runInTask). */
export function ambientStarted(): void {
  liveAmbient++;
}

/**
 * settle: an ambient task settled. When it was the last one, switch the storage off at the next
 * turn of the event loop (or after `lingerMs`) if none is live then: Node then drops its promise hook, and the
 * thread's other promises stop paying the tax until the next ambient spawn (whose `run()`
 * switches it back on). Not at once: ambient tasks run one after another (`for (...) await
 * spawn(f, { ambient: true })`) would toggle the hook per task, measured 2.2 us a task instead
 * of 0.75 us.
 */
export function ambientEnded(lingerMs = 0): void {
  if (--liveAmbient > 0) return;
  if (liveAmbient < 0) throw new Error(`shoal: ambient task count went negative (${liveAmbient})`);
  if (offQueued) return;
  offQueued = true;
  // pool tasks linger (task-runner.ts): a sequential `rt.run` loop whose worker takes a loop turn
  // between calls would otherwise toggle the hook on every call
  if (lingerMs > 0) setTimeout(switchOff, lingerMs).unref();
  else setImmediate(switchOff).unref();
}

function switchOff(): void {
  offQueued = false;
  if (liveAmbient === 0) ambient.disable();
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
