/**
 * TCP echo through the reactor, against a plain single-thread node:net echo and a 2-process
 * node:cluster echo, side by side in one run. The load comes from a separate process on
 * 127.0.0.1: closed-loop clients, each with one 64-byte message in flight. Two load generators, each
 * case run with both: perf/echo-load.c (built with `cc` on first use; a few µs of CPU a message)
 * and this file forked with --load (JavaScript, ~7-8 µs a message on the same 2 cores, which it
 * takes from the servers). `--load-with js|c` picks one; `--conns 1,100` runs only those I/O cases.
 *
 * Cases: I/O only with 1, 100 and 1,000 connections; and ~200 µs of CPU (sha256 rounds) per
 * message with 100 connections. Median of 5 rounds (3 with --quick), servers alternating within
 * each round. Each case also reports the server process's CPU time per message (shoal: main
 * thread and workers; node:net: its one thread), measured over exactly the load's window. Bounded: each measurement lasts ROUND_MS after a warm-up, every wait has a limit.
 *
 * One file, four roles: the bench (main thread of the primary), the load generator (--load),
 * a node:cluster echo worker (cluster.isWorker), and the shoal TCP handler (its default export,
 * imported by pool workers; `?cpu=K` in the module URL sets the CPU rounds).
 */
import cluster from 'node:cluster';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { median, printTable, result, type BenchResult } from './bench-types.js';
import type { Conn } from '../src/net/worker/conn.js';

const MSG = 64;
const SELF = fileURLToPath(import.meta.url);
const BLOCK = Buffer.alloc(4096, 7);

/** `rounds` sha256 passes over 4 KiB: the CPU a "CPU-heavy" message costs. */
function burn(rounds: number): void {
  for (let i = 0; i < rounds; i++) createHash('sha256').update(BLOCK).digest();
}

/** Rounds of burn() that take about `us` microseconds here. */
function calibrate(us: number): number {
  burn(500);
  // the fastest of 7 trials: other load on a shared box only ever makes a trial slower
  let per = Infinity;
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    burn(500);
    per = Math.min(per, ((performance.now() - t0) * 1000) / 500);
  }
  return Math.max(1, Math.round(us / per));
}

/** Echo with `cpu` burn rounds per whole message received (node:net server side). */
function echoSocket(s: Socket, cpu: number): void {
  s.setNoDelay(true);
  let carry = 0;
  s.on('data', (b: Buffer) => {
    if (cpu > 0) {
      carry += b.length;
      for (; carry >= MSG; carry -= MSG) burn(cpu);
    }
    s.write(b);
  });
  s.on('error', () => s.destroy());
  s.on('end', () => s.end());
}

/** The shoal handler: the same echo, on a worker's green thread. */
export default async function shoalEcho(conn: Conn): Promise<void> {
  const cpu = Number(new URL(import.meta.url).searchParams.get('cpu') ?? 0);
  let carry = 0;
  for await (const b of conn) {
    if (cpu > 0) {
      carry += b.length;
      for (; carry >= MSG; carry -= MSG) burn(cpu);
    }
    await conn.write(b);
  }
  await conn.end();
}

// --- load generator (child process) -------------------------------------------------------------

interface LoadJob {
  port: number;
  conns: number;
  warmMs: number;
  ms: number;
}

/** The load's view of one round; the server process measures its own CPU over the window. */
interface RoundResult {
  rate: number;
  count: number;
}

/** `onWindow` marks the measured window, so the server can read its CPU time over exactly it. */
async function loadRound(job: LoadJob, onWindow: (phase: 'start' | 'stop') => void): Promise<RoundResult> {
  const socks: Socket[] = [];
  let measuring = false;
  let count = 0;
  const msg = Buffer.alloc(MSG, 1);
  // The replies' bytes are only counted, so every socket reads into one scratch buffer through
  // `onread`: no Buffer and no 'data' event per reply. On 2 cores the load's CPU is taken from the
  // server under test; this cut it from 8.4-12.3 to 7.2-7.8 µs a message (2026-12-06).
  const scratch = Buffer.allocUnsafe(64 * 1024);
  await Promise.all(
    Array.from(
      { length: job.conns },
      () =>
        new Promise<void>((res, rej) => {
          let pending = 0;
          const onReply = (n: number): boolean => {
            pending -= n;
            if (pending > 0) return true;
            if (measuring) count++;
            pending = MSG;
            s.write(msg);
            return true; // keep reading
          };
          const s = connect({
            port: job.port,
            host: '127.0.0.1',
            noDelay: true,
            onread: { buffer: scratch, callback: onReply },
          });
          socks.push(s);
          s.once('connect', () => {
            res();
            pending = MSG;
            s.write(msg);
          });
          s.once('error', rej);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, job.warmMs));
  measuring = true;
  onWindow('start');
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, job.ms));
  measuring = false;
  onWindow('stop');
  const secs = (performance.now() - t0) / 1000;
  for (const s of socks) s.destroy();
  return { rate: count / secs, count };
}

