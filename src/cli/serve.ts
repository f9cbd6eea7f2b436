/**
 * `shoal serve <handler> --port N`: serve a handler module on the worker pool until SIGINT /
 * SIGTERM, then close gracefully (busy handlers get --grace ms, idle connections close at once)
 * and print the server's counters. A second Ctrl-C forces the exit. HTTP (rt.serve) when the
 * module's default export has `fetch`, or with --http / TLS; TCP (rt.listen) otherwise.
 *
 * Every failure is one line on stderr: a handler module that cannot be loaded, a port in use, an
 * address that cannot be bound. Handler errors are logged as they happen, with their stack and the
 * peer's address, at most LOG_BURST per second (the rest are counted and summarised).
 *
 * Runs on the main thread of the CLI process. Owns the Runtime it starts and the signal handlers.
 */
import { readFileSync } from 'node:fs';
import { TaskLoadError } from '../core/errors.js';
import { probeHandler } from '../http/main.js';
import type { HttpHandlerError } from '../http/options.js';
import type { HandlerError } from '../net/reactor/listen.js';
import { moduleURL, Runtime } from '../runtime/runtime.js';
import { intOption, loadFailure, parse, UsageError } from './usage.js';

export const help = `usage: shoal serve <handler> --port N [options]

Serve a handler module on the worker pool until Ctrl-C. <handler> is a file path (resolved against
the current directory). HTTP when its default export has fetch(req, ctx) (or with --http: a
node-style (req, res) app); TCP otherwise (default export: async (conn) => { ... }, run once per
connection on a worker).

options:
  --port N             port to listen on (0: any free port, printed at start)
  --host H             address to bind (default 127.0.0.1)
  --workers N          pool workers (default: available parallelism)
  --max-connections N  refuse connections beyond N (HTTP: with a 503)
  --http               serve HTTP even when the default export is a plain (req, res) function
  --tls-key FILE       HTTPS: PEM key (with --tls-cert)
  --tls-cert FILE      HTTPS: PEM certificate chain
  --max-body-size N    HTTP: largest request body in bytes (default 1 MiB)
  --metrics            HTTP: answer GET /metrics with the runtime's Prometheus metrics
  --grace MS           on Ctrl-C, how long busy handlers may finish (default 5000); idle
                       connections close at once; a second Ctrl-C exits at once (code 130)
  -h, --help           this text

Handler errors are logged to stderr as they happen (with the stack and the peer address, at most
${10} a second).`;

/** Handler errors printed per second before the rest are only counted. */
const LOG_BURST = 10;

/**
 * Parse `args` (after the word `serve`), serve, and resolve with the exit code once stopped.
 *
 * @example
 * // shoal serve ./dist/echo.js --port 7000 --workers 2
 * process.exitCode = await main(['./dist/echo.js', '--port', '7000']);
 */
