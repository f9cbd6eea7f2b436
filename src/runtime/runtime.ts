/**
 * Runtime: the facade users meet first. It owns the worker pool (green-thread workers), the
 * blocking pool, and the choice of transport.
 *
 * Runs on the main thread only. Owns: one Pool, one lazily created BlockingPool.
 *
 * @example
 * await using rt = await Runtime.start({ workers: 4 });
 * const n = await rt.run(new URL('../pool/tasks.js', import.meta.url), 'fib', [30], { timeout: 5000 });
 */
import { availableParallelism } from 'node:os';
import { toModuleURL } from '../core/module-ref.js';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import { BlockingPool, type BlockingOptions } from '../pool/blocking.js';
import { remoteModule, type LoadOptions, type Remote } from '../pool/load.js';
import { boundedMap, type MapOptions } from '../pool/map.js';
import { MessageTransport } from '../pool/message/main.js';
import { SharedTransport } from '../pool/shared/main.js';
import { Pool, type LiveTask, type SubmitOptions } from '../pool/pool.js';
import { snapshotStats, type RuntimeStats } from './stats.js';
import type { Transport, TransportSink } from '../pool/transport.js';
import { typeError, typeName } from '../core/args.js';
import type { BufferSpec } from '../core/buffers.js';
import { sharedChan, type SharedChanOptions } from '../shared-chan/index.js';
import type { SharedChannel } from '../shared-chan/memory/channel.js';
import { Reactor, type AcceptingServer } from '../net/reactor/reactor.js';
import { handlerURL, listen as reactorListen, type ListenOptions, type TcpServer } from '../net/reactor/listen.js';
import { readConfig } from '../config.js';
import { validateTimeout } from '../core/op.js';
import { assertCloneable } from '../pool/message/cloneable.js';
import {
  BLOCKING_KEYS,
  checkListenKeys,
  checkMapOptions,
  checkRunOptions,
  checkStartOptions,
  LOAD_KEYS,
  ModulePolicy,
  type ModuleAllowList,
} from './options.js';
import { AgentHub, type LiveAgent } from '../agent/main.js';
import type { Agent, AgentClass } from '../agent/handle.js';
import type { AgentOptions } from '../agent/options.js';
import { serve as httpServe, type HttpServer } from '../http/main.js';
import type { ServeOptions } from '../http/options.js';
import { METRICS_CONTENT_TYPE } from '../inspect/content-type.js';
import { Inspector } from '../inspect/inspector.js';
import type { ReplOptions, ReplServer } from '../inspect/repl-server.js';
import type { MetricsServeOptions, MetricsServer } from '../inspect/metrics.js';

/** A server as inspection shows it: an rt.serve server as 'http' with its handler and requests. */
function shownServer(server: AcceptingServer) {
  const s = server as TcpServer; // the reactor's servers are TcpServers (listen.ts)
  const as = s.shownAs;
  if (as === undefined) return s;
  return {
    id: s.id,
    kind: as.kind,
    handler: as.handler,
    conns: s.conns,
    address: () => s.address(),
    stats: () => ({ ...s.stats(), ...as.counts() }),
  };
}

/** Options of Runtime.start. */
export interface RuntimeOptions {
  /** green-thread workers (default: os.availableParallelism()) */
  workers?: number;
  /**
   * 'shared' (shared-memory rings, the default when available) or 'message' (MessagePort
   * batches). The SHOAL_TRANSPORT environment variable overrides the default.
   */
  transport?: 'shared' | 'message';
  /** tasks one worker runs at once before it stops taking more (default 4096) */
  maxRunningPerWorker?: number;
  /** limits for each green-thread worker (an out-of-memory worker dies and is replaced) */
  resourceLimits?: ResourceLimits;
  /** threads of the blocking pool (default: os.availableParallelism()) */
  blockingThreads?: number;
  /**
   * Run tasks inside the ambient task context (default true): shoal's waits inside a task and
   * `taskSignal()` see its cancellation without being passed the signal. The price, on Node 20,
   * is AsyncLocalStorage's promise hook on every promise of the worker thread (perf/core-spawn);
   * with `false`, tasks read `this.signal` and pass it on explicitly.
   */
  ambient?: boolean;
  /**
   * record where pool tasks are submitted and green threads spawned (shown by rt.tasks() and the
   * REPL's `.tasks`; costs a captured stack per task and per spawn)
   */
  tracing?: boolean;
  /**
   * Which module URLs tasks, `rt.load`, `rt.blocking`, `rt.map` and TCP handlers may name: URL
   * prefixes (`'file:///srv/app/'`, `'node:crypto'`), RegExps, or a predicate over the resolved
   * URL. Default: any module except `data:` URLs. Set it when module names can come from outside
   * the program (a queue, a REPL): see README "Trust model".
   */
  allowModules?: ModuleAllowList;
  /**
   * Distinct task modules a worker may load before it is recycled (default 1000). Node's module
   * loader keeps every module it ever loaded, so a program that names ever new module URLs would
   * grow each worker's heap without bound; past this count the worker finishes what it holds and
   * a fresh thread takes its place (`rt.stats().workers[i].recycled`). No task is lost or failed.
   */
  maxModulesPerWorker?: number;
}