/** What the load process sends: the window's start and stop, then the round's result. */
interface LoadMessage {
  id: number;
  phase?: 'start' | 'stop';
  result?: RoundResult;
}

// --- servers ------------------------------------------------------------------------------------

interface Target {
  name: string;
  port: number;
  close(): Promise<void>;
}

async function plainServer(cpu: number): Promise<Target> {
  const srv: Server = createServer((s) => echoSocket(s, cpu));
  await new Promise<void>((r) => srv.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, r));
  return {
    name: 'node:net',
    port: (srv.address() as { port: number }).port,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

async function clusterServer(cpu: number): Promise<Target> {
  cluster.setupPrimary({ exec: SELF, args: ['--cluster-worker'], silent: false });
  const workers = [cluster.fork({ SHOAL_BENCH_CPU: String(cpu) }), cluster.fork({ SHOAL_BENCH_CPU: String(cpu) })];
  const ports = await Promise.all(
    workers.map((w) => new Promise<number>((r) => w.once('message', (m: { port: number }) => r(m.port)))),
  );
  return {
    name: 'node:cluster x2',
    port: ports[0]!,
    close: async () => {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((r) => {
              w.once('exit', r);
              w.kill();
            }),
        ),
      );
    },
  };
}

async function shoalServer(cpu: number): Promise<Target> {
  const { Runtime } = await import('../src/runtime/runtime.js');
  const rt = await Runtime.start({ workers: 2 });
  const url = new URL(import.meta.url);
  url.searchParams.set('cpu', String(cpu));
  const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: url, backlog: 2048 });
  return { name: 'shoal', port: srv.port, close: () => rt.close({ timeout: 1000 }) };
}

// --- the bench ----------------------------------------------------------------------------------

/** A round as the bench sees it: the load's rate, and this process's CPU µs per message. */
interface Round {
  rate: number;
  cpuPerMsg: number;
}

/** A load generator process the bench drives, one round at a time. */
interface Loader {
  round(job: LoadJob): Promise<Round>;
  close(): void;
}

/** Turns the load's window marks into this process's CPU µs per message. */
function cpuWindow(): { mark(phase: 'start' | 'stop'): void; perMsg(count: number): number } {
  let c0: NodeJS.CpuUsage | undefined;
  let cpu = 0;
  return {
    mark(phase) {
      if (phase === 'start') c0 = process.cpuUsage();
      else {
        const d = process.cpuUsage(c0);
        cpu = d.user + d.system;
      }
    },
    perMsg: (count) => (count > 0 ? cpu / count : NaN),
  };
}

/** The JavaScript load generator: this file, forked with --load. */
function jsLoader(): Loader {
  const child: ChildProcess = fork(SELF, ['--load']);
  let next = 1;
  const waiting = new Map<number, (m: LoadMessage) => void>();
  child.on('message', (m: LoadMessage) => waiting.get(m.id)?.(m));
  return {
    round(job) {
      const id = next++;
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('load round timed out')), job.warmMs + job.ms + 30_000);
        const win = cpuWindow();
        waiting.set(id, (m) => {
          if (m.phase !== undefined) win.mark(m.phase);
          else {
            clearTimeout(t);
            waiting.delete(id);
            res({ rate: m.result!.rate, cpuPerMsg: win.perMsg(m.result!.count) });
          }
        });
        child.send({ id, job });
      });
    },
    close: () => child.kill(),
  };
}

/**
 * perf/echo-load.c, compiled here with the system's C compiler on first use (null when there is
 * none): the same closed loop at a few µs of CPU per message instead of the JS generator's ~11.
 */
