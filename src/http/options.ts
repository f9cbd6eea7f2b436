/**
 * `rt.serve()` options: every HTTP limit in one place, with its default, unit and the server it
 * was taken from, validated once on the main thread; and the config the main side hands to each
 * worker's HTTP host.
 *
 * Runs on both sides (main: validation; worker: the WorkerConfig it reads). Owns the defaults.
 */

/** Limits of `rt.serve()`; each answers with its status code when crossed. */
export interface HttpLimits {
  /** Bytes of the request line plus headers; over it: 431. Default 16 KiB (node:http). */
  maxHeaderSize?: number;
  /** Request header fields; over it: 431. Default 100 (Apache's LimitRequestFields). */
  maxHeaderCount?: number;
  /**
   * Bytes of a request body; over it: 413. Checked against Content-Length before the handler runs
   * (both styles) and counted while a fetch-style handler reads the body through shoal (`req.body`,
   * `text()`, `json()`, `arrayBuffer()`...). Default 1 MiB (nginx's client_max_body_size).
   */
  maxBodySize?: number;
  /** ms to receive the whole request head; over it: 408. Default 60000 (node:http). */
  headersTimeout?: number;
  /**
   * ms to receive the whole request, body included (slow-upload protection); over it: 408.
   * Default 300000 (node:http). 0 turns it off.
   */
  requestTimeout?: number;
  /** ms a keep-alive connection may sit idle between requests before it is closed. Default 10000 (uWS). */
  keepAliveTimeout?: number;
  /**
   * Connections open at once; a connection over it gets 503 and is closed (TLS: closed).
   * Default 10000.
   */
  maxConnections?: number;
}

/** TLS: terminated on the workers (node:tls over each connection), so handshakes use every core. */
export interface HttpTlsOptions {
  /** PEM private key */
  key: string | Uint8Array;
  /** PEM certificate chain */
  cert: string | Uint8Array;
  /** passphrase of the key */
  passphrase?: string;
}

/** A handler error as the main thread's `onError` hook sees it. */
export interface HttpHandlerError {
  /** `${name}: ${message}` of what the handler threw */
  readonly message: string;
  /** the stack as the worker saw it (never sent to the client) */
  readonly stack?: string;
  /**
   * the request that failed: method and path; both '' for an error no request caught (an
   * uncaught exception or unhandled rejection, which ends that worker; the pool replaces it)
   */
  readonly method: string;
  readonly url: string;
  /** the client's address and port, when the connection still had them */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

/** Options of `rt.serve()`. */
export interface ServeOptions extends HttpLimits {
  /**
   * The handler module: `export default { fetch(req, ctx) }` (fetch style) or
   * `export default function (req, res)` / an Express app (node style). Loaded on every worker.
   */
  handler: URL | string;
  /** Default 0: any free port (read it back from `server.port`). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Serve HTTPS with this key and certificate. */
  tls?: HttpTlsOptions;
  /**
   * Called on the main thread for every handler error (the client got a 500 without details).
   * Default: one line on stderr.
   */
  onError?: (e: HttpHandlerError) => void;
  /** listen(2) backlog. Default 511. */
  backlog?: number;
  /**
   * Answer `GET` (and `HEAD`) on this path with `rt.metrics()` (the Prometheus text format)
   * before the handler sees the request: `true` is `'/metrics'`. Default: off (every path goes
   * to the handler). For a port of its own, use `rt.serveMetrics()`.
   */
  metrics?: boolean | string;
}

/** The limits with their defaults applied. */
export type ResolvedLimits = Required<HttpLimits>;

/** The defaults (documented in README.md "HTTP"). */
export const HTTP_DEFAULTS: Readonly<ResolvedLimits> = Object.freeze({
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxBodySize: 1024 * 1024,
  headersTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 10_000,
  maxConnections: 10_000,
});

/** How a handler module is called. */
export type HandlerStyle = 'fetch' | 'node';

/**
 * What every worker's HTTP host is told. The host module's URL carries only the channel name
 * (`?ch=`); the config itself comes as the answer to the host's `hello` on that channel, so the
 * TLS key never appears in a module URL (and so in no stack trace).
 */
export interface WorkerConfig {
  /** the user's handler module URL */
  handler: string;
  style: HandlerStyle;
  limits: ResolvedLimits;
  tls?: { key: string; cert: string; passphrase?: string };
  /** BroadcastChannel name: errors and counters toward main, close toward the workers */
  channel: string;
  /** the path answered with the runtime's metrics (asked of main on the channel), if any */
  metrics?: { path: string; contentType: string };
}

/** Messages on a server's BroadcastChannel. */
export type ChannelMessage =
  | { t: 'hello' }
  | { t: 'config'; config: WorkerConfig }
  | { t: 'error'; e: HttpHandlerError }
  | { t: 'count'; requests: number; responses5xx: number }
  | { t: 'close' }
  /** a worker asks for the metrics text (`metrics` option); `id` names the asking request */
  | { t: 'metrics?'; id: string }
  /** main's answer to every worker: the host holding `id` answers its request */
  | { t: 'metrics'; id: string; text?: string; error?: string };

/**
 * `options.metrics` as a path (or undefined when off); throws TypeError naming the value given.
 *
 * @example
 * metricsPath(true); // '/metrics'
 */
export function metricsPath(v: unknown): string | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return '/metrics';
  if (typeof v === 'string' && /^\/[^\s?#]*$/.test(v)) return v;
  throw Object.assign(
    new TypeError(
      `options.metrics must be true, false or a path like '/metrics', got ${typeof v === 'string' ? `'${v}'` : typeof v}`,
    ),
    { code: 'ERR_INVALID_ARG_VALUE' },
  );
}

function rangeErr(msg: string): RangeError {
  return Object.assign(new RangeError(msg), { code: 'ERR_OUT_OF_RANGE' });
}

/** Apply defaults and check every limit; throws RangeError naming the option and the value. */
export function resolveLimits(o: HttpLimits): ResolvedLimits {
  const out = { ...HTTP_DEFAULTS };
  for (const k of Object.keys(HTTP_DEFAULTS) as Array<keyof ResolvedLimits>) {
    const v = o[k];
    if (v === undefined) continue;
    const min = k === 'requestTimeout' || k === 'keepAliveTimeout' || k === 'headersTimeout' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2 ** 31 - 1)
      throw rangeErr(
        `options.${k} must be an integer in [${min}, ${2 ** 31 - 1}], got ${typeof v === 'string' ? `'${v}' (a string)` : String(v)}`,
      );
    out[k] = v;
  }
  return out;
}
