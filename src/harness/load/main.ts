/**
 * The load coordinator behind `shoal load`: splits the connections over loader tasks, one per
 * pool worker (each opens its own sockets on its worker, src/harness/load/worker.ts), shows their
 * progress words while they run, then merges their HDR histograms and counts into one report.
 *
 * Runs on the main thread. Owns the progress SharedArrayBuffer of a run; the runtime that runs
 * the loaders is the caller's (anything with `run(url, name, args, { signal })`, such as a
 * shoal Runtime: this folder sits below src/runtime and does not import it).
 */
import { checkHarnessOptions, given, HarnessOptionError } from '../errors.js';
import { latencyHistogram, mergeEncoded, summarize, type LatencySummary } from './histogram.js';
import { parseTarget, posInt, posNum } from './target.js';
import { resolveTarget } from './resolve.js';
import {
  P_CONNECTED,
  P_DONE,
  P_ERRORS,
  P_STOP,
  PROGRESS_WORDS,
  type LoaderJob,
  type LoaderMoved,
  type LoaderResult,
  type LoadTestOptions,
  type LoadProgress,
} from './job.js';

/** What runs the loader tasks: a shoal Runtime fits. */
export interface LoaderHost {
  run<R = unknown>(
    url: URL | string,
    name: string,
    args: readonly unknown[],
    options?: { signal?: AbortSignal },
  ): Promise<R>;
  /** optional (a Runtime has it): the pool's size, so loaders are spread only when they fit */
  stats?(): { workers: readonly unknown[] };
}

/**
 * How long main keeps giving a loader back to the pool when it landed on a thread that already
 * runs a loader of the run (worker.ts runLoader): each try waits 2, 4, 8 ... up to 64 ms first.
 * A sibling still booting, or busy for a few ms, takes the task within this; past it, the loader
 * runs where it is (the report's `threads` then lists fewer threads than loaders).
 */
const SPREAD_BUDGET_MS = 2000;

export type { LoadTestOptions } from './job.js';

export type { LoadProgress } from './job.js';

/** The report: `{ requests, errors, rps, latency: { p50, p90, p99, p999, max } }` (ms) and more. */
export interface LoadReport {
  url: string;
  mode: 'closed-loop' | 'constant-rate';
  connections: number;
  pipeline: number;
  loaders: number;
  /** the target rate of a constant-rate run, requests/s */
  targetRate?: number;
  durationSeconds: number;
  /** responses completed */
  requests: number;
  /** failed requests: resets, closes with requests in flight, refused connections, timeouts */
  errors: number;
  /** completed responses per second */
  rps: number;
  /** latency in ms; from each request's due time in a constant-rate run */
  latency: LatencySummary;
  /** http: responses by status code */
  statuses: Record<string, number>;
  /** http: responses whose status is not 2xx or 3xx */
  non2xx3xx: number;
  errorKinds: Record<string, number>;
  sent: number;
  bytes: { read: number; written: number };
  /** connections opened, reconnections included */
  connects: number;
  /** the worker threads the loaders ran on */
  threads: number[];
  /** CPU time of this whole process (every thread) over the run, and per completed request:
   *  what the load generator took from a machine it may share with the server */
  cpu: { userMs: number; systemMs: number; usPerRequest: number };
}

/**
 * Run a load and resolve with its report.
 *
 * @example
 * await using rt = await Runtime.start();
 * const r = await runLoad(rt, { url: 'http://127.0.0.1:3000/', connections: 50, durationMs: 5000, loaders: 2 });
 * console.log(r.rps, r.latency.p99);
 */
