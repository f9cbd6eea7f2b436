/**
 * Scene "hybrid service": an HTTP handler that reads a file and burns about 1 ms of CPU per
 * request, served by `rt.serve` (the reactor on the main thread owns the sockets; handlers run on
 * the workers) against the same handler on one-thread node:http and on node:cluster (one process
 * per core). Each server is loaded from another process (wrk -t1 where installed) for a first
 * second (fresh server) and then a steady stretch.
 *
 * Runs on the main thread. Owns a Runtime, the baseline server processes and a temporary file for
 * the scene's duration.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../../runtime/runtime.js';
import { haveWrk, type LoadResult, load } from './http-load.js';
import type { Row } from './report.js';

const SERVER = fileURLToPath(new URL('./http-server.js', import.meta.url));

/** Options of {@link httpScene}. */
export interface HttpSceneOptions {
  workers: number;
  quick: boolean;
  log: (s: string) => void;
}

/** Hash rounds over `data` that take about `ms` of CPU here (best of a few timed runs). */
function calibrate(data: Buffer, ms: number): number {
  const probe = 20;
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    let h = createHash('sha256').update(data).digest();
    for (let i = 1; i < probe; i++) h = createHash('sha256').update(h).update(data).digest();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.max(1, Math.round((ms * probe) / best));
}

interface Measured {
  first: LoadResult;
  steady: LoadResult;
}

async function measureUrl(url: string, conns: number, firstSecs: number, steadySecs: number): Promise<Measured> {
  const first = await load(url, conns, firstSecs);
  const steady = await load(url, conns, steadySecs);
  return { first, steady };
}

/** Start a baseline server process and wait for its port. */
async function startBaseline(mode: 'single' | 'cluster', workers: number, file: string, rounds: number) {
  const child = spawn(process.execPath, [SERVER, mode, String(workers), file, String(rounds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the ${mode} server exited with code ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end(); // the server exits when its stdin ends
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * Run the scene and return its rows.
 *
 * @example
 * const rows = await httpScene({ workers: 2, quick: true, log: console.log });
 */
export async function httpScene(o: HttpSceneOptions): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-demo-http-'));
  const conns = 64;
  const firstSecs = 1;
  const steadySecs = o.quick ? 1 : 2;
  try {
    const file = join(dir, 'page.bin');
    writeFileSync(file, randomBytes(16 * 1024));
    const rounds = calibrate(readFileSync(file), 1);
    o.log(`hybrid service: each request reads a 16 KiB file and hashes it ${rounds} rounds (~1 ms CPU)`);
    o.log(
      `       ${conns} keep-alive connections from ${haveWrk() ? 'wrk -t1' : 'a node:http load process (wrk is not installed; it costs the server more CPU)'}; ` +
        `${firstSecs} s on a fresh server, then ${steadySecs} s`,
    );
    const res: Record<string, Measured> = {};
    const rt = await Runtime.start({ workers: o.workers });
    try {
      const handler = new URL(`./http-app.js?file=${encodeURIComponent(file)}&rounds=${rounds}`, import.meta.url);
      const srv = await rt.serve({ port: 0, host: '127.0.0.1', handler });
      try {
        res.shoal = await measureUrl(srv.url, conns, firstSecs, steadySecs);
      } finally {
        await srv.close({ timeout: 2000 });
      }
    } finally {
      await rt.close({ timeout: 5000 });
    }
    for (const mode of ['single', 'cluster'] as const) {
      const b = await startBaseline(mode, o.workers, file, rounds);
      try {
        res[mode] = await measureUrl(b.url, conns, firstSecs, steadySecs);
      } finally {
        await b.stop();
      }
    }
    const s = res.shoal!;
    const rows: Row[] = [];
    const rate = (c: string, a: number, anchor: string, b: number) =>
      rows.push({ scene: 'http', case: c, unit: 'req/s', shoal: a, anchor, other: b });
    rate('first second', s.first.rps, 'node:http', res.single!.first.rps);
    rate('steady', s.steady.rps, 'node:http', res.single!.steady.rps);
    rate('steady', s.steady.rps, 'node:cluster', res.cluster!.steady.rps);
    rows.push({
      scene: 'http',
      case: 'steady p99 latency',
      unit: 'ms',
      shoal: s.steady.p99Ms,
      anchor: 'node:cluster',
      other: res.cluster!.steady.p99Ms,
      lowerIsBetter: true,
    });
    const errs = s.steady.errors + s.first.errors;
    if (errs) o.log(`       shoal answered ${errs} requests with a non-2xx status`);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
