/**
 * The worker-side task runner: starts tasks as green threads (many at once on one worker),
 * caches task modules, delivers cancellation, and reports each outcome to an Outbox.
 *
 * Runs on pool workers only. Owns: the module cache and the table of live tasks on this worker.
 * Transport-agnostic: pool/message/worker.ts (and the shared-memory worker loop) feed it SUBMIT and
 * CANCEL and carry what it reports.
 *
 * How a task function is called (the contract documented in README.md):
 *   - `fn.apply(ctx, args)` where `ctx` is a TaskContext `{ id, signal }`, so a `function`
 *     export can read `this.signal`;
 *   - inside `runInTask(ctx, ...)` (src/core/context.ts), so every shoal wait inside the task
 *     (sleep, channel take, select...) and `taskSignal()` see the task's signal without it being
 *     passed by hand. Cancellation is cooperative: the worker is never killed for it.
 *
 * Fast path: when the module is cached and the function returns a non-thenable, the result is
 * reported synchronously, with no promise and no AbortController allocated (the signal is made
 * lazily on first read).
 */
import { ambientEnded, ambientStarted, runInTask, type TaskContext } from '../core/context.js';
import { TaskLoadError } from '../core/errors.js';
import { describeModule, moduleLoadError } from '../core/module-ref.js';
import { tasks as greenThreads } from '../core/introspect.js';
import type { WorkerTask } from './protocol.js';
import { fromWire, toWire, type WireError } from './wire-error.js';
import { reviveArgs } from '../shared-chan/index.js';

/** Where the runner reports outcomes (the worker side of a transport). */
export interface Outbox {
  ok(id: number, value: unknown): void;
  err(id: number, error: WireError): void;
}

type Fn = (this: TaskContext, ...args: unknown[]) => unknown;
type Namespace = Record<string, unknown>;

/** The `this` of a running task, with the AbortController made only if someone asks. */
class Ctx implements TaskContext {
  readonly id: number;
  readonly name: string;
  readonly born = performance.now();
  state: WorkerTask['state'] = 'loading';
  private ac: AbortController | undefined;
  private reason: unknown;
  private aborted = false;
  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }
  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.state = 'cancelling';
    this.ac?.abort(reason);
  }
}

/**
 * How long the ambient storage stays on after the last task settled, ms: a loop of calls (each
 * a task, with loop turns between them) keeps it on instead of toggling Node's promise hook per
 * call (a toggle costs more than a no-op task: src/core/context.ts), and an idle worker drops it
 * soon after.
 */
const AMBIENT_LINGER_MS = 100;

/** One worker's task runner. */
export class TaskRunner {
  private readonly out: Outbox;
  private readonly modules = new Map<string, Namespace | Promise<Namespace>>();
  private readonly live = new Map<number, Ctx>();
  /** task modules that failed to load, and how often (the next load uses a fresh URL) */
  private readonly failedLoads = new Map<string, number>();
  /** tasks waiting for their module to load */
  starting = 0;
  /** distinct modules loaded so far (the worker asks to be recycled past its bound) */
  moduleCount = 0;
  /** called once a load takes moduleCount past `maxModules` */
  onTooManyModules: (() => void) | undefined = undefined;
  maxModules = Infinity;
  /** exponentially weighted mean of the synchronous slice a task start takes, ms */
  sliceMs = 0.001;

  /** false: tasks run without the ambient context (no AsyncLocalStorage tax on the thread) */
  private readonly ambient: boolean;

  constructor(out: Outbox, ambient = true) {
    this.out = out;
    this.ambient = ambient;
  }

  /** tasks started and not yet settled */
  get running(): number {
    return this.live.size - this.starting;
  }

  /** tasks started or loading, not yet settled */
  get liveCount(): number {
    return this.live.size;
  }

  /** True while task `id` has not settled (it is loading or running asynchronously). */
  isLive(id: number): boolean {
    return this.live.has(id);
  }

  /** Start a task. Never throws: every failure is reported through the outbox. */
  submit(id: number, url: string, name: string, args: unknown[]): void {
    try {
      args = reviveArgs(args); // channel descriptors become channels (pool.ts submit, crossArgs)
    } catch (e) {
      this.out.err(id, toWire(e));
      return;
    }
    const ns = this.modules.get(url);
    if (ns !== undefined && !(ns instanceof Promise)) {
      this.call(id, url, name, ns, args, undefined);
      return;
    }
    const ctx = new Ctx(id, `${url}#${name}`);
    this.live.set(id, ctx);
    this.starting++;
    this.load(url).then(
      (m) => {
        this.starting--;
        if (ctx.state === 'cancelling') {
          // cancelled while its module loaded: it never starts
          this.live.delete(id);
          this.out.err(id, toWire(ctx.signal.reason));
          return;
        }
        this.call(id, url, name, m, args, ctx);
      },
      (e: unknown) => {
        this.starting--;
        this.live.delete(id);
        this.out.err(id, toWire(moduleLoadError('task module', url, e)));
      },
    );
  }