export async function runLoad(host: LoaderHost, options: LoadTestOptions): Promise<LoadReport> {
  checkLoadCall(host, options);
  const target = parseTarget(options);
  const connections = posInt(options.connections ?? 10, 'connections');
  const durationMs = posNum(options.durationMs ?? 10_000, 'duration');
  const pipeline = posInt(options.pipeline ?? 1, 'pipeline');
  const rate = options.rate === undefined || options.rate === 0 ? 0 : posNum(options.rate, 'rate');
  const loaders = Math.min(connections, posInt(options.loaders ?? 1, 'loaders'));
  const drainMs = options.drainMs ?? 2000;
  if (!(drainMs >= 0)) throw new HarnessOptionError(`drainMs must be >= 0, got ${String(drainMs)}`);

  target.host = await resolveTarget(target.host, target.port);
  const progress = new Int32Array(new SharedArrayBuffer(loaders * PROGRESS_WORDS * 4));
  const jobs: LoaderJob[] = [];
  let first = 0;
  for (let i = 0; i < loaders; i++) {
    const conns = Math.floor(connections / loaders) + (i < connections % loaders ? 1 : 0);
    jobs.push({
      ...target,
      conns,
      firstConn: first,
      totalConns: connections,
      pipeline,
      durationMs,
      ratePerConn: rate / connections,
      drainMs,
      progress,
      slot: i,
      loaders,
      spread: false,
    });
    first += conns;
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ticker =
    options.onProgress &&
    setInterval(
      () => options.onProgress!({ ...progressOf(progress, loaders), elapsedMs: performance.now() - t0 }),
      250,
    );
  const worker = new URL('./worker.js', import.meta.url);
  // an abort ends the run through the STOP words, not by cancelling the tasks: the loaders then
  // return what they measured so far, and the report covers the run up to the abort
  const onAbort = (): void => {
    for (let i = 0; i < loaders; i++) Atomics.store(progress, i * PROGRESS_WORDS + P_STOP, 1); // pairs with: worker.ts publish
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // spread the loaders over distinct threads when the pool has a thread for each
  const poolSize = (typeof host.stats === 'function' ? host.stats()?.workers?.length : undefined) ?? Infinity;
  const spread = loaders > 1 && loaders <= poolSize;
  const runOne = async (j: LoaderJob): Promise<LoaderResult> => {
    const giveUpAt = performance.now() + SPREAD_BUDGET_MS;
    for (let attempt = 1; ; attempt++) {
      const trySpread = spread && performance.now() < giveUpAt && !options.signal?.aborted;
      const r = await host.run<LoaderResult | LoaderMoved>(worker, 'runLoader', [{ ...j, spread: trySpread }]);
      if (!('moved' in r)) return r;
      await new Promise((res) => setTimeout(res, Math.min(64, 2 ** attempt)));
    }
  };
  let results: LoaderResult[];
  try {
    results = await Promise.all(jobs.map(runOne));
  } finally {
    if (ticker) clearInterval(ticker);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const cpu = process.cpuUsage(cpu0);
  return merge(options.url, results, { connections, pipeline, loaders, rate, cpu });
}

const OPTION_NAMES: ReadonlySet<string> = new Set<keyof LoadTestOptions>([
  'url',
  'insecure',
  'connections',
  'durationMs',
  'rate',
  'pipeline',
  'method',
  'headers',
  'body',
  'payload',
  'responseBytes',
  'loaders',
  'drainMs',
  'signal',
  'onProgress',
]);

/** runLoad's arguments as a whole: a host that can run tasks, an options object of known keys. */
function checkLoadCall(host: LoaderHost, options: LoadTestOptions): void {
  if (typeof (host as { run?: unknown } | null | undefined)?.run !== 'function') {
    throw new HarnessOptionError(`host must have a run(url, name, args) method (a Runtime), got ${given(host)}`);
  }
  checkHarnessOptions(options, OPTION_NAMES, 'runLoad');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new HarnessOptionError(`onProgress must be a function, got ${given(options.onProgress)}`);
  }
}

/** Sum the progress words of every loader. */
function progressOf(w: Int32Array, loaders: number): Omit<LoadProgress, 'elapsedMs'> {
  let requests = 0;
  let errors = 0;
  let connected = 0;
  for (let i = 0; i < loaders; i++) {
    const b = i * PROGRESS_WORDS;
    requests += Atomics.load(w, b + P_DONE); // pairs with: worker.ts publish (Atomics.store)
    errors += Atomics.load(w, b + P_ERRORS);
    connected += Atomics.load(w, b + P_CONNECTED);
  }
  return { requests, errors, connected };
}

function merge(
  url: string,
  rs: LoaderResult[],
  o: { connections: number; pipeline: number; loaders: number; rate: number; cpu: NodeJS.CpuUsage },
): LoadReport {
  const h = latencyHistogram();
  const statuses: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let sent = 0;
  let read = 0;
  let written = 0;
  let connects = 0;
  // the run spans every loader: from the first one's start to the last one's end
  let start = Infinity;
  let end = 0;
  for (const r of rs) {
    start = Math.min(start, r.startedAt);
    end = Math.max(end, r.startedAt + r.elapsedMs);
    mergeEncoded(h, r.histogram);
    requests += r.requests;
    errors += r.errors;
    sent += r.sent;
    read += r.bytesRead;
    written += r.bytesWritten;
    connects += r.connects;
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  }
  let non2xx3xx = 0;
  for (const [k, v] of Object.entries(statuses)) if (!(Number(k) >= 200 && Number(k) < 400)) non2xx3xx += v;
  const latency = summarize(h);
  h.destroy();
  const secs = rs.length > 0 ? (end - start) / 1000 : 0;
  return {
    url,
    mode: o.rate > 0 ? 'constant-rate' : 'closed-loop',
    connections: o.connections,
    pipeline: o.pipeline,
    loaders: o.loaders,
    ...(o.rate > 0 ? { targetRate: o.rate } : {}),
    durationSeconds: Math.round(secs * 1000) / 1000,
    requests,
    errors,
    rps: secs > 0 ? Math.round((requests / secs) * 10) / 10 : 0,
    latency,
    statuses,
    non2xx3xx,
    errorKinds,
    sent,
    bytes: { read, written },
    connects,
    threads: [...new Set(rs.map((r) => r.threadId))],
    cpu: {
      userMs: Math.round(o.cpu.user / 1000),
      systemMs: Math.round(o.cpu.system / 1000),
      usPerRequest: requests > 0 ? Math.round(((o.cpu.user + o.cpu.system) / requests) * 100) / 100 : 0,
    },
  };
}

/**
 * The report as text, wrk-style: latency percentiles, rate, errors and status codes.
 *
 * @example
 * console.log(formatLoadReport(await runLoad(rt, { url })));
 */
export function formatLoadReport(r: LoadReport): string {
  const l = r.latency;
  const out = [
    `${r.mode === 'constant-rate' ? `constant rate ${r.targetRate}/s` : 'closed loop'} against ${r.url}: ` +
      `${r.connections} connections, pipeline ${r.pipeline}, ${r.loaders} loader${r.loaders > 1 ? 's' : ''}` +
      ` on ${r.threads.length} thread${r.threads.length > 1 ? 's' : ''}`,
    `  latency (ms${r.mode === 'constant-rate' ? ', from each request’s due time' : ''}):`,
    `    p50 ${l.p50}  p75 ${l.p75}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  p99.99 ${l.p9999}  max ${l.max}`,
    `    mean ${l.mean}  stdev ${l.stdev}  min ${l.min}`,
    `  ${r.requests} requests in ${r.durationSeconds} s, ${r.rps} req/s, ` +
      `${(r.bytes.read / 2 ** 20).toFixed(1)} MiB read, ${r.errors} errors`,
    `  CPU of this process: ${r.cpu.userMs + r.cpu.systemMs} ms, ${r.cpu.usPerRequest} µs per request`,
  ];
  const st = Object.entries(r.statuses);
  if (st.length) out.push(`  status codes: ${st.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (r.non2xx3xx) out.push(`  non-2xx/3xx responses: ${r.non2xx3xx}`);
  const ek = Object.entries(r.errorKinds);
  if (ek.length) out.push(`  errors: ${ek.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  return out.join('\n');
}
