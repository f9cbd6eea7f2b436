/**
 * HTTP serving: shoal's rt.serve against node:http on one thread, node:cluster x2, node:http with
 * the CPU part on piscina, and Hono on @hono/node-server, with wrk -t1 as the load (it costs ~17
 * µs of CPU a request, autocannon 26-35: on 2 cores the generator's CPU comes out of the server's).
 *
 * Each server runs in its own process (perf/http-servers.ts); its CPU per request is read from
 * /proc/<pid>/stat (every process of it: cluster's primary and workers) around each wrk run.
 * Rounds interleave the servers of a case (order reversed every other round) so drift in the
 * shared machine's load hits them alike; medians and min-max spread are reported.
 *
 * Cases (goals from issue 20): hello-world at 100 and 1,000 connections; ~200 µs CPU a request;
 * a hybrid handler with ~1 ms CPU and a file read; hello over TLS; fetch-style vs node-style.
 *
 * Runs on the main thread of the harness's child: `npm run build && node dist/perf/harness.js
 * --only http-serve` (or `node dist/perf/http-serve.bench.js [--quick]` for this suite alone).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median, minMax, printTable, result, type BenchResult } from './bench-types.js';
import { calibrate } from './http-handlers.js';

const SERVERS = fileURLToPath(new URL('./http-servers.js', import.meta.url));
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

interface Target {
  name: string;
  port: number;
  pids: number[];
  child: ChildProcess;
  tls: boolean;
}

interface Round {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

function hasWrk(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function start(kind: string, env: NodeJS.ProcessEnv, tls?: { key: string; cert: string }): Promise<Target> {
  const args = [SERVERS, kind];
  if (tls) args.push(tls.key, tls.cert);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      if (l.startsWith('ready ')) resolve(l);
    });
    child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
  });
  const [, port, ...pids] = line.split(' ');
  return { name: kind, port: Number(port), pids: pids.map(Number), child, tls: tls !== undefined };
}

/** utime + stime of `pids` in µs. */
function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15: utime, stime
    } catch {
      // a process gone: counts nothing
    }
  }
  return ticks * TICK_US;
}

function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function wrk(t: Target, path: string, conns: number, secs: number): Promise<Round> {
  const url = `${t.tls ? 'https' : 'http'}://127.0.0.1:${t.port}${path}`;
  const cpu0 = cpuOf(t.pids);
  return new Promise((resolve, reject) => {
    const c = spawn('wrk', ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', '--timeout', '10s', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    c.once('error', reject);
    c.once('close', (code) => {
      const cpu = cpuOf(t.pids) - cpu0;
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      const total = Number(/(\d+) requests in/.exec(out)?.[1]);
      const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
      const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
      if (code !== 0 || !(rps > 0)) return reject(new Error(`wrk against ${t.name} failed (${code}): ${out}`));
      if (/Non-2xx|Socket errors/.test(out) && !/Socket errors: connect 0, read 0, write 0, timeout 0/.test(out))
        console.log(`  note: ${t.name} ${path} c${conns}: ${out.match(/(Non-2xx.*|Socket errors.*)/g)?.join('; ')}`);
      resolve({ rps, p50, p99, cpuUs: cpu / total });
    });
  });
}

interface CaseSpec {
  label: string;
  path: string;
  conns: number;
  kinds: string[];
  tls?: boolean;
  /** [anchor kind, goal] pairs for the ratio rows */
  goals: Array<[string, string | undefined]>;
}

const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

async function runCase(
  c: CaseSpec,
  rounds: number,
  secs: number,
  env: NodeJS.ProcessEnv,
  tls: { key: string; cert: string } | undefined,
): Promise<BenchResult[]> {
  const targets: Target[] = [];
  try {
    for (const k of c.kinds) targets.push(await start(k, env, c.tls ? tls : undefined));
    // warm-up (JIT, connections, TLS handshakes); a warm-up that got nothing through is retried once
    for (const t of targets) await wrk(t, c.path, c.conns, 2).catch(() => wrk(t, c.path, c.conns, 3));
    const got = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) got.get(t.name)!.push(await wrk(t, c.path, c.conns, secs));
    }
    const med = (k: string, f: keyof Round): number => median(got.get(k)!.map((x) => x[f]));
    console.log(`\n${c.label}  (wrk -t1 -c${c.conns}, ${rounds} x ${secs} s, load ${loadavg()[0]!.toFixed(2)})`);
    for (const t of targets) {
      const rs = got.get(t.name)!;
      console.log(
        `  ${t.name.padEnd(12)} ${med(t.name, 'rps').toFixed(0).padStart(7)} req/s (${spread(rs.map((x) => x.rps))})` +
          `  p50 ${med(t.name, 'p50').toFixed(2)} ms  p99 ${med(t.name, 'p99').toFixed(2)} ms (${spread(rs.map((x) => x.p99))})` +
          `  CPU ${med(t.name, 'cpuUs').toFixed(1)} µs/req`,
      );
    }
    const shoal = c.kinds[c.kinds.length - 1]!;
    const out: BenchResult[] = [];
    for (const [anchor, goal] of c.goals) {
      out.push(
        result({
          suite: 'http-serve',
          case: `${c.label}: req/s${anchor === 'shoal-node' ? ' (fetch vs node style)' : ''}`,
          unit: 'req/s',
          shoal: med(shoal, 'rps'),
          anchor: anchor,
          anchorValue: med(anchor, 'rps'),
          higherIsBetter: true,
          goal,
          // the server's CPU per request (every process and thread of it) beside each rate
          shoalCpuUs: med(shoal, 'cpuUs'),
          anchorCpuUs: med(anchor, 'cpuUs'),
          spread: minMax(got.get(shoal)!.map((x) => x.rps)),
          anchorSpread: minMax(got.get(anchor)!.map((x) => x.rps)),
        }),
      );
    }
    const first = c.goals[0]![0];
    out.push(
      result({
        suite: 'http-serve',
        case: `${c.label}: p99`,
        unit: 'ms',
        shoal: med(shoal, 'p99'),
        anchor: first,
        anchorValue: med(first, 'p99'),
        higherIsBetter: false,
      }),
      result({
        suite: 'http-serve',
        case: `${c.label}: server CPU per request`,
        unit: 'µs',
        shoal: med(shoal, 'cpuUs'),
        anchor: first,
        anchorValue: med(first, 'cpuUs'),
        higherIsBetter: false,
      }),
    );
    if (c.kinds.includes('cluster') && first !== 'cluster')
      out.push(
        result({
          suite: 'http-serve',
          case: `${c.label}: p99`,
          unit: 'ms',
          shoal: med(shoal, 'p99'),
          anchor: 'cluster',
          anchorValue: med('cluster', 'p99'),
          higherIsBetter: false,
          goal: 'lower',
        }),
      );
    return out;
  } finally {
    for (const t of targets) t.child.kill('SIGKILL');
  }
}

