/**
 * `rt.serve()`: HTTP/1.1 (and HTTPS) on the worker pool. The reactor accepts and owns the sockets
 * (src/net/reactor/listen.ts); each connection runs, on the least-loaded worker, the HTTP host
 * (src/http/worker/host.ts) that feeds it to that worker's node:http server, whose requests go to
 * the user's handler module (fetch style or node style).
 *
 * Runs on the main thread only. Owns: the HttpServer object, its TcpServer, and one
 * BroadcastChannel per server (handler errors and request counters come in on it; `close` goes
 * out on it so every worker stops keep-alive and closes its idle connections at once).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { checkKnownOptions } from '../core/args.js';
import { ClosedError, TaskLoadError } from '../core/errors.js';
import { handlerURL, listen, type TcpServer } from '../net/reactor/listen.js';
import type { Reactor } from '../net/reactor/reactor.js';
import {
  HTTP_DEFAULTS,
  metricsPath,
  resolveLimits,
  type ChannelMessage,
  type HandlerStyle,
  type HttpHandlerError,
  type ServeOptions,
  type WorkerConfig,
} from './options.js';

/** Runs a task on the pool (rt.run without the checks). */
export type RunTask = (url: string, name: string, args: unknown[]) => Promise<unknown>;

/** Where `options.metrics` gets its text: the runtime's metrics (http does not import inspect). */
export interface MetricsSource {
  text(): Promise<string>;
  contentType: string;
}

/** Counters of one HTTP server. */
export interface HttpServerStats {
  /** connections open now */
  readonly open: number;
  readonly accepted: number;
  /** connections turned away over maxConnections (they got a 503) */
  readonly refused: number;
  /** requests answered; the workers report it at most every 100 ms */
  readonly requests: number;
  /** handler errors (each answered with a 500) */
  readonly handlerErrors: number;
}

/** Options of `server.close()`. */
export interface HttpCloseOptions {
  /** How long in-flight requests may still run before their connections are closed. Default 30000 ms. */
  timeout?: number;
}

const PROBE_URL = new URL('./worker/probe.js', import.meta.url).href;
const HOST_URL = new URL('./worker/host.js', import.meta.url).href;
const REFUSE_503 = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nToo many connections',
  'latin1',
);

/**
 * An HTTP server whose handlers run on the workers.
 *
 * @example
 * const web = await rt.serve({ port: 0, handler: new URL('./hello.js', import.meta.url) });
 * console.log(web.url); // http://127.0.0.1:40123/
 * await web.close({ timeout: 5000 });
 */
export class HttpServer implements AsyncDisposable {
  /** 'fetch' or 'node': how the handler module is called */
  readonly style: HandlerStyle;
  private readonly tcp: TcpServer;
  private readonly channel: BroadcastChannel;
  private readonly tls: boolean;
  private readonly config: WorkerConfig;
  private readonly onError: (e: HttpHandlerError) => void;
  private readonly metrics: MetricsSource | undefined;
  private requests = 0;
  private errors = 0;
  private closing: Promise<void> | undefined;
  /** kept from listen time: a closed server still says where it was */
  private readonly where: AddressInfo;

  /** @internal use `rt.serve()` */
  constructor(
    tcp: TcpServer,
    channel: BroadcastChannel,
    config: WorkerConfig,
    onError: (e: HttpHandlerError) => void,
    metrics?: MetricsSource,
  ) {
    this.tcp = tcp;
    this.metrics = metrics;
    this.channel = channel;
    this.config = config;
    this.style = config.style;
    this.tls = config.tls !== undefined;
    this.onError = onError;
    this.where = tcp.address();
    // rt.close() closes the TcpServer directly: the workers hear of it either way
    tcp.onClosing = () => channel.postMessage({ t: 'close' } satisfies ChannelMessage);
    tcp.closeIdleByDefault = false; // the workers decide what is idle between requests (rt.close() too)
    tcp.shownAs = {
      kind: this.tls ? 'https' : 'http',
      handler: config.handler,
      counts: () => ({ requests: this.requests, handlerErrors: this.errors }),
    };
    channel.onmessage = (ev: unknown) => this.message((ev as { data: ChannelMessage }).data);
    (channel as unknown as { unref(): void }).unref();
  }