export async function main(args: string[], stop?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    'serve',
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      grace: { type: 'string' },
      http: { type: 'boolean' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'max-body-size': { type: 'string' },
      metrics: { type: 'boolean' },
    },
    true,
  );
  const handler = positionals[0];
  if (!handler) throw new UsageError('needs a <handler> module', 'serve');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'serve');
  const port = intOption('serve', values.port, 'port', 0, 65535);
  if (port === undefined) throw new UsageError('needs --port N (0 picks a free port)', 'serve');
  const workers = intOption('serve', values.workers, 'workers', 1, 1024);
  const maxConnections = intOption('serve', values['max-connections'], 'max-connections', 1, 1 << 24);
  const grace = intOption('serve', values.grace, 'grace', 0, 2 ** 31 - 1) ?? 5000;
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const maxBodySize = intOption('serve', values['max-body-size'], 'max-body-size', 1, 2 ** 31 - 1);
  const tlsKey = values['tls-key'] as string | undefined;
  const tlsCert = values['tls-cert'] as string | undefined;
  if ((tlsKey === undefined) !== (tlsCert === undefined))
    throw new UsageError('--tls-key and --tls-cert go together', 'serve');
  let tls: { key: string; cert: string } | undefined;
  try {
    tls =
      tlsKey !== undefined ? { key: readFileSync(tlsKey, 'utf8'), cert: readFileSync(tlsCert!, 'utf8') } : undefined;
  } catch (e) {
    console.error(`shoal serve: cannot read the TLS key or certificate: ${(e as Error).message}`);
    return 1;
  }
  const rt = await Runtime.start({ workers });
  const log = errorLog();
  let forced = false;
  try {
    let srv: Awaited<ReturnType<Runtime['listen']>> | Awaited<ReturnType<Runtime['serve']>>;
    let what = 'TCP';
    try {
      const style = await probeHandler((u, n, a) => rt.run(u, n, a), moduleURL(handler)).catch((e: unknown) => {
        if (values.http || tls) throw e;
        return 'tcp' as const; // not an HTTP module: TCP loads (and reports) it its own way
      });
      const http = style === 'fetch' || (style === 'node' && (values.http === true || tls !== undefined));
      if (http) {
        what = `${tls ? 'HTTPS' : 'HTTP'} (${style} style)`;
        srv = await rt.serve({
          handler,
          port,
          host,
          maxConnections,
          maxBodySize,
          tls,
          metrics: values.metrics === true,
          onError: log.onHttpError,
        });
      } else if (values.metrics === true) {
        console.error(
          `shoal serve: --metrics answers GET /metrics of an HTTP server, and ${handler} is a TCP handler (give --http for a node-style (req, res) app)`,
        );
        return 2;
      } else {
        srv = await rt.listen({ handler, port, host, maxConnections, onError: log.onError });
      }
    } catch (e) {
      console.error(`shoal serve: ${listenFailure(e, handler, host, port)}`);
      return 1;
    }
    const a = srv.address();
    console.log(
      `shoal serve: ${handler} (${what}) on ${a.address}:${a.port} with ${rt.stats().workers.length} workers (Ctrl-C stops)`,
    );
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      stop?.addEventListener('abort', done, { once: true });
    });
    const force = (): void => {
      forced = true;
      console.error('shoal serve: second interrupt, exiting now');
      process.exit(130);
    };
    process.once('SIGINT', force);
    console.log(`shoal serve: closing (busy handlers get ${grace / 1000} s; press Ctrl-C again to exit at once)`);
    await srv.close({ timeout: grace });
    process.off('SIGINT', force);
    log.flush();
    const s = srv.stats();
    const net = rt.stats().net;
    const reqs = 'requests' in s ? `${s.requests} requests, ` : '';
    console.log(
      `shoal serve: ${s.accepted} accepted, ${s.refused} refused, ${reqs}${s.handlerErrors} handler errors, ${net?.bytesIn ?? 0} B in, ${net?.bytesOut ?? 0} B out`,
    );
    return 0;
  } finally {
    if (!forced) await rt.close({ timeout: grace });
  }
}

/** One line for a listen failure: what the user can do about it. */
function listenFailure(e: unknown, handler: string, host: string, port: number): string {
  // a module that does not load at all was tried as HTTP first: its style is unknown, not TCP
  if (e instanceof TaskLoadError)
    return loadFailure(e.message.replace(/^cannot load TCP handler/, 'cannot load handler'));
  const code = (e as { code?: string })?.code;
  if (code === 'EADDRINUSE') return `${host}:${port} is already in use (EADDRINUSE): pick another --port, or 0 for any`;
  if (code === 'EACCES') return `not allowed to listen on ${host}:${port} (EACCES): ports below 1024 need privileges`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return `cannot bind ${host} (${code}): give an address of this machine with --host`;
  return `cannot serve ${handler} on ${host}:${port}: ${(e as Error)?.message ?? String(e)}`;
}

/** Handler errors to stderr as they happen, at most LOG_BURST a second; the rest are counted. */
function errorLog(): {
  onError: (e: HandlerError) => void;
  onHttpError: (e: HttpHandlerError) => void;
  flush: () => void;
} {
  let windowStart = 0;
  let inWindow = 0;
  let suppressed = 0;
  const flush = (): void => {
    if (suppressed > 0) console.error(`shoal serve: ${suppressed} more handler errors not shown`);
    suppressed = 0;
  };
  const log = (line: string): void => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      flush();
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > LOG_BURST) {
      suppressed++;
      return;
    }
    console.error(line);
  };
  return {
    onError: (e) => log(`shoal serve: handler error (${e.remoteAddress}:${e.remotePort}): ${e.stack ?? e.message}`),
    onHttpError: (e) => log(`shoal serve: handler error (${describeHttpError(e)}`),
    flush,
  };
}

/** The request and the stack of an HTTP handler error, for the log line. */
function describeHttpError(e: HttpHandlerError): string {
  if (e.method === '') return `on a worker): ${e.stack ?? e.message}`;
  const peer = e.remoteAddress ? ` from ${e.remoteAddress}:${e.remotePort ?? 0}` : '';
  return `${e.method} ${e.url}${peer}): ${e.stack ?? e.message}`;
}
