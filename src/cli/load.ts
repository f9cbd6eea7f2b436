/**
 * `shoal load <url>`: HTTP/1.1 or tcp:// load from every core (src/harness/load/), with a live
 * progress line on stderr and a wrk-style summary (or `--json`) on stdout.
 *
 * Runs on the main thread of the CLI process. Owns the Runtime it starts for the run and its
 * SIGINT handler (the first SIGINT ends the run early and still prints the report).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Runtime } from '../runtime/runtime.js';
import { formatLoadReport, runLoad, type LoadTestOptions } from '../harness/load/main.js';
import { parseTarget } from '../harness/load/target.js';
import { ProgressLine } from './progress.js';
import { hint, parseArgsMessage } from './usage.js';

/** The help text of `shoal load` (main.ts's table of commands points here). */
export const LOAD_HELP = `usage: shoal load <url> [options]

  HTTP/1.1 (keep-alive) or raw TCP load from every core: each pool worker runs a loader that opens
  its own connections. Latency goes into HDR histograms merged across workers.

  <url>                 http://host:port/path, https://host:port/path, or tcp://host:port with --payload
  -c, --connections N   connections in all (default 10)
  -d, --duration T      how long to send: 10, 10s, 500ms, 2m (default 10s)
  -R, --rate N          constant rate: N requests/s in all, each connection on a fixed schedule;
                        latency is measured from each request's due time, so a server stall shows
                        in the percentiles (wrk2's coordinated-omission correction). Default:
                        closed loop, each connection sends its next request on a response
      --pipeline N      requests in flight per connection (default 1)
  -m, --method M        HTTP method (default GET; POST with a body)
  -H, --header 'K: V'   extra request header (repeatable)
      --body S          request body
      --body-file F     request body from a file
  -k, --insecure        https://: accept any certificate (a self-signed test server), as curl -k
      --payload S       tcp://: the bytes of one request; a response is as many bytes back (echo)
      --response-bytes N  tcp://: bytes of one response when it differs from the payload's
      --workers N       pool workers, one loader each (default: available parallelism, at most -c)
      --drain T         after the duration, wait this long for responses in flight (default 2s;
                        0: none, requests in flight at the end count as timeouts)
      --json            print the report as JSON: { requests, errors, rps, latency: { p50, p90,
                        p99, p999, max, ... } (ms), statuses, errorKinds, ... }
      --quiet           no progress line

  Errors count requests lost to resets, closes, refused connections and responses missing at the
  end; responses with any status code count as requests (see statuses / non2xx3xx).
  Exit code 1 when no request completed.
`;

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_SHOAL_LOAD_USAGE' });
}

/** The bytes of --body-file; a file that cannot be read is a usage error naming it. */
function bodyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const why = (e as { code?: string }).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw usage(`cannot read --body-file ${path}: ${why}`);
  }
}

/** '10' / '10s' / '500ms' / '2m' -> ms; 0 only when `zero` (--drain 0: no wait at the end). */
export function parseDuration(v: string, name: string, zero = false): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw usage(`--${name} must be a duration like 10, 10s, 500ms or 2m, got '${v}'`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (!(ms > 0) && !(zero && ms === 0)) throw usage(`--${name} must be more than 0, got '${v}'`);
  return ms;
}

function num(v: string | undefined, name: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n)) || n === Infinity) {
    throw usage(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

/**
 * Parse `args` (after the word `load`), run, print, and resolve with the exit code.
 *
 * @example
 * // shoal load http://127.0.0.1:3000/ -c 50 -d 5s --json
 * process.exitCode = await loadMain(['http://127.0.0.1:3000/', '-c', '50', '-d', '5s', '--json']);
 */
export async function loadMain(args: string[]): Promise<number> {
  let opts: LoadTestOptions;
  let json: boolean;
  let quiet: boolean;
  let workers: number;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        connections: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        rate: { type: 'string', short: 'R' },
        pipeline: { type: 'string' },
        method: { type: 'string', short: 'm' },
        header: { type: 'string', short: 'H', multiple: true },
        body: { type: 'string' },
        'body-file': { type: 'string' },
        payload: { type: 'string' },
        insecure: { type: 'boolean', short: 'k' },
        'response-bytes': { type: 'string' },
        workers: { type: 'string' },
        drain: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(LOAD_HELP);
      return 0;
    }
    const url = positionals[0];
    if (!url || positionals.length > 1) throw usage('shoal load needs exactly one <url>');
    if (values.body !== undefined && values['body-file'] !== undefined) {
      throw usage('give either --body or --body-file, not both');
    }
    const headers: Array<[string, string]> = [];
    for (const h of values.header ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw usage(`--header must look like 'Name: value', got '${h}'`);
      headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
    }
    const connections = num(values.connections, 'connections', true) ?? 10;
    workers = Math.min(connections, num(values.workers, 'workers', true) ?? availableParallelism());
    opts = {
      url,
      connections,
      durationMs: values.duration !== undefined ? parseDuration(values.duration, 'duration') : 10_000,
      rate: num(values.rate, 'rate', false),
      pipeline: num(values.pipeline, 'pipeline', true) ?? 1,
      method: values.method,
      headers,
      body: values['body-file'] !== undefined ? bodyFile(values['body-file']) : values.body,
      payload: values.payload,
      insecure: values.insecure ?? false,
      responseBytes: num(values['response-bytes'], 'response-bytes', true),
      loaders: workers,
      drainMs: values.drain !== undefined ? parseDuration(values.drain, 'drain', true) : 2000,
    };
    json = values.json ?? false;
    quiet = values.quiet ?? false;
    // the target is checked here, before a runtime starts or a progress line is drawn
    parseTarget(opts);
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    // a usage error is one line and a hint, exit 2, as for every command (src/cli/usage.ts)
    if (code === 'ERR_SHOAL_LOAD_USAGE' || code === 'ERR_SHOAL_HARNESS_OPTION') {
      console.error(`shoal load: ${(e as Error).message} (${hint('load')})`);
      return 2;
    }
    if (code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`shoal load: ${parseArgsMessage((e as Error).message)} (${hint('load')})`);
      return 2;
    }
    throw e;
  }

  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  const rt = await Runtime.start({ workers });
  const p = quiet ? undefined : new ProgressLine(`load ${opts.url}`);
  try {
    const report = await runLoad(rt, {
      ...opts,
      signal: ac.signal,
      onProgress: (s) => p?.update({ done: s.requests, failed: s.errors, active: s.connected }),
    });
    p?.finish();
    process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatLoadReport(report) + '\n');
    return report.requests > 0 ? 0 : 1;
  } catch (e) {
    p?.finish('stopped');
    if ((e as { code?: string }).code === 'ERR_SHOAL_HARNESS_OPTION') {
      console.error(`shoal load: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await rt.close({ timeout: 2000 });
  }
}

/** The command-table entry points (src/cli/main.ts). */
export const help = LOAD_HELP;
export const main = loadMain;