/** Make a throwaway self-signed certificate with the openssl CLI (undefined without it). */
function selfSigned(dir: string): { key: string; cert: string } | undefined {
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    return { key, cert };
  } catch {
    return undefined;
  }
}

export async function run(opts: { quick?: boolean; only?: string[] } = {}): Promise<BenchResult[]> {
  if (!hasWrk()) {
    console.log('http-serve: wrk is not installed (Debian package wrk): skipped');
    return [];
  }
  const rounds = opts.quick ? 3 : 5;
  const secs = opts.quick ? 2 : 4;
  const env = { ...process.env, HTTP_BENCH_ROUNDS_200: String(calibrate(200)) };
  const dir = mkdtempSync(join(tmpdir(), 'shoal-http-bench-'));
  const tls = selfSigned(dir);
  const cases: CaseSpec[] = [
    {
      label: 'hello, 100 conns',
      path: '/hello',
      conns: 100,
      kinds: ['node', 'cluster', 'hono', 'shoal-node', 'shoal-fetch'],
      goals: [
        ['node', '>= 1.6x'],
        ['cluster', undefined],
        ['hono', undefined],
        ['shoal-node', '>= 0.9x'],
      ],
    },
    {
      label: 'hello, 1000 conns',
      path: '/hello',
      conns: 1000,
      kinds: ['node', 'cluster', 'shoal-fetch'],
      goals: [
        ['node', undefined],
        ['cluster', '>= 1x'],
      ],
    },
    {
      label: '~200 µs CPU, 100 conns',
      path: '/cpu200',
      conns: 100,
      kinds: ['node', 'cluster', 'piscina', 'shoal-fetch'],
      goals: [
        ['node', '>= 1.9x'],
        ['piscina', '>= 1.2x'],
        ['cluster', '>= 1x'],
      ],
    },
    {
      label: 'hybrid ~1 ms CPU + file read, 100 conns',
      path: '/hybrid',
      conns: 100,
      kinds: ['node', 'cluster', 'piscina', 'shoal-fetch'],
      goals: [
        ['node', '>= 1.9x'],
        ['piscina', '>= 1.2x'],
        ['cluster', '>= 1x'],
      ],
    },
  ];
  if (tls)
    cases.push({
      label: 'TLS hello, 100 conns',
      path: '/hello',
      conns: 100,
      tls: true,
      kinds: ['node-tls', 'shoal-tls'],
      goals: [['node-tls', '>= 1.8x']],
    });
  else console.log('http-serve: no openssl CLI, so no TLS case');
  const out: BenchResult[] = [];
  try {
    for (const c of cases) {
      if (opts.only && !opts.only.some((s) => c.label.includes(s))) continue;
      try {
        out.push(...(await runCase(c, rounds, secs, env, tls)));
      } catch (e) {
        console.log(`http-serve: case "${c.label}" failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const rs = await run({ quick, only: only.length ? only : undefined });
  console.log('');
  printTable(rs);
}
