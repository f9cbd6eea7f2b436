/**
 * The pool: the task table, the workers' lives (start, crash, replace, stop) and every promise
 * `rt.run()` hands out. The Runtime facade (runtime.ts) is a thin layer over it.
 *
 * Runs on the main thread only. Owns: the table of unsettled tasks (id -> promise callbacks,
 * slot, cleanup), one WorkerHost per slot, per-slot counters, and the transport.
 *
 * Invariants:
 *   1. Every promise from submit() settles exactly once: by the worker's outcome, by its
 *      signal/timeout (immediately, even if the task ignores the cancellation and keeps running
 *      on its worker), by its worker's death (WorkerExitedError), or by close/destroy.
 *   2. A record stays in the table until its worker has reported the outcome (or died), so
 *      stats() counts a task that ignored its cancellation as still running: hung work is visible.
 *   3. The process is held alive only while unsettled tasks exist (one never-firing interval,
 *      `liveHold`, ref'd while `live > 0`), while start() waits for the workers, or while a
 *      keepAlive() hold is open (the workers ref'd: WorkerHost.setRef, forced after every spawn:
 *      the listeners transports add re-ref a worker on Node 20). One timer, not every worker: a
 *      cold call toggles it twice, and a worker's ref() is two native calls (its handle and its
 *      port), each paid on a cold CPU in the call's latency.
 *   4. A worker that took a task, or whose transport spoke, and then died is replaced at once;
 *      only one that died before either is a boot failure (doubling backoff, slot given up after
 *      MAX_BOOT_FAILURES). With no slot left, no task pends: queued and new tasks reject.
 *   5. A worker asked to retire (too many modules) is sent nothing new and exits once idle; its
 *      exit is a recycling (`recycled`), never a failure of any task.
 */
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import { cancelledError } from '../core/context.js';
import { ClosedError, TimeoutError, WorkerExitedError } from '../core/errors.js';
import type { WorkerBoot, WorkerLoad, WorkerTask } from './protocol.js';
import type { Transport, TransportSink } from './transport.js';
import { toWire } from './wire-error.js';
import { crossArgs } from '../shared-chan/index.js';
import { WorkerHost, type WorkerEnd } from './worker-host.js';
import { TaskTable } from './task-table.js';

export interface PoolOptions {
  workers: number;
  transport: (sink: TransportSink) => Transport;
  maxRunning: number;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
  tracing?: boolean;
  ambient?: boolean;
  /** distinct task modules a worker may load before it is recycled (default DEFAULT_MAX_MODULES) */
  maxModules?: number;
  /** A worker started in `slot` (first start or replacement): the reactor attaches its net link. */
  onWorkerStart?(slot: number, worker: import('node:worker_threads').Worker): void;
  /** The worker in `slot` exited: the reactor closes its connections. */
  onWorkerExit?(slot: number): void;
}

export interface SubmitOptions {
  signal?: AbortSignal;
  timeout?: number;
  transfer?: readonly TransferListItem[];
}

/**
 * One unsettled task. A class, so every record shares one shape; the no-op throughput case
 * makes hundreds of thousands a second and the main thread is the bottleneck there.
 */
class Rec {
  /** -1 while queued (no worker claimed it yet) */
  slot = -1;
  settled = false;
  cleanup: (() => void) | undefined = undefined;
  /** where the caller submitted it, under `tracing: true` */
  stack: string | undefined = undefined;
  constructor(
    readonly id: number,
    readonly url: string,
    readonly name: string,
    /** Date.now() at submission (a performance.now() per task showed in main's profile) */
    readonly born: number,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

/** The promise executor, shared by every submit (one closure less per task): it hands its
 * resolve/reject over in these two slots, read right after `new Promise` returns. */
let outResolve: (v: unknown) => void = () => {};
let outReject: (e: unknown) => void = () => {};
const capture = (resolve: (v: unknown) => void, reject: (e: unknown) => void): void => {
  outResolve = resolve;
  outReject = reject;
};

/** This package's src/ directory (a file: URL): its frames are dropped from a caller's stack. */
const OWN_SRC = new URL('..', import.meta.url).href;

/** The caller's stack without the frames of shoal's own code (rt.run, the pool, agents...). */
function callerStack(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  return lines.filter((l) => !l.includes(OWN_SRC)).join('\n');
}

/** True when no argument is an object: nothing can be a channel, crossArgs has nothing to do. */
function allPrimitive(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'function')) return false;
  }
  return true;
}