  /** Abort a task's signal (cooperative). Unknown ids are ignored: the task already settled. */
  cancel(id: number, reason: WireError): void {
    this.live.get(id)?.abort(fromWire(reason));
  }

  /** Live tasks on this worker, then the green threads they spawned, for rt.tasks(). */
  snapshot(): WorkerTask[] {
    const now = performance.now();
    const out: WorkerTask[] = [...this.live.values()].map((c) => ({
      id: c.id,
      name: c.name,
      state: c.state,
      ageMs: now - c.born,
    }));
    for (const g of greenThreads({ limit: 10_000 })) {
      const t: WorkerTask = { id: g.id, name: g.name, state: 'running', ageMs: g.ageMs, green: true };
      if (g.stack !== undefined) t.stack = g.stack;
      out.push(t);
    }
    return out;
  }

  private load(url: string): Promise<Namespace> {
    const hit = this.modules.get(url);
    if (hit) return Promise.resolve(hit);
    // After a failed load, import under a fresh URL: Node keeps a module whose source could not be
    // read (EMFILE, a syntax error) failed forever under its URL. A module that failed never ran.
    const n = this.failedLoads.get(url) ?? 0;
    const at = n > 0 && url.startsWith('file:') ? `${url}${url.includes('?') ? '&' : '?'}shoal-retry=${n}` : url;
    const p = (import(at) as Promise<Namespace>).then(
      (m) => {
        this.modules.set(url, m);
        if (++this.moduleCount === this.maxModules + 1) this.onTooManyModules?.();
        return m;
      },
      (e: unknown) => {
        // forget the failure so a module fixed on disk can load on a later task
        this.modules.delete(url);
        this.failedLoads.set(url, n + 1);
        throw e;
      },
    );
    this.modules.set(url, p);
    return p;
  }

  private call(id: number, url: string, name: string, ns: Namespace, args: unknown[], made: Ctx | undefined): void {
    const fn = ns[name];
    if (typeof fn !== 'function') {
      if (made) this.live.delete(id);
      const names = Object.keys(ns).filter((k) => typeof ns[k] === 'function');
      const msg =
        fn === undefined
          ? `task module ${describeModule(url)} has no export '${name}' (function exports: ${names.join(', ') || 'none'})`
          : `export '${name}' of task module ${describeModule(url)} is a ${typeof fn}, not a function`;
      this.out.err(id, toWire(new TaskLoadError(msg)));
      return;
    }
    const ctx = made ?? new Ctx(id, `${url}#${name}`);
    ctx.state = 'running';
    const t0 = performance.now();
    let r: unknown;
    // counted, so the thread's storage (and Node's promise hook with it) goes off once no task runs
    if (this.ambient) ambientStarted();
    try {
      r = this.ambient ? runInTask(ctx, () => (fn as Fn).apply(ctx, args)) : (fn as Fn).apply(ctx, args);
    } catch (e) {
      this.after(t0);
      this.ended();
      if (made) this.live.delete(id);
      this.out.err(id, toWire(e));
      return;
    }
    this.after(t0);
    let then: unknown;
    if (r !== null && (typeof r === 'object' || typeof r === 'function')) {
      try {
        then = (r as PromiseLike<unknown>).then;
      } catch (e) {
        // a result whose `then` getter throws is a failure of the task, not of the worker
        this.ended();
        if (made) this.live.delete(id);
        this.out.err(id, toWire(e));
        return;
      }
    }
    if (typeof then !== 'function') {
      this.ended();
      if (made) this.live.delete(id);
      this.out.ok(id, r);
      return;
    }
    if (!made) this.live.set(id, ctx);
    Promise.resolve(r as PromiseLike<unknown>).then(
      (v) => {
        this.ended();
        this.live.delete(id);
        this.out.ok(id, v);
      },
      (e: unknown) => {
        this.ended();
        this.live.delete(id);
        this.out.err(id, toWire(e));
      },
    );
  }

  /**
   * A task that ran in the ambient context settled. The storage goes off AMBIENT_LINGER_MS after
   * the last one: left on, every later promise of the thread paid Node's promise hook for the
   * worker's whole life (an HTTP worker that once ran a task: docs/measurements.md, 2026-12-07).
   */
  private ended(): void {
    if (this.ambient) ambientEnded(AMBIENT_LINGER_MS);
  }

  private after(t0: number): void {
    this.sliceMs = this.sliceMs * 0.9 + (performance.now() - t0) * 0.1;
  }
}
