/**
 * `rt.metrics()`: the runtime's counters and gauges in the Prometheus text exposition format,
 * through prom-client (one Registry per runtime, so two runtimes in a process never mix), and
 * `rt.serveMetrics()`: the same text on `GET /metrics` of a separate port.
 *
 * Runs on the main thread. Owns: the Registry and its metric objects; `serve` opens an HTTP server
 * its caller owns (the Inspector closes it with the runtime).
 *
 * Nothing is counted twice: every metric is filled on scrape from one `rt.stats()` snapshot taken
 * at the start of the scrape (prom-client calls each metric's `collect`), so a scrape costs one
 * snapshot and the hot paths of the runtime keep their own plain counters.
 *
 * | metric | type | labels | from |
 * |---|---|---|---|
 * | shoal_workers | gauge | | workers in the pool |
 * | shoal_tasks_in_flight | gauge | | tasks submitted and not settled |
 * | shoal_tasks_queued | gauge | | tasks no worker has claimed |
 * | shoal_worker_tasks_running | gauge | worker | tasks a worker holds |
 * | shoal_worker_tasks_completed_total / _failed_total | counter | worker | settled tasks |
 * | shoal_worker_restarts_total | counter | worker | dead workers replaced |
 * | shoal_worker_loop_delay_p99_seconds / _max_seconds | gauge | worker | event-loop delay, last ~0.5 s |
 * | shoal_worker_ring_use_ratio | gauge | worker | result ring fill, 0..1 |
 * | shoal_worker_parks_total, _parked_while_live_total, _sibling_wakes_total | counter | worker | parking |
 * | shoal_blocking_threads | gauge | | blocking pool threads |
 * | shoal_net_connections | gauge | worker | open TCP connections |
 * | shoal_net_accepted_total, _connected_total, _handler_errors_total | counter | | reactor |
 * | shoal_net_received_bytes_total, _sent_bytes_total | counter | | reactor |
 * | shoal_reactor_turns_total, _parks_total, _worker_wakeups_total | counter | | reactor loop |
 * | shoal_server_connections | gauge | server, kind | per server |
 * | shoal_server_accepted_total, _refused_total, _handler_errors_total | counter | server, kind | per server |
 * | shoal_server_requests_total | counter | server, kind | HTTP servers only |
 * | shoal_channels | gauge | | channels made with rt.channel() still referenced |
 * | shoal_agents, shoal_agent_mailbox_depth_max | gauge | | agents (0 until the agents feature is wired) |
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRICS_CONTENT_TYPE } from './content-type.js';
import { formatHostPort, inspectRangeError, inspectTypeError } from './errors.js';
import type { InspectSource, StatsLike } from './source.js';
import { listenOn } from './listen.js';

export { METRICS_CONTENT_TYPE } from './content-type.js';

/** Options of `rt.serveMetrics()`. */
export interface MetricsServeOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default '127.0.0.1'; give '0.0.0.0' for a scraper on another machine. */
  host?: string;
  /** Default '/metrics'. */
  path?: string;
  /** Close the server when this aborts. */
  signal?: AbortSignal;
}

/**
 * A listening metrics endpoint.
 *
 * @example
 * const m = await rt.serveMetrics({ port: 9464 });
 * console.log(m.url); // http://127.0.0.1:9464/metrics
 * await m.close();
 */
export interface MetricsServer extends AsyncDisposable {
  readonly port: number;
  readonly host: string;
  readonly url: string;
  close(): Promise<void>;
}

type Snap = { stats: StatsLike; agents: { count: number; deepest: number }; channels: number };

/**
 * The metrics of one runtime.
 *
 * @example
 * const m = new RuntimeMetrics(source);
 * const text = await m.text();
 */
export class RuntimeMetrics {
  private readonly registry = new Registry();
  private readonly src: InspectSource;
  private snap: Snap | undefined;