interface SignalWatch {
  recs: Set<Rec>;
  listener: () => void;
}

interface SlotCounters {
  running: number;
  completed: number;
  failed: number;
  restarts: number;
  /** workers replaced because they loaded too many modules (Pool.retiring) */
  recycled: number;
  quickDeaths: number;
  load: WorkerLoad | undefined;
}

/** One live task as rt.tasks() reports it. */
export interface LiveTask {
  /** 'task': a pool task (rt.run & co); 'green': a green thread a task spawned on its worker */
  kind: 'task' | 'green';
  /** pool task id (kind 'task') or the worker-local green thread id (kind 'green') */
  id: number;
  /** `<module url>#<export>`, or the green thread's name */
  name: string;
  /** pool slot of the worker running it, or -1 while queued */
  worker: number;
  state: 'queued' | WorkerTask['state'] | 'unresponsive';
  ageMs: number;
  /** true once its caller was answered (cancelled or timed out) while the worker still runs it */
  abandoned: boolean;
  /**
   * under `tracing: true`: where a green thread was spawned, or where a pool task was submitted
   * (the caller's frames, shoal's own left out)
   */
  stack?: string;
}

/** Distinct modules a worker loads before it is recycled (Node's loader never frees a module). */
export const DEFAULT_MAX_MODULES = 1000;

/** A worker that died this soon after its start, before its transport spoke, failed to boot. */
const BOOT_MS = 60_000;
/** Boot failures in a row after which a slot is given up (the backoff doubles up to BOOT_BACKOFF_MAX_MS). */
const MAX_BOOT_FAILURES = 5;
const BOOT_BACKOFF_MS = 50;
const BOOT_BACKOFF_MAX_MS = 2000;

export class Pool implements TransportSink {
  private readonly opts: PoolOptions;
  readonly transport: Transport;
  private readonly hosts: Array<WorkerHost | undefined> = [];
  readonly counters: SlotCounters[] = [];
  private readonly table = new TaskTable<Rec>();
  private live = 0;
  private idleWaiters: Array<() => void> = [];
  private queries = new Map<number, (slot: number, t: WorkerTask[]) => void>();
  private nextQuery = 1;
  /** the tasks watching each signal, and the one listener they share */
  private readonly watches = new Map<AbortSignal, SignalWatch>();
  /** slots waiting out a boot-failure backoff before their next start */
  private readonly respawns = new Map<number, NodeJS.Timeout>();
  /** set once every slot has given up: why no worker can take a task (submit rejects with it) */
  private dead: string | undefined;
  closing = false;
  /** true while start() waits for the first threads: they hold the process alive until online */
  private starting = false;

  constructor(opts: PoolOptions) {
    this.opts = opts;
    this.transport = opts.transport(this);
  }

  async start(): Promise<void> {
    this.starting = true;
    for (let s = 0; s < this.opts.workers; s++) {
      this.counters[s] = {
        running: 0,
        completed: 0,
        failed: 0,
        restarts: 0,
        recycled: 0,
        quickDeaths: 0,
        load: undefined,
      };
      this.spawn(s);
    }
    try {
      await Promise.all(this.hosts.map((h) => h!.online));
    } catch (e) {
      await this.destroy();
      throw e;
    } finally {
      this.starting = false;
    }
    for (const h of this.hosts) h?.setRef(this.holds > 0, true);
  }

  /** Submit a task. Throws synchronously (nothing sent) when its arguments cannot be carried. */
  submit(url: string, name: string, args: unknown[], o: SubmitOptions | undefined): Promise<unknown> {
    if (this.closing) return Promise.reject(new ClosedError(`runtime is closed: ${url}#${name} was not started`));
    if (this.dead !== undefined) return Promise.reject(this.noWorker(url, name));
    const signal = o?.signal;
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    const id = this.table.nextId();
    const p = new Promise<unknown>(capture);
    const rec = new Rec(id, url, name, Date.now(), outResolve, outReject);
    if (this.opts.tracing) rec.stack = callerStack();
    this.table.set(id, rec); // before the transport, which may report the task assigned at once
    try {
      const transfer = o?.transfer;
      if (transfer === undefined && allPrimitive(args)) {
        this.transport.submit(id, url, name, args, undefined);
      } else {
        // channels cross as descriptors (src/shared-chan/index.ts crossArgs; revived in task-runner.ts)
        const x = crossArgs(args, transfer);
        this.transport.submit(id, url, name, x.args, x.transfer);
      }
    } catch (e) {
      this.table.delete(id); // refused at the call site: nothing was sent
      throw e;
    }
    if (this.live++ === 0) this.refLive(true);
    if (signal || o?.timeout !== undefined) this.watch(rec, signal, o?.timeout);
    return p;
  }

