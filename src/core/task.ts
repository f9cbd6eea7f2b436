/**
 * Green threads: `spawn(fn)` runs an async function as a named, cancellable, observable task.
 *
 * Runs on any thread (main or worker); a task lives and dies on the thread that spawned it.
 * Owns: the Task class, its settle transition, and the report of failed tasks nobody observed.
 * The live-task list and the parent-signal links are in task-registry.ts.
 *
 * Cost model (issue 2's goal: 1M tasks at <= 1.5x the time of 1M bare async functions, <= 1 KB
 * each). Spawning a million parked tasks is garbage-collector work (~80% of the profile: each
 * scavenge copies every live object, and the old generation's growth adds mark-compacts), so time
 * follows live bytes. A plain task adds to its async function: one object of 7 fields (80 B;
 * Node ships without pointer compression, 8 B a field), two bound settle functions (2 x 48 B)
 * and one promise reaction with its derived promise (96 B) on `fn`'s promise: 272 B over the
 * bare function's 392 B. Why each piece stays (measured on Node 20.20, 2 cores):
 *  - the reaction: JS cannot observe a promise with less (no `%PerformPromiseThen` without a
 *    derived promise); an `async` driver (`await fn()`) costs a whole generator, 872 B a task;
 *  - the bound pair: a reaction handler receives only the value, so which task settled must live
 *    in the callable; two closures over one context cost 56 B more, a side table needs a key the
 *    handler never sees;
 *  - the fields: id, state, value, born, the two live-list links (see task-registry.ts) and the
 *    lazy Extra. Rare fields (name, owning scope, controller, outcome promise, parent links,
 *    spawn stack, ambient flag) live in the Extra, made on first need.
 * A reaction and derived promise alone (no task at all) already cost 1.25x-1.45x the bare time,
 * and the smallest conceivable task (3 fields, bound pair, no live list) 1.6x-1.9x: the 1.5x goal
 * is out of reach from JS on Node 20. The ambient context is opt-in (see context.ts for why).
 *
 * Outcome rules (the "settle" transition, in `settle()` below):
 *  1. fn returns v, no cancel requested            -> 'done', resolves v.
 *  2. fn returns or throws a cancellation after cancel() / parent abort -> 'cancelled', rejects
 *     with the task's CancelledError (cause = the reason given to cancel()).
 *  3. fn returns normally after a cancel request    -> 'cancelled' too: a cancelled task never
 *     reports success, so callers need not guess whether the work finished.
 *  4. fn throws a non-cancellation error            -> 'failed' with that error, even after a cancel
 *     (an error in a finally block must not be hidden behind CancelledError).
 *  5. fn throws a cancellation on its own (its own signal, say) -> 'cancelled' with that error.
 *
 * Unobserved failures (the choice, as Node users expect it): a task's outcome promise is created
 * only when someone observes the task (await / then / join / a scope). So a task that fails before
 * its owner gets round to awaiting it does NOT crash the process with an early unhandled
 * rejection (the classic `const a = f(); const b = g(); await a; await b` trap). A failed task
 * that is never observed at all is reported as an unhandled rejection of its error when the task
 * object is garbage-collected unobserved (the asyncio "exception was never retrieved" rule), which
 * then follows Node's `--unhandled-rejections` mode (default: crash).
 */
import {
  onCancel,
  ambientEnded,
  ambientSignal,
  ambientStarted,
  ambientTask,
  runInTask,
  throwIfCancelled,
  type TaskContext,
} from './context.js';
import { CancelledError, isCancellation } from './errors.js';
import { checkBoolean, checkFunction, checkString, validateOptions, validateSignal } from './args.js';
import { link, linkSignal, reasonOf, registry, unlink, unlinkSignal } from './task-registry.js';
import type { TaskNode, TaskState } from './task-registry.js';
import { isThenable } from './thenable.js';

export type { TaskNode, TaskState } from './task-registry.js';

/**
 * What `fn` receives: the task's own signal, and the task itself.
 *
 * @example
 * spawn(async ({ signal, task }) => fetch(`/item/${task.id}`, { signal }));
 */
export interface TaskArgs<T> {
  /** Aborted when the task is cancelled (by `cancel()`, its parent signal or its scope). */
  readonly signal: AbortSignal;
  /** The task running `fn`. */
  readonly task: Task<T>;
}

