/**
 * Scene "sockets" of `shoal demo` (opt-in: `--only sockets`): a TCP server on 127.0.0.1 whose
 * handler burns CPU per request (src/cli/demo/sockets-handler.ts), served by shoal (`rt.listen`: the reactor on the main
 * thread owns the sockets, the handler runs on the pool's workers) and then by a plain
 * single-thread node:net server running the very same handler code, each under the same bounded
 * closed-loop load from a child process (src/cli/demo/sockets-load.ts). Returns the demo's summary rows.
 *
 * Runs on the main thread. Owns the Runtime and the node:net server it starts, and the load
 * child processes, for the duration of the call.
 */
import { fork } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../../runtime/runtime.js';
import { burn, serveSocket } from './sockets-handler.js';
import type { Row as SceneRow } from './report.js';
import type { LoadJob, LoadReport } from './sockets-load.js';

const HANDLER = new URL('./sockets-handler.js', import.meta.url);
const LOAD = fileURLToPath(new URL('./sockets-load.js', import.meta.url));

/** Options of {@link socketsScene}. */
export interface DemoNetOptions {
  /** Pool workers for the shoal server. Default: availableParallelism(). */
  workers?: number;
  /** Connections of the load, each with one request in flight. Default 64. */
  conns?: number;
  /** Target CPU per request in µs (the hash rounds are calibrated to it). Default 300. */
  cpuUs?: number;
  /** Measured milliseconds per server (after a 300 ms warm-up). Default 1500. */
  ms?: number;
}

interface Row {
  mode: string;
  threads: string;
  r: LoadReport;
}

/**
 * Run the served-socket workload against shoal and against plain node:net; print the table.
 *
 * @example
 * await socketsScene({ workers: 2, ms: 1000 });
 */
export async function socketsScene(o: DemoNetOptions = {}): Promise<SceneRow[]> {
  const workers = o.workers ?? availableParallelism();
  const conns = o.conns ?? 64;
  const cpuUs = o.cpuUs ?? 300;
  const ms = o.ms ?? 1500;
  const rounds = calibrate(cpuUs);
  console.log(`served sockets: ${conns} TCP connections on 127.0.0.1 (load from a child process), each request`);
  console.log(
    `                hashes ${rounds} rounds (~${cpuUs} µs CPU) and answers 32 bytes; ${(ms / 1000).toFixed(1)} s per server\n`,
  );
  const job = (port: number): LoadJob => ({ port, conns, warmMs: 300, ms });
  const rows: Row[] = [];

  const rt = await Runtime.start({ workers });
  try {
    const url = new URL(HANDLER);
    url.searchParams.set('rounds', String(rounds));
    const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: url, backlog: 1024 });
    rows.push({ mode: 'shoal rt.listen', threads: `1 + ${workers}`, r: await load(job(srv.port)) });
  } finally {
    await rt.close({ timeout: 2000 });
  }

  const plain = createServer((s) => serveSocket(s, rounds));
  await new Promise<void>((r) => plain.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, r));
  try {
    rows.push({ mode: 'node:net', threads: '1', r: await load(job((plain.address() as AddressInfo).port)) });
  } finally {
    await new Promise<void>((r) => plain.close(() => r()));
  }
  const shoal = rows.find((r) => r.mode !== 'node:net')!.r;
  const plainR = rows.find((r) => r.mode === 'node:net')!.r;
  return [
    {
      scene: 'sockets',
      case: 'TCP, ~300 µs CPU a request',
      unit: 'req/s',
      shoal: shoal.rate,
      anchor: 'node:net',
      other: plainR.rate,
    },
    {
      scene: 'sockets',
      case: 'TCP p99 latency',
      unit: 'ms',
      shoal: shoal.p99Us / 1000,
      anchor: 'node:net',
      other: plainR.p99Us / 1000,
      lowerIsBetter: true,
    },
  ];
}

/** Hash rounds that take about `us` µs here: the fastest of 5 trials (other load only slows one). */
function calibrate(us: number): number {
  const seed = Buffer.alloc(64);
  burn(200, seed);
  let per = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    burn(200, seed);
    per = Math.min(per, ((performance.now() - t0) * 1000) / 200);
  }
  return Math.max(1, Math.round(us / per));
}

/** One load job in a child process; rejects (and kills the child) if it does not report in time. */
function load(job: LoadJob): Promise<LoadReport> {
  const child = fork(LOAD, [], { env: { ...process.env, SHOAL_DEMO_NET_LOAD: '1' }, execArgv: [] });
  return new Promise<LoadReport>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        child.kill();
        reject(new Error('demo: the load child did not report in time'));
      },
      job.warmMs + job.ms + 15_000,
    );
    child.once('message', (r: LoadReport) => {
      clearTimeout(timer);
      if (r.error !== undefined) reject(new Error(`demo: load failed: ${r.error}`));
      else resolve(r);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo: the load child exited with code ${code} before reporting`)); // no-op once resolved
    });
    child.send(job);
  });
}
