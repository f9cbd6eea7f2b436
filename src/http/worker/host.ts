/**
 * The HTTP host: the connection handler `rt.serve()` gives the reactor. One module instance per
 * server per worker (this module's URL names the server's BroadcastChannel, `?ch=`; the config
 * is the main side's answer to a `hello` on it),
 * holding one node:http (or node:https) server that never listens: each connection's Duplex
 * (`conn.toDuplex()`) is fed to it with `server.emit('connection', duplex)`, so llhttp parses and
 * node:http does keep-alive, pipelining, chunked bodies, `Expect: 100-continue`, HEAD, HTTP/1.0
 * and the 431 / 400 / 408 answers. TLS is node:tls over the same Duplex, on this worker.
 *
 * Runs on a pool worker. Owns: the per-worker http.Server of one rt.serve server, its handler
 * module, its request counter, its closing flag and its end of the server's BroadcastChannel.
 *
 * A request goes: limits (header count 431, Content-Length over maxBodySize 413) -> the handler
 * (fetch style: LazyRequest + HttpContext in, a Response out, written by response.ts; node
 * style: `(req, res)`) -> a throw or rejection becomes a 500 without details and an `error`
 * message to the main thread's onError.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { Conn } from '../../net/worker/conn.js';
import type { ChannelMessage, HttpHandlerError, WorkerConfig } from '../options.js';
import { HttpContext, LazyRequest, PayloadTooLargeError, type ExchangeHost } from './request.js';
import { installLazyResponse, writeResponse } from './response.js';

const channel = new BroadcastChannel(new URL(import.meta.url).searchParams.get('ch') ?? '');
(channel as unknown as { unref(): void }).unref();
/** Ask the main side for this server's config (options.ts WorkerConfig: it is not in our URL). */
const config = await new Promise<WorkerConfig>((resolve) => {
  channel.onmessage = (ev: unknown) => {
    const m = (ev as { data: ChannelMessage }).data;
    if (m.t === 'config') resolve(m.config);
  };
  channel.postMessage({ t: 'hello' } satisfies ChannelMessage);
});
const limits = config.limits;

type FetchApp = { fetch(req: Request, ctx: HttpContext): unknown };
type NodeApp = (req: IncomingMessage, res: ServerResponse) => unknown;

if (config.style === 'fetch') installLazyResponse(); // before the handler module runs `new Response`
const mod = (await import(config.handler)) as { default: FetchApp | NodeApp };
const app = mod.default;

/** Requests since the last count message. */
let counted = 0;
let countTimer: NodeJS.Timeout | undefined;
function flushCount(): void {
  countTimer = undefined;
  if (counted === 0) return;
  channel.postMessage({ t: 'count', requests: counted, responses5xx: 0 } satisfies ChannelMessage);
  counted = 0;
}

/** close() was called: no more keep-alive; idle connections are closed as they become idle. */
let closing = false;

function report(e: unknown, req: IncomingMessage): void {
  const err = e instanceof Error ? e : undefined;
  const he: HttpHandlerError = {
    message: err ? `${err.name}: ${err.message}` : String(e),
    stack: err?.stack,
    method: req.method ?? '',
    url: req.url ?? '',
    remoteAddress: req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
  channel.postMessage({ t: 'error', e: he } satisfies ChannelMessage);
}

/** Answer `status` and close the connection after it (unless the response already started). */
function reject(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.writableEnded) return;
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  res.end(text);
}

/** A handler failed: 500 without details when nothing was sent yet, else cut the connection. */
function failed(e: unknown, req: IncomingMessage, res: ServerResponse): void {
  if (e instanceof PayloadTooLargeError) return; // answered 413 already; not a handler bug
  if ((e as Error)?.name === 'AbortError' && (res.destroyed || req.destroyed)) {
    res.destroy(); // the client left while the handler read its body: nobody to answer, no bug
    return;
  }
  report(e, req);
  if (!res.headersSent) {
    // headers set by the handler before it threw must not leak into the 500
    for (const h of res.getHeaderNames()) res.removeHeader(h);
    reject(res, 500, 'Internal Server Error');
  } else res.destroy();
}

