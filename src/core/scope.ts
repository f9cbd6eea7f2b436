/**
 * Structured concurrency: a scope owns the tasks spawned through it and does not end before they do.
 *
 * Runs on any thread. Owns its children (as their TaskOwner: it hears each settlement directly,
 * without a promise per child) and one AbortController whose signal every child hangs off.
 *
 * Rules (trio's nursery, in JS):
 *  1. `close()` (and so `scope()`) settles only once every child has settled, finally blocks run.
 *  2. The first failure (a child or the body throwing something other than a cancellation)
 *     cancels the scope, so every sibling is cancelled with that error as the cancel reason; once
 *     all have settled, that first error is rethrown as is. Further failures are attached to it as
 *     a non-enumerable `suppressed` array (when it is an extensible object).
 *  3. A child that ends cancelled is not a failure.
 *  4. Cancelling the scope (`cancel()`, its `signal` option aborting, or - when it was opened
 *     inside an ambient task - that task being cancelled) cancels every child; the scope then
 *     rejects with CancelledError (cause = the reason) once they have settled.
 *  5. Children may be spawned until the scope has ended; after, `spawn` throws ClosedError.
 *     A child spawned into a cancelled scope starts cancelled (its fn does not run).
 */
import { CancelledError, ClosedError } from './errors.js';
import { ambientSignal, ambientTask } from './context.js';
import { checkFunction, checkString, codeError, validateOptions, validateSignal } from './args.js';
import { start, type Task, type TaskArgs, type TaskNode, type TaskOwner } from './task.js';
import { reasonOf, registry } from './task-registry.js';

/**
 * Options of `scope` / `openScope`.
 *
 * @example
 * await scope((s) => s.spawn(work), { signal: AbortSignal.timeout(5000) });
 */
export interface ScopeOptions {
  /** A parent signal: aborting it cancels the scope and so every child. */
  signal?: AbortSignal;
}

/**
 * Options of `Scope.spawn`.
 *
 * @example
 * s.spawn(work, { name: 'child-1', ambient: true });
 */
export interface ScopeSpawnOptions {
  name?: string;
  /** See SpawnOptions.ambient. */
  ambient?: boolean;
}

/**
 * A set of child tasks with a shared fate. Made by `scope()` or `openScope()`.
 *
 * @example
 * await using s = openScope();
 * s.spawn(() => serveClients());
 * s.spawn(() => heartbeat());
 * // leaving the block waits for both; the first failure cancels the other and is rethrown
 *
 * Two limits of the `await using` form, which `scope(fn)` does not have: an exception thrown by
 * the block itself does not cancel the children (a disposer cannot see it), and a scope that is
 * never closed never reports its children's failures. Prefer `scope(fn)` unless the block shape
 * matters.
 */
export class Scope implements TaskOwner, AsyncDisposable {
  readonly #ctl = new AbortController();
  #live = 0;
  #ended = false;
  #closing: Promise<void> | undefined = undefined;
  #idle: (() => void) | undefined = undefined;
  readonly #errors: unknown[] = [];
  /** The explicit signal option, and the ambient task's signal when opened inside one. */
  readonly #parents: AbortSignal[] = [];
  readonly #onParentAbort = (e: Event): void => void this.cancel(reasonOf(e.target as AbortSignal));