  /** The port it listens on. */
  get port(): number {
    return this.where.port;
  }

  /** `http://host:port/` (or https), ready for a client. */
  get url(): string {
    const a = this.where;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.tls ? 'https' : 'http'}://${host}:${a.port}/`;
  }

  /** Like net.Server#address(). */
  address(): AddressInfo {
    return { ...this.where };
  }

  /**
   * Counters: connections (open, accepted, refused), requests, handler errors.
   *
   * @example
   * const { requests, handlerErrors } = web.stats();
   */
  stats(): HttpServerStats {
    const t = this.tcp.stats();
    return Object.freeze({
      open: t.open,
      accepted: t.accepted,
      refused: t.refused,
      requests: this.requests,
      handlerErrors: this.errors,
    });
  }

  /**
   * Graceful shutdown: stop accepting, close idle keep-alive connections at once, let in-flight
   * requests finish (their responses say `Connection: close`) for up to `timeout` ms, then close
   * what is still open. Idempotent.
   *
   * @example
   * process.once('SIGTERM', () => web.close({ timeout: 10_000 }));
   */
  close(options: HttpCloseOptions = {}): Promise<void> {
    if (options === null || typeof options !== 'object')
      throw Object.assign(new TypeError(`options must be an object like { timeout: 5000 }, got ${describe(options)}`), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    const timeout = options.timeout ?? 30_000;
    if (typeof timeout !== 'number' || !(timeout >= 0) || timeout === Infinity)
      throw Object.assign(
        new RangeError(`options.timeout must be a non-negative finite number of ms, got ${describe(timeout)}`),
        {
          code: 'ERR_OUT_OF_RANGE',
        },
      );
    this.closing ??= (async () => {
      await this.tcp.close({ timeout }); // its onClosing tells the workers first; they decide what is idle
      this.channel.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private message(m: ChannelMessage): void {
    if (m.t === 'hello') {
      this.channel.postMessage({ t: 'config', config: this.config } satisfies ChannelMessage);
    } else if (m.t === 'count') {
      this.requests += m.requests;
    } else if (m.t === 'metrics?') {
      const answer = (a: ChannelMessage): void => {
        try {
          this.channel.postMessage(a);
        } catch {
          // the channel closed meanwhile: so did the connection that asked
        }
      };
      if (this.metrics === undefined) answer({ t: 'metrics', id: m.id, error: 'no metrics source' });
      else
        this.metrics.text().then(
          (text) => answer({ t: 'metrics', id: m.id, text }),
          (e: unknown) => answer({ t: 'metrics', id: m.id, error: String((e as Error)?.message ?? e) }),
        );
    } else if (m.t === 'error') {
      this.errors++;
      try {
        this.onError(m.e);
      } catch (e) {
        console.error('shoal http: onError threw', e);
      }
    }
  }
}

/** What the user gave, for an error message: strings quoted, so '8080' and 8080 read apart. */
function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}' (a string)`;
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

/** Every option rt.serve reads; anything else is most likely a typo of one (a limit left at its default). */
const SERVE_OPTIONS: readonly string[] = [
  'handler',
  'port',
  'host',
  'tls',
  'onError',
  'backlog',
  'metrics',
  ...Object.keys(HTTP_DEFAULTS),
];

function defaultOnError(e: HttpHandlerError): void {
  console.error(`shoal http: ${e.method} ${e.url}: ${e.stack ?? e.message}`);
}

function pem(v: unknown, name: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  throw Object.assign(new TypeError(`options.tls.${name} must be a PEM string or bytes, got ${typeof v}`), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
}

/**
 * Load the handler module on a worker and say how it is called: 'fetch' (`default.fetch` is a
 * function), 'node' (the default export is a function), or 'tcp' with `allowTcp` (never for
 * rt.serve). Rejects with TaskLoadError naming the module when it does not load or has neither.
 *
 * @example
 * const style = await probeHandler((u, n, a) => rt.run(u, n, a), 'file:///srv/app.js');
 */
export async function probeHandler(run: RunTask, url: string): Promise<HandlerStyle> {
  const style = await run(PROBE_URL, 'probe', [url]);
  if (style !== 'fetch' && style !== 'node') throw new TaskLoadError(`HTTP handler module ${url}: unknown style`);
  return style;
}

/**
 * Serve HTTP with the handler module on every worker. Throws RangeError / TypeError at once for
 * bad options; resolves once listening; rejects with TaskLoadError when the handler module does
 * not load.
 *
 * @example
 * const web = await serve(reactor, run, { port: 8080, handler: './app.js', maxBodySize: 10 << 20 });
 */
export function serve(
  reactor: Reactor,
  run: RunTask,
  options: ServeOptions,
  metrics?: MetricsSource,
): Promise<HttpServer> {
  if (options === null || typeof options !== 'object')
    throw Object.assign(new TypeError(`options must be an object, got ${describe(options)}`), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  checkKnownOptions(options, SERVE_OPTIONS, 'rt.serve');
  const handler = handlerURL(options.handler);
  const limits = resolveLimits(options);
  const metricsAt = metricsPath(options.metrics);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw Object.assign(new RangeError(`options.port must be an integer in [0, 65535], got ${describe(port)}`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw Object.assign(new TypeError(`options.onError must be a function, got ${typeof options.onError}`), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  let tls: WorkerConfig['tls'];
  if (options.tls !== undefined) {
    if (options.tls === null || typeof options.tls !== 'object')
      throw Object.assign(new TypeError(`options.tls must be { key, cert }, got ${describe(options.tls)}`), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    tls = { key: pem(options.tls.key, 'key'), cert: pem(options.tls.cert, 'cert') };
    if (options.tls.passphrase !== undefined) tls.passphrase = String(options.tls.passphrase);
    // a bad key or certificate fails here, at the call, rather than on each worker's first handshake
    try {
      createSecureContext(tls);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw Object.assign(
        new TypeError(`options.tls: the key or certificate does not load: ${(e as Error).message}`, { cause: e }),
        { code: typeof code === 'string' ? code : 'ERR_INVALID_ARG_VALUE' },
      );
    }
  }
  if (reactor.closed) return Promise.reject(new ClosedError('runtime is closed: rt.serve did not start'));
  const served = metricsAt !== undefined && metrics !== undefined ? { at: metricsAt, source: metrics } : undefined;
  return start(reactor, run, options, handler, limits, tls, served);
}

async function start(
  reactor: Reactor,
  run: RunTask,
  options: ServeOptions,
  handler: string,
  limits: WorkerConfig['limits'],
  tls: WorkerConfig['tls'],
  metrics: { at: string; source: MetricsSource } | undefined,
): Promise<HttpServer> {
  const style = await probeHandler(run, handler);
  const channelName = `shoal-http-${randomUUID()}`;
  const config: WorkerConfig = { handler, style, limits, tls, channel: channelName };
  if (metrics) config.metrics = { path: metrics.at, contentType: metrics.source.contentType };
  const hostURL = `${HOST_URL}?ch=${channelName}`;
  const channel = new BroadcastChannel(channelName);
  // a worker's host asks for its config on its first connection (options.ts WorkerConfig)
  channel.onmessage = (ev: unknown) => {
    if ((ev as { data: ChannelMessage }).data.t === 'hello')
      channel.postMessage({ t: 'config', config } satisfies ChannelMessage);
  };
  let tcp: TcpServer;
  try {
    tcp = await listen(reactor, {
      handler: hostURL,
      port: options.port,
      host: options.host,
      backlog: options.backlog,
      maxConnections: limits.maxConnections,
      refuseWith: tls ? undefined : REFUSE_503,
    });
  } catch (e) {
    channel.close();
    throw e;
  }
  return new HttpServer(tcp, channel, config, options.onError ?? defaultOnError, metrics?.source);
}
