/**
 * The HTTP load generators the server suites can drive a target with, side by side: wrk -t1
 * (Debian's `wrk`: the reference, C, one thread), `shoal load --workers 1` (shoal's own loader,
 * one worker thread) and autocannon (the Node tool most users know, a devDependency). Each runs as
 * a child process for `secs` seconds and reports the rate, p50/p99 and its own CPU time per
 * request (utime + stime of the whole process from /proc, so every thread counts).
 *
 * Runs on the main thread of a bench (perf/http-serve.bench.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, minMax, result, type BenchResult } from './bench-types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOAL = join(ROOT, 'bin', 'shoal.js');
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

export type GeneratorName = 'wrk -t1' | 'shoal load -w1' | 'autocannon';

/** What one run of a generator measured. */
export interface GeneratorRun {
  rps: number;
  p50: number;
  p99: number;
  /** the generator's own CPU per request, µs */
  genCpuUs: number;
  requests: number;
}

/** The generators present on this machine (wrk needs Debian's package). */
export function availableGenerators(): GeneratorName[] {
  const out: GeneratorName[] = [];
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
    out.push('wrk -t1');
  } catch {
    // no wrk: the other two still run
  }
  out.push('shoal load -w1', 'autocannon');
  return out;
}

function procCpuUs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(after[11]) + Number(after[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}

function msOf(s: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function argvOf(gen: GeneratorName, url: string, conns: number, secs: number): [string, string[]] {
  switch (gen) {
    case 'wrk -t1':
      return ['wrk', ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', '--timeout', '10s', url]];
    case 'shoal load -w1':
      return [
        process.execPath,
        [SHOAL, 'load', url, '-c', String(conns), '-d', `${secs}s`, '--workers', '1', '--json', '--quiet'],
      ];
    case 'autocannon':
      return [process.execPath, [AUTOCANNON, '-c', String(conns), '-d', String(secs), '--json', url]];
  }
}

function parse(gen: GeneratorName, out: string): Omit<GeneratorRun, 'genCpuUs'> {
  if (gen === 'wrk -t1') {
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      requests: Number(/(\d+) requests in/.exec(out)?.[1]),
      p50: msOf(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ''),
      p99: msOf(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    };
  }
  const j = JSON.parse(out.slice(out.indexOf('{')));
  if (gen === 'shoal load -w1') return { rps: j.rps, requests: j.requests, p50: j.latency.p50, p99: j.latency.p99 };
  return { rps: j.requests.average, requests: j.requests.total, p50: j.latency.p50, p99: j.latency.p99 };
}

/** Seconds into a run before the generator's CPU window opens (at most a third of the run). */
const WARM_S = 1.5;
/** The window closes this long before the run's end: draining, reporting and exiting are not
 *  per-request work (shoal load closes a runtime, wrk frees a few buffers). */
const END_S = 0.5;

/**
 * Run `gen` against `url` for `secs` seconds. The generator's CPU per request is taken over a
 * window that opens WARM_S into the run and closes END_S before its end, divided by the requests
 * of that window at the rate the generator reported (steady by then).
 */
export function runGenerator(gen: GeneratorName, url: string, conns: number, secs: number): Promise<GeneratorRun> {
  const [cmd, args] = argvOf(gen, url, conns, secs);
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // CPU over a window from WARM_S into the run to the last sample before the exit (the process
    // is gone once 'close' fires): startup (shoal's runtime, autocannon's workers) stays out
    const t0 = performance.now();
    let first: [number, number] | undefined;
    let last: [number, number] | undefined;
    const sampler = setInterval(() => {
      const v = procCpuUs(c.pid!);
      if (Number.isNaN(v)) return;
      const t = performance.now();
      if (first === undefined && t - t0 >= Math.min(WARM_S, secs / 3) * 1000) first = [t, v];
      else if (first !== undefined && t - t0 <= (secs - END_S) * 1000) last = [t, v];
    }, 50);
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', (e) => {
      clearInterval(sampler);
      reject(e);
    });
    c.once('close', (code) => {
      clearInterval(sampler);
      try {
        const r = parse(gen, out);
        if (code !== 0 || !(r.rps > 0)) throw new Error(`exit ${code}`);
        const cpuPerReq = first && last ? (last[1] - first[1]) / ((r.rps * (last[0] - first[0])) / 1000) : Number.NaN;
        resolve({ ...r, genCpuUs: cpuPerReq });
      } catch (e) {
        reject(
          new Error(
            `${gen} against ${url} failed (${(e as Error).message}): ${out.slice(0, 400)} ${err.slice(0, 400)}`,
          ),
        );
      }
    });
  });
}