  constructor(src: InspectSource) {
    this.src = src;
    const reg = [this.registry];
    const s = (): Snap => {
      if (!this.snap) throw new Error('shoal metrics: collect outside a scrape');
      return this.snap;
    };
    const gauge = (name: string, help: string, read: (g: Gauge) => void, labelNames: string[] = []): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          read(this);
        },
      });
    };
    const counter = (name: string, help: string, read: (c: Counter) => void, labelNames: string[] = []): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: reg,
        collect() {
          this.reset();
          read(this);
        },
      });
    };
    const perWorker = (
      kind: 'gauge' | 'counter',
      name: string,
      help: string,
      read: (w: StatsLike['workers'][number]) => number,
    ): void => {
      const fill = (m: Gauge | Counter): void => {
        for (const w of s().stats.workers) m.inc({ worker: String(w.slot) }, read(w));
      };
      if (kind === 'gauge') gauge(name, help, fill, ['worker']);
      else counter(name, help, fill, ['worker']);
    };
    gauge('shoal_workers', 'Green-thread workers in the pool.', (g) => g.set(s().stats.workers.length));
    gauge('shoal_tasks_in_flight', 'Tasks submitted and not yet settled.', (g) => g.set(s().stats.inFlight));
    gauge('shoal_tasks_queued', 'Tasks no worker has claimed yet.', (g) => g.set(s().stats.queued));
    perWorker('gauge', 'shoal_worker_tasks_running', 'Tasks a worker holds (started or loading).', (w) => w.running);
    perWorker('counter', 'shoal_worker_tasks_completed_total', 'Tasks a worker completed.', (w) => w.completed);
    perWorker('counter', 'shoal_worker_tasks_failed_total', 'Tasks that failed on a worker.', (w) => w.failed);
    perWorker('counter', 'shoal_worker_restarts_total', 'Dead workers replaced in this slot.', (w) => w.restarts);
    perWorker(
      'gauge',
      'shoal_worker_loop_delay_p99_seconds',
      'Event-loop delay p99 over the last report period.',
      (w) => w.loopDelayP99Ms / 1000,
    );
    perWorker(
      'gauge',
      'shoal_worker_loop_delay_max_seconds',
      'Event-loop delay max over the last report period (the longest slice).',
      (w) => w.loopDelayMaxMs / 1000,
    );
    perWorker('gauge', 'shoal_worker_ring_use_ratio', "Fill of the worker's result ring, 0 to 1.", (w) => w.ringUse);
    perWorker('counter', 'shoal_worker_parks_total', 'Times the worker blocked idle.', (w) => w.parks);
    perWorker(
      'counter',
      'shoal_worker_parked_while_live_total',
      'Times the worker blocked while holding live work (0 unless shoal has a bug).',
      (w) => w.parkedWhileLive,
    );
    perWorker(
      'counter',
      'shoal_worker_sibling_wakes_total',
      'Parked siblings the worker woke to share work.',
      (w) => w.siblingWakes,
    );
    gauge('shoal_blocking_threads', 'Threads alive in the blocking pool.', (g) => g.set(s().stats.blockingThreads));
    gauge(
      'shoal_net_connections',
      'Open TCP connections per worker.',
      (g) => {
        const c = s().stats.net?.connections ?? [];
        for (let i = 0; i < c.length; i++) g.set({ worker: String(i) }, c[i] ?? 0);
      },
      ['worker'],
    );
    const net = (name: string, help: string, read: (n: NonNullable<StatsLike['net']>) => number): void =>
      counter(name, help, (c) => {
        const n = s().stats.net;
        c.inc(n ? read(n) : 0);
      });
    net('shoal_net_accepted_total', 'TCP connections accepted by the reactor.', (n) => n.accepted);
    net('shoal_net_connected_total', 'Outbound TCP connections opened for workers.', (n) => n.connected);
    net('shoal_net_handler_errors_total', 'Connection handlers that threw.', (n) => n.handlerErrors);
    net('shoal_net_received_bytes_total', 'Bytes read from sockets.', (n) => n.bytesIn);
    net('shoal_net_sent_bytes_total', 'Bytes written to sockets.', (n) => n.bytesOut);
    net('shoal_reactor_turns_total', 'Reactor turns run.', (n) => n.turns);
    net('shoal_reactor_parks_total', 'Times the reactor parked.', (n) => n.parks);
    net('shoal_reactor_worker_wakeups_total', 'Rings that woke a parked worker.', (n) => n.workerWakeups);
    const perServer = (
      kind: 'gauge' | 'counter',
      name: string,
      help: string,
      read: (st: NonNullable<ReturnType<NonNullable<import('./source.js').ServerLike['stats']>>>) => number | undefined,
      size?: true,
    ): void => {
      const fill = (m: Gauge | Counter): void => {
        for (const srv of this.src.servers()) {
          const st = srv.stats?.() ?? {};
          const v = size ? srv.conns.size : read(st);
          if (v !== undefined) m.inc({ server: String(srv.id), kind: srv.kind ?? 'tcp' }, v);
        }
      };
      if (kind === 'gauge') gauge(name, help, fill, ['server', 'kind']);
      else counter(name, help, fill, ['server', 'kind']);
    };
    perServer('gauge', 'shoal_server_connections', 'Open connections of a server.', () => 0, true);
    perServer('counter', 'shoal_server_accepted_total', 'Connections a server accepted.', (st) => st.accepted ?? 0);
    perServer('counter', 'shoal_server_refused_total', 'Connections a server refused.', (st) => st.refused ?? 0);
    perServer(
      'counter',
      'shoal_server_handler_errors_total',
      'Handlers of a server that threw.',
      (st) => st.handlerErrors ?? 0,
    );
    perServer('counter', 'shoal_server_requests_total', 'HTTP requests a server answered.', (st) => st.requests);
    gauge('shoal_channels', 'Channels made with rt.channel() still referenced.', (g) => g.set(s().channels));
    gauge('shoal_agents', 'Live agents.', (g) => g.set(s().agents.count));
    gauge('shoal_agent_mailbox_depth_max', 'Deepest agent mailbox.', (g) => g.set(s().agents.deepest));
  }

  /**
   * One scrape: the text exposition of every metric.
   *
   * @example
   * res.setHeader('content-type', METRICS_CONTENT_TYPE); res.end(await metrics.text());
   */
  async text(): Promise<string> {
    const agents = this.src.agents ? await this.src.agents() : [];
    let channels = 0;
    for (const _ of this.src.channels()) channels++;
    this.snap = {
      stats: this.src.stats(),
      agents: { count: agents.length, deepest: agents.reduce((m, a) => Math.max(m, a.mailbox), 0) },
      channels,
    };
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = undefined;
    }
  }

  /**
   * Serve `text()` on `GET <path>` of a new HTTP server (any other path: 404).
   *
   * @example
   * const srv = await metrics.serve({ port: 0 }); await fetch(srv.url);
   */
  async serve(options: MetricsServeOptions = {}, onClosed?: () => void): Promise<MetricsServer> {
    if (options === null || typeof options !== 'object') throw inspectTypeError('options must be an object');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw inspectRangeError(`port must be an integer in [0, 65535], got ${String(port)}`);
    const host = options.host ?? '127.0.0.1';
    if (typeof host !== 'string' || host === '') throw inspectTypeError('host must be a non-empty string');
    const path = options.path ?? '/metrics';
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw inspectTypeError(`path must be a string starting with '/', got ${String(path)}`);
    const signal = options.signal;
    signal?.throwIfAborted();
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== path) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; metrics are on ${path}\n`);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(req.method === 'HEAD' ? '' : body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
      );
    });
    server.keepAliveTimeout = 5000;
    await listenOn(server, { port, host });
    const a = server.address() as AddressInfo;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= new Promise<void>((resolve) => {
        signal?.removeEventListener('abort', onAbort);
        server.close(() => {
          onClosed?.();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    };
    const onAbort = (): void => void close();
    signal?.addEventListener('abort', onAbort, { once: true });
    return Object.freeze({
      port: a.port,
      host: a.address,
      url: `http://${formatHostPort(a.address, a.port)}${path}`,
      close,
      [Symbol.asyncDispose]: close,
    });
  }
}