/** Options of rt.run. */
export interface RunOptions {
  /** cancel the task: cooperative, the worker is never killed */
  signal?: AbortSignal;
  /** reject with TimeoutError after this many ms and cancel the task the same way */
  timeout?: number;
  /** ArrayBuffers / MessagePorts to move rather than copy (message transport) */
  transfer?: readonly TransferListItem[];
}

/** Options of rt.close. */
export interface CloseOptions {
  /** how long in-flight tasks may still run before they are cancelled (default 30000 ms) */
  timeout?: number;
}

/**
 * A module reference: a URL, a URL string (`file:`...), or a file path, which is resolved against
 * `process.cwd()` with or without `./` (never looked up as a package).
 */
export type ModuleRef = URL | string;

/** The worker-thread runtime. Start with `Runtime.start()`; end with `close()` or `await using`. */
export class Runtime implements AsyncDisposable {
  private readonly pool: Pool;
  private readonly blockingPool: BlockingPool;
  private closePromise: Promise<void> | undefined;
  /** owns every socket; see src/net/reactor/reactor.ts */
  private readonly reactor: Reactor;
  private readonly modules: ModulePolicy;
  /** agents' placement, records and supervision; see src/agent/main.ts */
  private readonly agents: AgentHub;
  /** the REPL, metrics and channel list (src/inspect/inspector.ts) */
  private readonly inspector: Inspector;

  private constructor(pool: Pool, blocking: BlockingPool, reactor: Reactor, modules: ModulePolicy, agents: AgentHub) {
    this.pool = pool;
    this.blockingPool = blocking;
    this.reactor = reactor;
    this.modules = modules;
    this.agents = agents;
    this.inspector = new Inspector({
      rt: this,
      stats: () => this.stats(),
      // agents have their own view; tasks() lists them too (kind 'agent')
      tasks: async () => (await this.tasks()).filter((t): t is LiveTask => (t as { kind?: string }).kind !== 'agent'),
      servers: () => [...this.reactor.servers.values()].map(shownServer),
      // agents as rt.tasks() reports them (kind 'agent'), with the method of the turn running now
      agents: async () =>
        (await this.tasks())
          .filter((t): t is LiveAgent => (t as { kind?: string }).kind === 'agent')
          .map((a) => ({
            id: a.id,
            name: a.name,
            worker: a.worker,
            mailbox: a.mailbox,
            state: a.method ? `${a.state} (${a.method})` : a.state,
          })),
    });
  }

  /** The URL a worker imports for `ref`, checked against the module policy. */
  private href(ref: ModuleRef): string {
    return this.modules.check(moduleURL(ref));
  }