  /** @internal use scope() or openScope() */
  constructor(parents: readonly (AbortSignal | undefined)[]) {
    for (const p of parents) {
      if (p === undefined || this.#parents.includes(p)) continue;
      if (p.aborted) {
        this.cancel(reasonOf(p));
        continue;
      }
      this.#parents.push(p);
      p.addEventListener('abort', this.#onParentAbort, { once: true });
    }
  }

  /** Aborted when the scope is cancelled: by cancel(), its parent signal, or a first failure. */
  get signal(): AbortSignal {
    return this.#ctl.signal;
  }

  /** Children not yet settled. */
  get size(): number {
    return this.#live;
  }

  /**
   * Spawn a child. Like `spawn`, but the scope waits for it and its failure cancels its siblings.
   *
   * @example
   * await scope(async (s) => {
   *   for (const url of urls) s.spawn(({ signal }) => fetch(url, { signal }), { name: url });
   * });
   */
  spawn<T>(fn: (args: TaskArgs<T>) => T | PromiseLike<T>, opts?: ScopeSpawnOptions): Task<T> {
    checkFunction('fn', fn);
    validateOptions(opts);
    const name = opts?.name;
    if (name !== undefined) checkString('name', name);
    if (this.#ended) throw new ClosedError('scope has ended: cannot spawn into it');
    this.#live++;
    const ambient = opts?.ambient ?? registry.ambient;
    return start(fn, name, this.#ctl.signal, ambient, this);
  }

  /**
   * Cancel every child (cooperatively). The scope still waits for them before it settles.
   * Returns false when it was already cancelled.
   *
   * @example
   * const s = openScope(); s.spawn(worker); s.cancel('shutdown'); await s.close().catch(() => {});
   */
  cancel(reason?: unknown): boolean {
    if (this.#ctl.signal.aborted) return false;
    this.#ctl.abort(new CancelledError('scope cancelled', { cause: reason }));
    return true;
  }

  /**
   * Wait for every child; then throw the first failure, or CancelledError if the scope was
   * cancelled. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    // A loop, not an if: a child may spawn a sibling between the last settle and this resuming.
    while (this.#live > 0) await new Promise<void>((r) => (this.#idle = r));
    this.#ended = true;
    for (const p of this.#parents) p.removeEventListener('abort', this.#onParentAbort);
    const errs = this.#errors;
    if (errs.length > 0) {
      const first = errs[0];
      if (errs.length > 1 && typeof first === 'object' && first !== null && Object.isExtensible(first)) {
        Object.defineProperty(first, 'suppressed', {
          value: errs.slice(1),
          enumerable: false,
          configurable: true,
          writable: true,
        });
      }
      throw first;
    }
    if (this.#ctl.signal.aborted) throw this.#ctl.signal.reason as CancelledError;
  }

  /** `await using s = openScope()` closes the scope at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal TaskOwner: a child settled. */
  childSettled(t: TaskNode): void {
    // 'cancelled' always holds a cancellation (task.ts rules 2, 3, 5), so only 'failed' counts.
    if (t.state === 'failed') {
      this.#errors.push(t._value);
      if (this.#errors.length === 1 && !this.#ctl.signal.aborted) {
        this.#ctl.abort(new CancelledError('a sibling task failed', { cause: t._value }));
      }
    }
    if (--this.#live === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}

/**
 * Open a scope to spawn children into; `close()` it (or `await using` it) to wait for them.
 *
 * @example
 * await using s = openScope({ signal });
 * s.spawn(() => a()); s.spawn(() => b());
 */
export function openScope(opts?: ScopeOptions): Scope {
  validateOptions(opts);
  // Structured: a scope opened inside an ambient task is cancelled with that task.
  return new Scope([validateSignal(opts?.signal), ambientTask() !== undefined ? ambientSignal() : undefined]);
}

/**
 * Run `body` with a fresh scope, then wait for every child it spawned. Resolves with the body's
 * value; rejects with the first failure (after cancelling and awaiting the rest), or with
 * CancelledError when `signal` aborted.
 *
 * @example
 * const [a, b] = await scope(async (s) => {
 *   const ta = s.spawn(() => fetchA());
 *   const tb = s.spawn(() => fetchB());
 *   return [await ta, await tb];
 * });
 */
export function scope<R>(body: (s: Scope) => R | PromiseLike<R>, opts?: ScopeOptions): Promise<R> {
  if (typeof body !== 'function') {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      `body must be a function, got ${body === null ? 'null' : typeof body}`,
    );
  }
  const s = openScope(opts);
  // The body is a child like the others: its failure cancels them, the scope cancels it.
  const t = s.spawn<R>(() => body(s), { name: 'scope-body' });
  return s.close().then(() => t._value as R);
}