/**
 * Options of `spawn`.
 *
 * @example
 * spawn(work, { name: 'indexer', signal: shutdown.signal, ambient: true });
 */
export interface SpawnOptions {
  /** Shown by `tasks()` and in errors. Default `task-<id>`. */
  name?: string;
  /** A parent signal: when it aborts, the task is cancelled with its reason. */
  signal?: AbortSignal;
  /**
   * Level-triggered cancellation: once the task is cancelled, every later shoal wait inside it
   * (sleep, channel ops, select, timeout, join) rejects without being handed the signal.
   * Default: on inside an ambient task, else the value given to `setAmbient()` (off at start,
   * on with SHOAL_AMBIENT=1). Off by default because it costs every promise of the thread.
   */
  ambient?: boolean;
}

/** Receives a task's settlement (a scope owns its children this way, without promises). */
export interface TaskOwner {
  childSettled(t: TaskNode): void;
}

/**
 * Turn ambient (level-triggered) cancellation on or off for tasks spawned from now on without an
 * explicit `ambient` option. Costs every promise of the thread while on (AsyncLocalStorage on
 * Node 20); see context.ts for the measured figure.
 *
 * @example
 * setAmbient(true);
 * const t = spawn(async () => { await sleep(1000) }); // no signal threaded by hand
 * t.cancel(); // the sleep rejects with CancelledError
 */
export function setAmbient(on: boolean): void {
  checkBoolean('on', on);
  registry.ambient = on;
}
let nextId = 1;

interface Outcome<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

/**
 * The fields most tasks never need, in one object made on first need, so that a plain task stays
 * at 7 fields (without pointer compression, as Node ships, every field is 8 bytes, and the spawn
 * benchmark's time follows live bytes: each field is ~1% of a parked task).
 */
interface Extra<T> {
  /** the name given to spawn (a named task pays for this object; most hot-path tasks are unnamed) */
  name: string | undefined;
  /** the scope that owns it (its failures are reported there); scope children have Extra anyway */
  owner: TaskOwner | undefined;
  /** spawned ambient: holds context.ts's storage on until it settles */
  ambient: boolean;
  /** made on first read of `signal` */
  ctl: AbortController | undefined;
  /** the CancelledError, once a cancel was requested */
  cancel: CancelledError | undefined;
  /** the outcome promise, made on first observation */
  out: Outcome<T> | undefined;
  /** observed: never reported as an unobserved failure */
  seen: boolean;
  /** the signals it is linked to (its parent; ambient tasks awaiting it), to unlink at settle */
  parents: AbortSignal[] | undefined;
  /** an Error captured at spawn, only when tracing */
  trace: Error | undefined;
}

/**
 * A spawned green thread. Awaitable (`await task`), cancellable, inspectable.
 *
 * Awaiting a task (`await t`, `t.then`) from inside an ambient task passes the awaiter's
 * cancellation on to `t` (structured: if I am cancelled, so is the work I am waiting for).
 * `t.join()` waits without doing that: the caller's cancellation rejects the join, `t` runs on.
 *
 * @example
 * const t = spawn(async ({ signal }) => fetchThing(signal), { name: 'fetch-42' });
 * t.cancel('no longer needed');
 * await t.join().catch((e) => e.code); // 'ERR_SHOAL_CANCELLED'
 */
export class Task<T> implements PromiseLike<T>, TaskArgs<T>, TaskContext, TaskNode {
  /** Unique per thread, increasing. */
  readonly id: number;
  /** @internal */ _state: TaskState = 'running';
  /** @internal the value, or the error, once settled */ _value: unknown = undefined;
  /** @internal */ _prev: TaskNode | null = null;
  /** @internal */ _next: TaskNode | null = null;
  /** @internal whole ms of performance.now() at spawn (a small integer: no boxed double) */ _born: number;
  /** @internal the rarely needed fields */ _x: Extra<T> | undefined = undefined;

  /** @internal use spawn() */
  constructor() {
    this.id = nextId++;
    this._born = Math.floor(globalThis.performance.now());
  }