  /**
   * Start the worker threads and resolve once they run.
   *
   * @example
   * const rt = await Runtime.start({ workers: 2, transport: 'message' });
   */
  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    checkStartOptions(options); // every option and every SHOAL_* variable, before a thread starts
    const config = readConfig();
    const workers = options.workers ?? availableParallelism();
    const maxRunning = options.maxRunningPerWorker ?? 4096;
    const kind = options.transport ?? config.transport;
    const make = (sink: TransportSink): Transport => {
      if (kind === 'message') return new MessageTransport(sink);
      return new SharedTransport(sink, workers);
    };
    const reactor = new Reactor();
    const agents = new AgentHub();
    const pool = new Pool({
      workers,
      transport: make,
      maxRunning,
      resourceLimits: options.resourceLimits,
      tracing: options.tracing === true,
      ambient: options.ambient !== false,
      maxModules: options.maxModulesPerWorker,
      onWorkerStart: (slot, worker) => {
        // both post on ports of their own: a worker parked idle must be woken to read them
        reactor.attach(slot, worker, () => pool.wakeWorker(slot));
        agents.attach(slot, worker, () => pool.wakeWorker(slot));
      },
      onWorkerExit: (slot) => {
        reactor.detach(slot);
        agents.exited(slot);
      },
    });
    try {
      await pool.start();
    } catch (e) {
      reactor.close();
      agents.close();
      throw e;
    }
    return new Runtime(
      pool,
      new BlockingPool(options.blockingThreads),
      reactor,
      new ModulePolicy(options.allowModules),
      agents,
    );
  }

  /**
   * Run export `name` of module `url` on a worker with `args`; resolves with its result.
   * Throws synchronously (TypeError, code ERR_SHOAL_UNCLONEABLE) when an argument cannot be
   * carried to a worker; nothing is sent then.
   *
   * @example
   * const sum = await rt.run(new URL('../pool/math.js', import.meta.url), 'add', [1, 2]);
   */
  run<R = unknown>(url: ModuleRef, name: string, args: readonly unknown[] = NO_ARGS, options?: RunOptions): Promise<R> {
    if (typeof name !== 'string') throw argType('name', 'a string', name);
    if (!Array.isArray(args)) throw argType('args', 'an array', args);
    const o = checkRunOptions(options); // before anything is sent (signal, timeout, transfer)
    return this.pool.submit(this.href(url), name, args as unknown[], o) as Promise<R>;
  }

  /**
   * A typed proxy over a task module: each function export becomes an async function that runs
   * on the pool.
   *
   * @example
   * const m = rt.load<typeof import('../pool/math.js')>(new URL('../pool/math.js', import.meta.url));
   * await m.add(1, 2); // 3
   */
  load<T>(url: ModuleRef, options?: LoadOptions): Remote<T> {
    const href = this.href(url);
    const o = checkRunOptions(options, 'rt.load', LOAD_KEYS) as SubmitOptions | undefined;
    return remoteModule<T>((name, args) => this.pool.submit(href, name, args, o), href);
  }

  /**
   * Run a long CPU job on the blocking pool (piscina), so it does not stall green-thread workers.
   *
   * @example
   * const digest = await rt.blocking(new URL('../pool/hash.js', import.meta.url), 'sha256Many', [buf, 1e5]);
   */
  blocking<R = unknown>(
    url: ModuleRef,
    name: string,
    args: readonly unknown[] = [],
    options?: BlockingOptions,
  ): Promise<R> {
    if (typeof name !== 'string') throw argType('name', 'a string', name);
    if (!Array.isArray(args)) throw argType('args', 'an array', args);
    const o = checkRunOptions(options, 'rt.blocking', BLOCKING_KEYS);
    // the same call-site rule as rt.run: what cannot be carried is refused now, nothing sent
    assertCloneable(args, 'args', o?.transfer);
    return this.blockingPool.run(this.href(url), name, args as unknown[], options) as Promise<R>;
  }

  /**
   * Run export `name` once per input (called as `fn(input)`), keeping `concurrency` tasks active,
   * and yield the results. Memory is bounded by the concurrency, not by the input.
   *
   * @example
   * for await (const page of rt.map(urls, new URL('../pool/crawl.js', import.meta.url), 'fetchPage', {
   *   concurrency: 128, onProgress: (p) => console.log(p.done, '/', p.total),
   * })) save(page);
   */
  map<I, R = unknown>(
    inputs: Iterable<I> | AsyncIterable<I>,
    url: ModuleRef,
    name: string,
    options?: MapOptions,
  ): AsyncGenerator<R, void, undefined> {
    if (typeof name !== 'string') throw argType('name', 'a string', name);
    if (
      inputs == null ||
      (typeof (inputs as Iterable<I>)[Symbol.iterator] !== 'function' &&
        typeof (inputs as AsyncIterable<I>)[Symbol.asyncIterator] !== 'function')
    ) {
      throw argType('inputs', 'an iterable or async iterable', inputs);
    }
    checkMapOptions(options);
    const href = this.href(url);
    const timeout = options?.timeout;
    return boundedMap<I, R>(
      inputs,
      (input, signal) => this.pool.submit(href, name, [input], { signal, timeout }) as Promise<R>,
      options,
    );
  }

  /**
   * A channel the workers can use: pass it to a task as an argument and the task sees a channel
   * on the same buffer. `rt.channel(n)` (fixed), `rt.channel(dropping(n))`, `rt.channel(sliding(n))`;
   * shared memory, or MessagePort when this runtime runs the message transport. See `sharedChan`.
   *
   * @example
   * const jobs = rt.channel<Job>(1024);
   * const done = rt.run(new URL('../pool/consume.js', import.meta.url), 'consume', [jobs]);
   * for (const j of todo) await jobs.put(j);
   * jobs.close(); await done;
   */
  channel<T>(buffer: number | BufferSpec, options?: Omit<SharedChanOptions, 'transport'>): SharedChannel<T> {
    const kind = this.pool.transport.kind;
    return this.inspector.channels.track(sharedChan<T>(buffer, { ...options, transport: kind }), kind);
  }

  /**
   * Create an agent: an object of the exported class `className` of module `url`, living on one
   * worker, with its own ordered mailbox. Resolves with a handle typed from the class once the
   * object is constructed (rejects with TaskLoadError, or the constructor's error, otherwise).
   * See README "Agents" and src/agent/ for ordering, turns, errors, mailboxes and supervision.
   *
   * @example
   * const counter = await rt.agent<typeof Counter>(new URL('./counter.js', import.meta.url), 'Counter', [0]);
   * counter.send('inc', 5);
   * await counter.call('get'); // 5
   */
  agent<C extends AgentClass = AgentClass>(
    url: ModuleRef,
    className: string,
    args: ConstructorParameters<C> = NO_ARGS as ConstructorParameters<C>,
    options?: AgentOptions,
  ): Promise<Agent<C>> {
    if (typeof className !== 'string' || className === '') throw argType('className', 'a class export name', className);
    if (!Array.isArray(args)) throw argType('args', 'an array', args);
    return this.agents.create<C>(moduleURL(url), className, args as unknown[], options);
  }

  /**
   * A frozen snapshot of the pool: per worker running / queued / completed / failed counts,
   * event-loop delay and ring use.
   *
   * @example
   * for (const w of rt.stats().workers) console.log(w.slot, w.running, w.loopDelayMaxMs);
   */
  stats(): RuntimeStats {
    const base = snapshotStats(this.pool, this.blockingPool.size);
    const ag = this.agents.stats(base.workers.length);
    const workers = Object.freeze(base.workers.map((w, i) => Object.freeze({ ...w, ...ag[i] })));
    return Object.freeze({ ...base, workers, agents: this.agents.size, net: this.reactor.stats() });
  }

  /**
   * Serve TCP: the reactor (main thread) accepts and owns the sockets; each connection runs the
   * handler module's default export `(conn: Conn) => Promise<void>` in a green thread on the
   * least-loaded worker. See src/net/reactor/listen.ts for the options.
   *
   * @example
   * const srv = await rt.listen({ port: 0, handler: new URL('../pool/echo.js', import.meta.url) });
   * console.log(srv.port); await srv.close({ timeout: 1000 });
   */
  async listen(options: ListenOptions): Promise<TcpServer> {
    // the allowlist first, then load the handler on a worker: a missing module or one without a
    // default export function rejects here with TaskLoadError, instead of closing every connection later
    checkListenKeys(options);
    const handler = handlerURL(options?.handler);
    this.modules.check(handler);
    await this.pool.submit(HANDLER_CHECK, 'checkHandler', [handler], undefined);
    return reactorListen(this.reactor, options);
  }

  /**
   * Serve HTTP/1.1 (HTTPS with `tls`): the reactor owns the sockets, each worker runs node:http
   * over them and calls the handler module, fetch style (`export default { fetch(req, ctx) }`) or
   * node style (`export default (req, res) => {}`). Rejects with TaskLoadError when the module
   * does not load. Limits and their defaults: src/http/options.ts and README "HTTP".
   *
   * @example
   * const web = await rt.serve({ port: 0, handler: new URL('./hello.js', import.meta.url) });
   * console.log(web.url); await web.close({ timeout: 5000 });
   */
  serve(options: ServeOptions): Promise<HttpServer> {
    // the module allowlist first (a refusal rejects); a handler of the wrong type is left to
    // httpServe, which throws at the call like every other bad option
    let href: string | undefined;
    try {
      href = moduleURL(options.handler);
    } catch {
      href = undefined;
    }
    if (href !== undefined) {
      try {
        this.modules.check(href);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return httpServe(this.reactor, (url, name, args) => this.pool.submit(url, name, args, undefined), options, {
      text: () => this.inspector.metrics(),
      contentType: METRICS_CONTENT_TYPE,
    });
  }

  /**
   * Live tasks across all workers (queued ones too), asking each worker for its view, followed by
   * the green threads those tasks spawned (`kind: 'green'`, with spawn stacks when the runtime
   * was started with `tracing: true`). A worker stuck in a long synchronous slice cannot answer:
   * its tasks are reported 'unresponsive'.
   *
   * @example
   * for (const t of await rt.tasks()) if (t.ageMs > 10_000) console.warn('slow', t.name, t.worker);
   */
  async tasks(): Promise<Array<LiveTask | LiveAgent>> {
    const [t, a] = await Promise.all([this.pool.liveTasks(), this.agents.live()]);
    return [...t, ...a];
  }

  /**
   * Attach a REPL to this running runtime: a TCP server (loopback unless `host` is given) where
   * each client sends the token as its first line and then talks to `node:repl` with `rt` in
   * scope, top-level await, and the commands .tasks .agents .channels .conns .stats .json.
   * Without `token` a random one is made and printed once on stderr. See src/inspect/repl-server.ts.
   *
   * @example
   * const repl = await rt.repl({ port: 7070 });   // then: shoal repl 127.0.0.1:7070 --token <token>
   * await repl.close();
   */
  repl(options?: ReplOptions): Promise<ReplServer> {
    return this.inspector.repl(options);
  }

  /**
   * This runtime's counters and gauges (shoal_* metrics) in the Prometheus text exposition format.
   *
   * @example
   * res.setHeader('content-type', 'text/plain; version=0.0.4'); res.end(await rt.metrics());
   */
  metrics(): Promise<string> {
    return this.inspector.metrics();
  }

  /**
   * Serve `rt.metrics()` on `GET /metrics` of a separate HTTP port (loopback unless `host` is given).
   *
   * @example
   * const m = await rt.serveMetrics({ port: 9464 }); // scrape http://127.0.0.1:9464/metrics
   */
  serveMetrics(options?: MetricsServeOptions): Promise<MetricsServer> {
    return this.inspector.serveMetrics(options);
  }

  /**
   * Graceful shutdown: stop accepting tasks, let in-flight ones finish for up to `timeout` ms,
   * cancel the rest (they reject with ClosedError), then stop the threads. Idempotent.
   *
   * @example
   * await rt.close({ timeout: 5000 });
   */
  close(options: CloseOptions = {}): Promise<void> {
    const timeout = validateTimeout(options.timeout ?? 30_000, 'options.timeout');
    this.closePromise ??= (async () => {
      this.agents.beginClose(); // agents keep working for the tasks still finishing
      // no await before the pool knows it is closing: tasks submitted after close() must be refused
      const inspectClosed = this.inspector.close();
      if (this.reactor.servers.size > 0) {
        this.pool.closing = true; // refuse new tasks now; TCP handlers still run
        await this.reactor.closeServers(timeout); // let handlers finish before the threads stop
      }
      await this.pool.close(timeout);
      this.agents.close(); // anything main still waits for from an agent rejects with ClosedError
      this.reactor.close();
      await this.blockingPool.close();
      await inspectClosed;
    })();
    return this.closePromise;
  }

  /**
   * Stop now: every unsettled task rejects with ClosedError, threads are terminated.
   *
   * @example
   * await rt.destroy();
   */
  destroy(): Promise<void> {
    this.closePromise ??= (async () => {
      this.agents.close();
      void this.inspector.close();
      const servers = this.reactor.closeServers(0);
      await this.pool.destroy();
      await servers;
      this.reactor.close();
      await this.blockingPool.close();
    })();
    return this.closePromise;
  }

  /** `await using rt = await Runtime.start()` closes with the default timeout. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The task rt.listen runs to check a handler module before listening. */
const HANDLER_CHECK = new URL('../net/worker/handler-module.js', import.meta.url).href;

/** The arguments of a call without any (shared: only read, never kept or changed). */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** Normalise a module reference to the URL string the worker imports (src/core/module-ref.ts). */
export function moduleURL(ref: ModuleRef): string {
  return toModuleURL(ref, 'url');
}

function argType(name: string, expected: string, got: unknown): TypeError {
  return typeError(`${name} must be ${expected}, got ${typeName(got)}`);
}