/**
 * An exception no request caught (a throw in a handler's timer callback, a promise nobody awaited)
 * ends this worker, as it would end a one-thread node:http process; the pool starts a new one and
 * the server goes on. Tell the main side's onError first, so that it is not silent: the monitor
 * runs before the thread exits, and a BroadcastChannel message posted then is delivered.
 */
process.on('uncaughtExceptionMonitor', (e: unknown, origin: string) => {
  const err = e instanceof Error ? e : undefined;
  const what = origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception';
  channel.postMessage({
    t: 'error',
    e: {
      message: `${what} ended a worker (its connections were dropped; the pool replaces it): ${
        err ? `${err.name}: ${err.message}` : String(e)
      }`,
      stack: err?.stack,
      method: '',
      url: '',
    },
  } satisfies ChannelMessage);
});

const exchangeHost: ExchangeHost = {
  maxBodySize: limits.maxBodySize,
  reject,
  background: report,
};

const origin = `${config.tls ? 'https' : 'http'}://`;

/** Limits node:http does not answer itself; true when the request was refused. */
function refused(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.rawHeaders.length > limits.maxHeaderCount * 2) {
    reject(res, 431, 'Request Header Fields Too Large');
    return true;
  }
  const cl = req.headers['content-length'];
  if (cl !== undefined && Number(cl) > limits.maxBodySize) {
    reject(res, 413, 'Payload Too Large');
    return true;
  }
  return false;
}

function track(res: ServerResponse): void {
  counted++;
  countTimer ??= setTimeout(flushCount, 100).unref();
  if (closing) res.shouldKeepAlive = false;
}

/** `options.metrics`: requests for the metrics path waiting for main's answer, by id. */
const metricsWaiting = new Map<string, { res: ServerResponse; timer: NodeJS.Timeout }>();
let metricsSeq = 0;
/** How long a metrics request waits for the main thread before it is answered 503. */
const METRICS_WAIT_MS = 10_000;

/** True when this request is for the metrics path (and is answered here, not by the handler). */
function metricsRequest(req: IncomingMessage, res: ServerResponse): boolean {
  const m = config.metrics;
  if (m === undefined) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== m.path) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed');
    return true;
  }
  req.resume(); // a body, if any, is not read
  const id = `${threadId}.${++metricsSeq}`;
  const timer = setTimeout(() => {
    metricsWaiting.delete(id);
    reject(res, 503, 'metrics did not answer in time');
  }, METRICS_WAIT_MS);
  metricsWaiting.set(id, { res, timer });
  res.once('close', () => {
    clearTimeout(timer);
    metricsWaiting.delete(id);
  });
  channel.postMessage({ t: 'metrics?', id } satisfies ChannelMessage);
  return true;
}

/** Main's answer to a metrics request: only the worker holding `id` has it waiting. */
function metricsAnswer(id: string, text: string | undefined, error: string | undefined): void {
  const w = metricsWaiting.get(id);
  if (w === undefined) return;
  metricsWaiting.delete(id);
  clearTimeout(w.timer);
  if (text === undefined) reject(w.res, 500, `metrics failed: ${error ?? 'unknown error'}`);
  else if (!w.res.writableEnded && !w.res.destroyed)
    w.res
      .writeHead(200, { 'content-type': config.metrics!.contentType, 'content-length': Buffer.byteLength(text) })
      .end(text);
}

function fetchListener(req: IncomingMessage, res: ServerResponse): void {
  track(res);
  if (refused(req, res) || metricsRequest(req, res)) return;
  const x = new HttpContext(req, res, exchangeHost);
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  let r: unknown;
  try {
    r = (app as FetchApp).fetch(new LazyRequest(x, origin + host) as unknown as Request, x);
  } catch (e) {
    failed(e, req, res);
    return;
  }
  if (r instanceof Promise) {
    r.then(
      (v) => send(v, req, res),
      (e) => failed(e, req, res),
    );
  } else send(r, req, res);
}