function nativeLoadBinary(): string | null {
  const src = join(dirname(SELF), '..', '..', 'perf', 'echo-load.c');
  const bin = join(dirname(SELF), 'echo-load');
  try {
    execFileSync('cc', ['-O2', '-o', bin, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    return bin;
  } catch {
    return null;
  }
}

/** The C load generator: one process per round, its window marks and result on stdout. */
function nativeLoader(bin: string): Loader {
  return {
    round(job) {
      return new Promise((res, rej) => {
        const child = spawn(bin, [job.port, job.conns, job.warmMs, job.ms].map(String), {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const t = setTimeout(
          () => {
            child.kill();
            rej(new Error('load round timed out'));
          },
          job.warmMs + job.ms + 30_000,
        );
        const win = cpuWindow();
        let got: RoundResult | undefined;
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line === 'start' || line === 'stop') win.mark(line);
          else got = JSON.parse(line) as RoundResult;
        });
        child.once('error', rej);
        child.once('close', (code) => {
          clearTimeout(t);
          if (code === 0 && got) res({ rate: got.rate, cpuPerMsg: win.perMsg(got.count) });
          else rej(new Error(`echo-load exited with ${code}`));
        });
      });
    },
    close() {},
  };
}

async function measure(
  label: string,
  cpu: number,
  conns: number,
  rounds: number,
  ms: number,
  goal: string | undefined,
  anchorName: string,
  load: Loader,
): Promise<BenchResult[]> {
  const targets = [await shoalServer(cpu), await plainServer(cpu), await clusterServer(cpu)];
  const rates = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const cpuUs = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const got = await load.round({ port: t.port, conns, warmMs: Math.min(300, ms / 2), ms });
        rates.get(t.name)!.push(got.rate);
        cpuUs.get(t.name)!.push(got.cpuPerMsg);
      }
    }
  } finally {
    for (const t of targets) await t.close();
  }
  const med = (n: string): number => median(rates.get(n)!);
  const shoal = med('shoal');
  const out: BenchResult[] = [];
  for (const anchor of ['node:net', 'node:cluster x2']) {
    out.push(
      result({
        suite: 'net-echo',
        case: `${label}, ${conns} conn`,
        unit: 'msg/s',
        shoal,
        anchor,
        anchorValue: med(anchor),
        higherIsBetter: true,
        goal: anchor === anchorName ? goal : undefined,
      }),
    );
  }
  // CPU time of the server process (main thread and workers) per message: steadier than rates on
  // a shared box, and what bounds the rate once the load and the server fill the cores.
  // (node:cluster's workers are other processes: not measured here.)
  out.push(
    result({
      suite: 'net-echo',
      case: `${label}, ${conns} conn: server CPU per message`,
      unit: 'µs',
      shoal: median(cpuUs.get('shoal')!),
      anchor: 'node:net',
      anchorValue: median(cpuUs.get('node:net')!),
      higherIsBetter: false,
    }),
  );
  return out;
}

/** Which load generators to run: both by default (`--load-with js` or `--load-with c` picks one). */
type LoadChoice = 'js' | 'c' | 'both';

/** The harness entry. */
export async function run(
  opts: { quick?: boolean; load?: LoadChoice; conns?: number[]; cpuCase?: boolean } = {},
): Promise<BenchResult[]> {
  const rounds = opts.quick ? 3 : 5;
  const ms = opts.quick ? 500 : 1000;
  const choice = opts.load ?? 'both';
  const loaders: Array<{ tag: string; load: Loader }> = [];
  if (choice !== 'js') {
    const bin = nativeLoadBinary();
    if (bin) loaders.push({ tag: 'C load', load: nativeLoader(bin) });
    else console.log('net-echo: no C compiler (cc), so no C load generator: JS load only');
  }
  if (choice !== 'c' || loaders.length === 0) loaders.push({ tag: 'JS load', load: jsLoader() });
  const out: BenchResult[] = [];
  try {
    const cpu = calibrate(200);
    for (const { tag, load } of loaders) {
      for (const conns of opts.conns ?? [1, 100, 1000])
        out.push(...(await measure(`echo I/O only (${tag})`, 0, conns, rounds, ms, '>= 0.7x', 'node:net', load)));
      if (opts.cpuCase !== false)
        out.push(
          ...(await measure(
            `echo + ~200 µs CPU, ${cpu} sha256 rounds (${tag})`,
            cpu,
            100,
            rounds,
            ms,
            '>= 1.6x',
            'node:net',
            load,
          )),
        );
    }
  } finally {
    for (const { load } of loaders) load.close();
  }
  return out;
}

if (cluster.isWorker) {
  const cpu = Number(process.env.SHOAL_BENCH_CPU ?? 0);
  const srv = createServer((s) => echoSocket(s, cpu));
  srv.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () =>
    process.send!({ port: (srv.address() as { port: number }).port }),
  );
} else if (isMainThread && process.argv.includes('--load')) {
  process.on('message', (m: { id: number; job: LoadJob }) => {
    const onWindow = (phase: 'start' | 'stop'): void => void process.send!({ id: m.id, phase });
    void loadRound(m.job, onWindow).then((result) => process.send!({ id: m.id, result }));
  });
} else if (
  isMainThread &&
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))
) {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--load-with');
  const load = at > 0 ? (process.argv[at + 1] as LoadChoice) : 'both';
  // --conns 1,100: only those I/O-only cases, and no CPU case (for focused, repeated runs)
  const ci = process.argv.indexOf('--conns');
  const conns = ci > 0 ? process.argv[ci + 1]!.split(',').map(Number) : undefined;
  console.log(
    `net-echo: ${availableParallelism()} cores, Node ${process.version}, load from a separate process${quick ? ' (quick)' : ''}`,
  );
  printTable(await run({ quick, load, conns, cpuCase: conns === undefined }));
}