/**
 * Drive each target with every generator present, interleaved round by round (order reversed
 * every other round), and report what each generator measured: the rate it drove the target at,
 * its p99, and its own CPU per request. `shoal load` is the row; wrk -t1 and autocannon the anchors.
 */
export async function generatorsSideBySide(
  suite: string,
  label: string,
  targets: Array<{ name: string; url: string }>,
  conns: number,
  secs: number,
  rounds: number,
): Promise<BenchResult[]> {
  const gens = availableGenerators();
  const got = new Map<string, GeneratorRun[]>();
  const key = (t: string, g: string): string => `${t} / ${g}`;
  for (const t of targets) for (const g of gens) got.set(key(t.name, g), []);
  for (const t of targets) await runGenerator('shoal load -w1', t.url, conns, 1).catch(() => undefined); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? gens : [...gens].reverse();
    for (const t of targets)
      for (const g of order) {
        try {
          got.get(key(t.name, g))!.push(await runGenerator(g, t.url, conns, secs));
        } catch (e) {
          console.log(`  ${label}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
  }
  const med = (t: string, g: string, f: keyof GeneratorRun): number => median(got.get(key(t, g))!.map((x) => x[f]));
  console.log(`\n${label}  (each generator -c${conns}, ${rounds} x ${secs} s, load ${loadavg()[0]!.toFixed(2)})`);
  for (const t of targets)
    for (const g of gens) {
      const rs = got.get(key(t.name, g))!;
      if (rs.length === 0) continue;
      console.log(
        `  ${t.name.padEnd(12)} ${g.padEnd(15)} ${med(t.name, g, 'rps').toFixed(0).padStart(7)} req/s` +
          `  p99 ${med(t.name, g, 'p99').toFixed(2)} ms  generator CPU ${med(t.name, g, 'genCpuUs').toFixed(1)} µs/req`,
      );
    }
  const out: BenchResult[] = [];
  for (const t of targets)
    for (const anchor of gens.filter((g) => g !== 'shoal load -w1')) {
      if (got.get(key(t.name, anchor))!.length === 0 || got.get(key(t.name, 'shoal load -w1'))!.length === 0) continue;
      out.push(
        result({
          suite,
          case: `${label}, ${t.name}: rate the generator reached`,
          unit: 'req/s',
          shoal: med(t.name, 'shoal load -w1', 'rps'),
          anchor,
          anchorValue: med(t.name, anchor, 'rps'),
          higherIsBetter: true,
          goal: anchor === 'wrk -t1' ? '>= 1x' : '>= 1.5x',
          // the generator's own CPU per request beside its rate, and the spread over the rounds
          shoalCpuUs: med(t.name, 'shoal load -w1', 'genCpuUs'),
          anchorCpuUs: med(t.name, anchor, 'genCpuUs'),
          spread: minMax(got.get(key(t.name, 'shoal load -w1'))!.map((x) => x.rps)),
          anchorSpread: minMax(got.get(key(t.name, anchor))!.map((x) => x.rps)),
        }),
        result({
          suite,
          case: `${label}, ${t.name}: generator CPU per request`,
          unit: 'µs',
          shoal: med(t.name, 'shoal load -w1', 'genCpuUs'),
          anchor,
          anchorValue: med(t.name, anchor, 'genCpuUs'),
          higherIsBetter: false,
          spread: minMax(got.get(key(t.name, 'shoal load -w1'))!.map((x) => x.genCpuUs)),
          anchorSpread: minMax(got.get(key(t.name, anchor))!.map((x) => x.genCpuUs)),
          goal: anchor === 'wrk -t1' ? '>= 1x' : undefined,
        }),
      );
    }
  return out;
}
