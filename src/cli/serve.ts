/**
 * `shoal serve <handler.js> --port N [--host H] [--workers K] [--http] [--tls-key F --tls-cert F]`:
 * serve a handler module on the worker pool until SIGINT / SIGTERM, then close gracefully
 * (handlers get 5 s to finish) and print the server's counters. HTTP (rt.serve) when the module's
 * default export has `fetch`, or with --http; TCP (rt.listen) otherwise.
 *
 * Runs on the main thread of the CLI process. Owns the Runtime it starts and the signal handlers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Runtime, moduleURL } from '../runtime/runtime.js';
import { probeHandler } from '../http/main.js';

function usage(message: string): Error {
  // main.ts prints the usage text for errors whose code starts with ERR_PARSE_ARGS
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_SERVE' });
}

function intArg(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/**
 * Parse `args` (after the word `serve`), serve, and resolve with the exit code once stopped.
 *
 * @example
 * // shoal serve ./dist/echo.js --port 7000 --workers 2
 * process.exitCode = await serveMain(['./dist/echo.js', '--port', '7000']);
 */
export async function serveMain(args: string[], stop?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      http: { type: 'boolean' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'max-body-size': { type: 'string' },
    },
  });
  const handler = positionals[0];
  if (!handler || positionals.length > 1) throw usage('shoal serve needs exactly one <handler.js>');
  const port = intArg(values.port, 'port', 0, 65535);
  if (port === undefined) throw usage('shoal serve needs --port N (0 picks a free port)');
  const workers = intArg(values.workers, 'workers', 1, 1024);
  const maxConnections = intArg(values['max-connections'], 'max-connections', 1, 1 << 24);
  const maxBodySize = intArg(values['max-body-size'], 'max-body-size', 1, 2 ** 31 - 1);
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined))
    throw usage('--tls-key and --tls-cert go together');
  const tls =
    values['tls-key'] !== undefined
      ? { key: readFileSync(values['tls-key'], 'utf8'), cert: readFileSync(values['tls-cert']!, 'utf8') }
      : undefined;
  const rt = await Runtime.start({ workers });
  try {
    // a path on the command line is a file relative to the cwd, even without './'
    const ref = existsSync(handler) ? pathToFileURL(resolve(handler)) : handler;
    const host = values.host ?? '127.0.0.1';
    const style = await probeHandler((u, n, a) => rt.run(u, n, a), moduleURL(ref)).catch((e: unknown) => {
      if (values.http || tls) throw e;
      return 'tcp' as const; // not an HTTP module: TCP loads (and reports) it its own way
    });
    const http = style === 'fetch' || (style === 'node' && (values.http === true || tls !== undefined));
    const srv = http
      ? await rt.serve({ handler: ref, port, host, maxConnections, maxBodySize, tls })
      : await rt.listen({ handler: ref, port, host, maxConnections });
    const a = srv.address();
    const what = http ? `${tls ? 'HTTPS' : 'HTTP'} (${style} style)` : 'TCP';
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
    console.log('shoal serve: closing (handlers get 5 s)');
    await srv.close({ timeout: 5000 });
    const s = srv.stats();
    const net = rt.stats().net;
    const reqs = 'requests' in s ? `${s.requests} requests, ` : '';
    console.log(
      `shoal serve: ${s.accepted} accepted, ${s.refused} refused, ${reqs}${s.handlerErrors} handler errors, ${net?.bytesIn ?? 0} B in, ${net?.bytesOut ?? 0} B out`,
    );
    if ('lastHandlerError' in srv && srv.lastHandlerError)
      console.log(`shoal serve: last handler error: ${srv.lastHandlerError}`);
    return 0;
  } finally {
    await rt.close({ timeout: 5000 });
  }
}