  private watch(rec: Rec, signal: AbortSignal | undefined, ms: number | undefined): void {
    let timer: NodeJS.Timeout | undefined;
    if (ms !== undefined) {
      timer = setTimeout(
        () => this.abort(rec, new TimeoutError(`task ${rec.url}#${rec.name} timed out after ${ms} ms`)),
        ms,
      );
    }
    // One 'abort' listener per signal, however many tasks share it: a listener per task made
    // 100k tasks on one signal take 46 s to submit (EventTarget removal is linear).
    let w: SignalWatch | undefined;
    if (signal) {
      w = this.watches.get(signal);
      if (!w) {
        const recs = new Set<Rec>();
        const listener = (): void => {
          this.watches.delete(signal);
          const err = cancelledError(signal);
          for (const r of [...recs]) this.abort(r, err);
        };
        w = { recs, listener };
        this.watches.set(signal, w);
        signal.addEventListener('abort', listener, { once: true });
      }
      w.recs.add(rec);
    }
    rec.cleanup = () => {
      if (timer) clearTimeout(timer);
      if (w?.recs.delete(rec) && w.recs.size === 0 && this.watches.get(signal!) === w) {
        this.watches.delete(signal!);
        signal!.removeEventListener('abort', w.listener);
      }
    };
  }

  /** Answer the caller with `err` now; tell the worker (if one has the task) to stop it. */
  private abort(rec: Rec, err: Error): void {
    if (rec.settled) return;
    if (rec.slot < 0) {
      this.transport.drop(rec.id, toWire(err));
      this.table.delete(rec.id);
    } else {
      this.transport.cancel(rec.slot, rec.id, toWire(err));
    }
    this.finish(rec, false, err);
  }