  /** @internal */
  x(): Extra<T> {
    return (this._x ??= {
      name: undefined,
      owner: undefined,
      ambient: false,
      ctl: undefined,
      cancel: undefined,
      out: undefined,
      seen: false,
      parents: undefined,
      trace: undefined,
    });
  }

  /** @internal */
  get _trace(): Error | undefined {
    return this._x?.trace;
  }

  /** The name given to spawn, or `task-<id>`. */
  get name(): string {
    return this._x?.name ?? `task-${this.id}`;
  }

  /** 'running' until fn settles, then 'done', 'failed' or 'cancelled'. */
  get state(): TaskState {
    return this._state;
  }

  /** Aborted when the task is cancelled. Created on first read (most tasks never need one). */
  get signal(): AbortSignal {
    const x = this.x();
    let c = x.ctl;
    if (c === undefined) {
      c = x.ctl = new AbortController();
      if (x.cancel !== undefined) c.abort(x.cancel);
    }
    return c.signal;
  }

  /** The task itself (so `fn` can destructure `{ signal, task }`). */
  get task(): Task<T> {
    return this;
  }

  /**
   * Ask the task to stop: aborts its signal. The task settles (rejecting with CancelledError,
   * `cause` = reason) once `fn` settles, after its finally blocks ran. Returns false when the task
   * had already settled or been cancelled.
   *
   * @example
   * const t = spawn(({ signal }) => sleep(60_000, { signal }));
   * t.cancel('shutdown'); // t rejects with CancelledError { cause: 'shutdown' }
   */
  cancel(reason?: unknown): boolean {
    if (this._state !== 'running' || this._x?.cancel !== undefined) return false;
    const err = new CancelledError(`task ${this.name} cancelled`, { cause: reason });
    const x = this.x();
    x.cancel = err;
    x.ctl?.abort(err);
    return true;
  }

  /**
   * Wait for the task's outcome without passing the caller's cancellation on to the task: when
   * the caller is cancelled (explicit `signal`, or ambiently), the join rejects with
   * CancelledError and the task keeps running.
   *
   * @example
   * const bg = spawn(refreshCache);
   * await bg.join({ signal: AbortSignal.timeout(1000) }); // gives up waiting, bg runs on
   */
  join(opts?: { signal?: AbortSignal }): Promise<T> {
    validateOptions(opts);
    const signal = validateSignal(opts?.signal);
    this.x().seen = true;
    unobserved.unregister(this);
    const out = this.outcome();
    if (this._state !== 'running') return out.then();
    return new Promise<T>((resolve, reject) => {
      throwIfCancelled(signal);
      const off = onCancel(signal, reject);
      out.then(
        (v) => (off(), resolve(v)),
        (e: unknown) => (off(), reject(e)),
      );
    });
  }

  /** Awaitable. From an ambient task, the awaiter's cancellation cancels this task (see class doc). */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.x().seen = true;
    unobserved.unregister(this);
    const out = this.outcome();
    if (this._state === 'running') {
      const caller = ambientTask() !== undefined ? ambientSignal() : undefined;
      if (caller !== undefined && caller !== this._x?.ctl?.signal) {
        // Through the signal's group (one listener per signal), not a listener per awaited task:
        // an ambient `await Promise.all(manyTasks)` must not pile up listeners on one signal.
        if (caller.aborted) this.cancel(reasonOf(caller));
        else this.linkTo(caller);
      }
    }
    return out.then(onfulfilled, onrejected);
  }

  /** @internal cancel this task when `signal` aborts, until it settles */
  linkTo(signal: AbortSignal): void {
    const x = this.x();
    if (x.parents === undefined) x.parents = [signal];
    else if (x.parents.includes(signal)) return;
    else x.parents.push(signal);
    linkSignal(signal, this);
  }

  /** @internal the outcome promise, made on first observation */
  outcome(): Promise<T> {
    const s = this._state;
    if (s === 'running') {
      const x = this.x();
      let o = x.out;
      if (o === undefined) {
        let resolve!: (v: T) => void;
        let reject!: (e: unknown) => void;
        const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
        o = x.out = { promise, resolve, reject };
      }
      return o.promise;
    }
    return s === 'done' ? Promise.resolve(this._value as T) : Promise.reject(this._value);
  }

  /** @internal fn fulfilled */
  ok(v: T): void {
    const c = this._x?.cancel;
    if (c !== undefined) this.settle('cancelled', c);
    else this.settle('done', v);
  }

  /** @internal fn rejected (or threw synchronously) */
  fail(e: unknown): void {
    if (!isCancellation(e)) this.settle('failed', e);
    else this.settle('cancelled', this._x?.cancel ?? e);
  }

  /** @internal the one transition out of 'running' */
  settle(state: TaskState, value: unknown): void {
    if (this._state !== 'running') throw new Error(`shoal: task ${this.id} settled twice (was ${this._state})`);
    this._state = state;
    this._value = value;
    unlink(this);
    const x = this._x;
    if (x === undefined) {
      if (state === 'failed') unobserved.register(this, value, this);
      return;
    }
    if (x.ambient) ambientEnded();
    if (x.parents !== undefined) for (const p of x.parents) unlinkSignal(p, this);
    const out = x.out;
    if (out !== undefined) {
      x.out = undefined;
      if (state === 'done') out.resolve(value as T);
      else out.reject(value);
    }
    if (x.owner !== undefined) x.owner.childSettled(this);
    else if (state === 'failed' && !x.seen) unobserved.register(this, value, this);
  }
}