function send(r: unknown, req: IncomingMessage, res: ServerResponse): void {
  if (res.writableEnded || res.destroyed) return; // a limit answered meanwhile, or the client left
  if (closing) res.shouldKeepAlive = false; // close() came while the handler ran
  try {
    writeResponse(res, r)?.catch((e: unknown) => failed(e, req, res));
  } catch (e) {
    failed(e, req, res);
  }
}

function nodeListener(req: IncomingMessage, res: ServerResponse): void {
  track(res);
  if (refused(req, res) || metricsRequest(req, res)) return;
  try {
    const r = (app as NodeApp)(req, res);
    if (r instanceof Promise) r.catch((e: unknown) => failed(e, req, res));
  } catch (e) {
    failed(e, req, res);
  }
}

const listener = config.style === 'fetch' ? fetchListener : nodeListener;
// node:http refuses headersTimeout > requestTimeout; an explicit short requestTimeout wins
const headersTimeout =
  limits.requestTimeout > 0 ? Math.min(limits.headersTimeout, limits.requestTimeout) : limits.headersTimeout;
const httpOptions = {
  maxHeaderSize: limits.maxHeaderSize,
  requestTimeout: limits.requestTimeout,
  headersTimeout,
  keepAliveTimeout: limits.keepAliveTimeout,
  // how often node checks the two timeouts above (default 30 s): a tenth of the shorter one
  connectionsCheckingInterval: Math.max(
    50,
    Math.min(30_000, Math.floor(Math.min(headersTimeout || Infinity, limits.requestTimeout || Infinity) / 10)),
  ),
};
const server: Server = config.tls
  ? createHttpsServer({ ...httpOptions, ...config.tls }, listener)
  : createHttpServer(httpOptions, listener);
if (config.tls) {
  // node:tls wraps a non-net Duplex in a JSStreamSocket and asks the handle for the peer's
  // address, which it does not have: give the TLSSocket the connection's own endpoints
  server.on('secureConnection', (t: Socket) => {
    const d = (t as unknown as { _handle?: { _parentWrap?: { stream?: Socket } } })._handle?._parentWrap?.stream;
    if (d === undefined) return;
    for (const k of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const)
      Object.defineProperty(t, k, { value: d[k], configurable: true });
  });
}
server.maxHeadersCount = limits.maxHeaderCount + 1; // one over, so refused() can see the excess
server.keepAliveTimeout = limits.keepAliveTimeout;
server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
  // Expect: 100-continue: refuse an oversized body before the client sends it
  const cl = req.headers['content-length'];
  if (cl !== undefined && Number(cl) > limits.maxBodySize) {
    track(res);
    reject(res, 413, 'Payload Too Large');
    return;
  }
  res.writeContinue();
  listener(req, res);
});
// node:http answers parse errors itself (400, 431 for HPE_HEADER_OVERFLOW, 408 on a timeout)
// node arms headersTimeout / requestTimeout checks and closeIdleConnections() on 'listening'
server.emit('listening');

channel.onmessage = (ev: unknown) => {
  const m = (ev as { data: ChannelMessage }).data;
  if (m.t === 'metrics') return metricsAnswer(m.id, m.text, m.error);
  if (m.t !== 'close') return;
  closing = true;
  if (countTimer) clearTimeout(countTimer);
  flushCount(); // the main side reads its counters once close() resolves
  server.closeIdleConnections();
  // Responses under way keep their connections until they finish; without a per-request
  // listener (it costs every request), sweep idle connections until none is left.
  sweep ??= setInterval(() => server.closeIdleConnections(), 25).unref();
  if (open === 0) done();
};

/** Connections this worker serves for this server now. */
let open = 0;
let sweep: NodeJS.Timeout | undefined;
function done(): void {
  if (sweep) clearInterval(sweep);
  sweep = undefined;
  channel.close();
}

/**
 * Serve one connection: hand its Duplex to this worker's http server; resolves when it closes.
 *
 * @example
 * // used by the reactor for rt.serve() connections; not called by users
 */
export default function serveConnection(conn: Conn): Promise<void> {
  const d = conn.toDuplex();
  open++;
  return new Promise<void>((resolve) => {
    d.once('close', () => {
      if (--open === 0 && closing) done();
      resolve();
    });
    server.emit('connection', d);
  });
}