  private finish(rec: Rec, ok: boolean, value: unknown): void {
    rec.settled = true;
    rec.cleanup?.();
    if (ok) rec.resolve(value);
    else rec.reject(value);
    if (--this.live === 0) {
      this.refLive(false);
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  // --- TransportSink -------------------------------------------------------------------------

  assigned(slot: number, id: number): void {
    const rec = this.table.get(id);
    if (!rec) return;
    const host = this.hosts[slot];
    if (host) host.tookTask = true;
    rec.slot = slot;
    this.counters[slot]!.running++;
  }

  settled(slot: number, id: number, ok: boolean, value: unknown): void {
    const rec = this.table.get(id);
    if (!rec) return;
    if (rec.slot < 0) this.assigned(slot, id); // a task that finished before its claim was reported
    if (rec.slot !== slot) return;
    this.table.delete(id);
    const c = this.counters[slot]!;
    c.running--;
    c.quickDeaths = 0;
    if (ok) c.completed++;
    else c.failed++;
    if (!rec.settled) this.finish(rec, ok, value);
  }

  sendFailed(id: number, err: unknown): void {
    const rec = this.table.get(id);
    if (!rec || rec.settled) return;
    this.table.delete(id);
    if (rec.slot >= 0) this.counters[rec.slot]!.running--;
    this.finish(rec, false, err);
  }

  load(slot: number, load: WorkerLoad): void {
    this.counters[slot]!.load = load;
  }

  active(): boolean {
    return this.table.size > 0;
  }

  pending(): number {
    return this.live;
  }

  running(slot: number): number {
    return this.counters[slot]?.running ?? 0;
  }

  tasks(slot: number, queryId: number, tasks: WorkerTask[]): void {
    this.queries.get(queryId)?.(slot, tasks);
  }

  /**
   * The worker in `slot` loaded more distinct modules than `maxModules`: Node's module loader keeps
   * every module it ever loaded, so the heap of a worker fed ever new module URLs only grows. It is
   * recycled: nothing new is routed to it, it finishes what it holds and exits, and a fresh thread
   * takes the slot (counted in `recycled`, not in `restarts`). No task is lost or failed by it.
   */
  retiring(slot: number): void {
    const host = this.hosts[slot];
    if (!host || host.retiring || this.closing) return;
    host.retiring = true;
    this.transport.retire(slot);
  }

  // --- workers -------------------------------------------------------------------------------

  private spawn(slot: number): void {
    const boot: WorkerBoot = {
      slot,
      transport: this.transport.kind,
      shared: this.transport.bootData(slot),
      maxRunning: this.opts.maxRunning,
      maxModules: this.opts.maxModules ?? DEFAULT_MAX_MODULES,
      tracing: this.opts.tracing ?? false,
      ambient: this.opts.ambient ?? true,
    };
    const host = new WorkerHost({
      boot,
      resourceLimits: this.opts.resourceLimits,
      execArgv: this.opts.execArgv,
      onExit: (end) => this.exited(host, end),
    });
    this.hosts[slot] = host;
    this.transport.attach(slot, host.worker);
    this.opts.onWorkerStart?.(slot, host.worker);
    // Listeners the transports and the reactor just added re-ref the worker's port on Node 20:
    // unref again, or a runtime nobody closed would keep the process alive with nothing in flight.
    // While Runtime.start waits for the threads, they hold the process (an unsettled top-level await).
    host.setRef(this.starting || this.holds > 0, true);
  }

  private exited(host: WorkerHost, end: WorkerEnd): void {
    if (this.hosts[end.slot] !== host) return;
    this.transport.detach(end.slot); // may report claims it learns from the claim log (host.tookTask)
    this.hosts[end.slot] = undefined;
    this.opts.onWorkerExit?.(end.slot);
    const c = this.counters[end.slot]!;
    const why = describeEnd(end);
    for (const rec of this.table.values()) {
      if (rec.slot !== end.slot) continue;
      this.table.delete(rec.id);
      c.running--;
      if (rec.settled) continue;
      c.failed++;
      const err = new WorkerExitedError(
        `worker ${end.slot} (thread ${end.threadId}) died while running ${rec.url}#${rec.name} (${why}); ` +
          'it has been replaced. The task had started on it: a retry may run it twice',
        { cause: end.error ?? end.exitCode, started: true },
      );
      this.finish(rec, false, err);
    }
    if (end.expected || this.closing) return;
    if (host.retiring) {
      c.recycled++;
      this.spawn(end.slot);
      return;
    }
    c.restarts++;
    // A death caused by a task (process.exit, a crash, out of memory) says nothing about whether a
    // worker can boot: replace at once. Only a worker that died before its transport sent its
    // first message and before taking any task counts as a boot failure; those are retried with a
    // doubling backoff, and a slot is given up after MAX_BOOT_FAILURES in a row.
    const bootFailure = !host.tookTask && !host.booted && Date.now() - host.startedAt < BOOT_MS;
    c.quickDeaths = bootFailure ? c.quickDeaths + 1 : 0;
    if (!bootFailure) {
      this.spawn(end.slot);
      return;
    }
    if (c.quickDeaths >= MAX_BOOT_FAILURES) {
      if (this.hosts.every((h) => !h) && this.respawns.size === 0) {
        // No worker can take a task: never leave one pending. Reject what is queued and what comes.
        this.dead = `every pool worker died at start ${MAX_BOOT_FAILURES} times in a row (last: ${why})`;
        for (const rec of this.table.values()) if (rec.slot < 0) this.abort(rec, this.noWorker(rec.url, rec.name));
      }
      return;
    }
    const delay = Math.min(BOOT_BACKOFF_MAX_MS, BOOT_BACKOFF_MS * 2 ** (c.quickDeaths - 1));
    const timer = setTimeout(() => {
      this.respawns.delete(end.slot);
      if (!this.closing) this.spawn(end.slot);
    }, delay);
    if (this.live === 0) timer.unref(); // pending tasks keep the process alive for the retry
    this.respawns.set(end.slot, timer);
  }

  private noWorker(url: string, name: string): WorkerExitedError {
    return new WorkerExitedError(`no pool worker can run ${url}#${name}: ${this.dead}`, { started: false });
  }

  /** Tasks in flight hold the process through this timer, which never fires (invariant 3). */
  private refLive(on: boolean): void {
    if (on) this.liveHold.ref();
    else this.liveHold.unref();
  }

  private readonly liveHold = setInterval(noop, 0x7fffffff).unref();

  /** keepAlive() holds: the workers themselves are ref'd. */
  private refAll(on: boolean): void {
    for (const h of this.hosts) h?.setRef(on);
  }

  private holds = 0;

  /**
   * Keep the workers (and so the process) alive until the returned release is called: for a
   * feature that waits on a worker outside pool tasks (invariant 3 otherwise lets the process
   * exit once no task is in flight). Release is idempotent.
   *
   * @example
   * const release = pool.keepAlive(); try { await replyFromWorker() } finally { release() }
   */
  keepAlive(): () => void {
    if (this.holds++ === 0) this.refAll(true);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.holds === 0) this.refAll(false);
    };
  }