/**
 * Run `fn` as a task on this thread. `fn` starts synchronously (like calling an async function)
 * and receives `{ signal, task }`. With an already aborted `signal`, `fn` does not run and the
 * task is cancelled at once (as `fetch` does).
 *
 * @example
 * const t = spawn(async ({ signal }) => {
 *   try { await sleep(10_000, { signal }); return 'slept' }
 *   finally { console.log('cleanup runs on cancel too') }
 * }, { name: 'sleeper' });
 * t.cancel();
 * await t.join().catch((e) => e.code); // 'ERR_SHOAL_CANCELLED'
 */
export function spawn<T>(fn: (args: TaskArgs<T>) => T | PromiseLike<T>, opts?: SpawnOptions): Task<T> {
  checkFunction('fn', fn);
  let name: string | undefined;
  let signal: AbortSignal | undefined;
  let ambient = registry.ambient;
  if (opts !== undefined) {
    validateOptions(opts);
    name = opts.name;
    if (name !== undefined) checkString('name', name);
    signal = validateSignal(opts.signal);
    if (opts.ambient !== undefined) ambient = opts.ambient === true;
  }
  return start(fn, name, signal, ambient, undefined);
}

/** @internal spawn without validation; scope.ts passes itself as owner. */
export function start<T>(
  fn: (args: TaskArgs<T>) => T | PromiseLike<T>,
  name: string | undefined,
  signal: AbortSignal | undefined,
  ambient: boolean,
  owner: TaskOwner | undefined,
): Task<T> {
  const t = new Task<T>();
  if (name !== undefined) t.x().name = name;
  if (owner !== undefined) t.x().owner = owner;
  if (registry.tracing) t.x().trace = new Error(`task ${t.name} spawned`);
  link(t);
  if (signal !== undefined) {
    if (signal.aborted) {
      t.cancel(reasonOf(signal));
      t.settle('cancelled', t._x!.cancel);
      return t;
    }
    t.linkTo(signal);
  }
  // A child of an ambient task is ambient too, else it would see its parent's signal as its own.
  if (!ambient && ambientTask() !== undefined) ambient = true;
  let r: T | PromiseLike<T>;
  try {
    if (ambient) {
      // Counted before fn runs, so a synchronous settle inside fn cannot switch the storage off.
      t.x().ambient = true;
      ambientStarted();
      r = runInTask(t, () => fn(t));
    } else r = fn(t);
  } catch (e) {
    t.fail(e);
    return t;
  }
  if (r instanceof Promise) (r as Promise<T>).then(t.ok.bind(t), t.fail.bind(t));
  else if (isThenable(r)) Promise.resolve(r).then(t.ok.bind(t), t.fail.bind(t));
  else t.ok(r as T);
  return t;
}
// --- failed tasks nobody ever observed ---------------------------------------------------------

const unobserved = new FinalizationRegistry<unknown>((err) => {
  // Re-raise as an unhandled rejection so Node's --unhandled-rejections mode decides (default:
  // crash), exactly as it would for a bare promise nobody handled.
  void Promise.reject(err);
});