  // --- observation ---------------------------------------------------------------------------

  /** unsettled tasks (queued or running) */
  get inFlight(): number {
    return this.live;
  }

  /** Wake the worker in `slot` if it is parked, so it reads its ports (Transport.wakeWorker). */
  wakeWorker(slot: number): void {
    this.transport.wakeWorker(slot);
  }

  threadId(slot: number): number {
    return this.hosts[slot]?.worker.threadId ?? -1;
  }

  /** Live tasks across workers; a worker that does not answer within `waitMs` is 'unresponsive'. */
  async liveTasks(waitMs = 250): Promise<LiveTask[]> {
    const qid = this.nextQuery++;
    const seen = new Map<number, WorkerTask>();
    const green: LiveTask[] = [];
    const pending = new Set<number>();
    for (let s = 0; s < this.hosts.length; s++) if (this.hosts[s]) pending.add(s);
    if (pending.size) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.queries.set(qid, (slot, ts) => {
          for (const t of ts) {
            if (!t.green) seen.set(t.id, t);
            else
              green.push({
                kind: 'green',
                id: t.id,
                name: t.name,
                worker: slot,
                state: t.state,
                ageMs: t.ageMs,
                abandoned: false,
                ...(t.stack ? { stack: t.stack } : {}),
              });
          }
          pending.delete(slot);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        for (const s of pending) this.transport.query(s, qid);
      });
      this.queries.delete(qid);
    }
    const now = Date.now();
    const out: LiveTask[] = [];
    for (const rec of this.table.values()) {
      const w = seen.get(rec.id);
      const state: LiveTask['state'] =
        rec.slot < 0 ? 'queued' : w ? w.state : pending.has(rec.slot) ? 'unresponsive' : 'running';
      out.push({
        kind: 'task',
        id: rec.id,
        name: `${rec.url}#${rec.name}`,
        worker: rec.slot,
        state,
        ageMs: now - rec.born,
        abandoned: rec.settled,
        ...(rec.stack ? { stack: rec.stack } : {}),
      });
    }
    return out.concat(green);
  }

  // --- shutdown ------------------------------------------------------------------------------

  /** Stop accepting; wait up to `timeoutMs` for unsettled tasks; reject the rest; stop threads. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.live > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.settleAll(`runtime closed: the task did not finish within the close timeout (${timeoutMs} ms)`);
    await this.stopThreads();
  }

  /** Reject every unsettled task with ClosedError and stop the threads now. */
  async destroy(): Promise<void> {
    this.closing = true;
    this.settleAll('runtime destroyed before the task finished');
    await this.stopThreads();
  }

  private settleAll(why: string): void {
    for (const rec of this.table.values()) {
      if (!rec.settled) this.abort(rec, new ClosedError(`${why}: ${rec.url}#${rec.name}`));
    }
  }

  private async stopThreads(): Promise<void> {
    for (const t of this.respawns.values()) clearTimeout(t);
    this.respawns.clear();
    this.transport.close();
    clearInterval(this.liveHold);
    await Promise.all(this.hosts.map((h) => h?.terminate()));
    this.table.clear();
  }
}

function noop(): void {}

function describeEnd(end: WorkerEnd): string {
  const e = end.error;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `exit code ${end.exitCode}`;
}
