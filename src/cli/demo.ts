/**
 * `shoal demo` (what `npm start` runs): a CPU-plus-IO workload on the pool with a live progress
 * line, then the same workload on the main thread alone, and a summary table.
 *
 * Runs on the main thread. Owns a temporary directory of input files for the run's duration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime/runtime.js';
import { demoNet } from './demo-net.js';
import { demoNotes, timedJobs } from './demo-notes.js';
import { hashRounds, job, type JobSpec } from './demo-tasks.js';
import { ProgressLine } from './progress.js';
import { intOption, parse } from './usage.js';

const TASKS = new URL('./demo-tasks.js', import.meta.url);

export interface DemoOptions {
  jobs?: number;
  workers?: number;
  concurrency?: number;
  /** target CPU time of one job, ms (the hash rounds are calibrated to it) */
  cpuMs?: number;
  ioMs?: number;
}

interface Row {
  mode: string;
  threads: number;
  secs: number;
}

/**
 * Run the demo and print its summary to stdout (progress goes to stderr).
 *
 * @example
 * await demo({ jobs: 200 });
 */
export async function demo(o: DemoOptions = {}): Promise<void> {
  const workers = o.workers ?? availableParallelism();
  const jobs = o.jobs ?? 400;
  const concurrency = o.concurrency ?? 32;
  const ioMs = o.ioMs ?? 3;
  const loadBefore = loadavg()[0] ?? 0; // before our own work adds to it
  const dir = mkdtempSync(join(tmpdir(), 'shoal-demo-'));
  try {
    const files = Array.from({ length: 16 }, (_, i) => {
      const p = join(dir, `input-${i}.bin`);
      writeFileSync(p, randomBytes(64 * 1024));
      return p;
    });
    const rounds = calibrate(files[0]!, o.cpuMs ?? 4);
    const specs = (): Iterable<JobSpec> => ({
      *[Symbol.iterator]() {
        for (let i = 0; i < jobs; i++) yield { path: files[i % files.length]!, rounds, ioMs };
      },
    });
    console.log(
      `shoal demo: ${jobs} jobs, each reads a 64 KiB file, hashes it ${rounds} rounds (~${o.cpuMs ?? 4} ms CPU) and waits ${ioMs} ms on a timer`,
    );
    console.log(
      `            ${workers} green-thread workers, ${concurrency} jobs in flight, ${availableParallelism()} cores, Node ${process.version}\n`,
    );

    const rows: Row[] = [];
    const rt = await Runtime.start({ workers });
    let statsLine = '';
    try {
      // warm-up: every worker loads the task module and JIT-compiles the job before timing starts
      const warm = [...specs()].slice(0, workers * 4).map((s) => ({ ...s, ioMs: 0 }));
      for await (const _ of rt.map(warm, TASKS, 'jobOf', { concurrency: warm.length })) void _;
      const before = rt.stats().workers.map((w) => w.completed);
      const p = new ProgressLine('pool        ');
      const t0 = performance.now();
      let bytes = 0;
      for await (const r of rt.map<JobSpec, { bytes: number }>(specs(), TASKS, 'jobOf', {
        concurrency,
        onProgress: (c) => p.update({ ...c, total: jobs }),
      })) {
        bytes += r.bytes;
      }
      p.finish();
      rows.push({ mode: 'shoal pool', threads: workers, secs: (performance.now() - t0) / 1000 });
      const st = rt.stats();
      const counted = timedJobs(
        before,
        st.workers.map((w) => w.completed),
      );
      statsLine = st.workers
        .map((w, i) => `worker ${w.slot}: ${counted[i]} jobs, loop delay max ${w.loopDelayMaxMs.toFixed(1)} ms`)
        .join('; ');
      if (bytes !== jobs * 64 * 1024) throw new Error(`demo: read ${bytes} bytes, expected ${jobs * 64 * 1024}`);
    } finally {
      await rt.close({ timeout: 5000 });
    }

    const p = new ProgressLine('main thread ');
    const t1 = performance.now();
    let done = 0;
    let next = 0;
    const all = [...specs()];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < all.length) {
          const s = all[next++]!;
          await job(s.path, s.rounds, s.ioMs);
          p.update({ done: ++done, total: jobs });
        }
      }),
    );
    p.finish();
    rows.push({ mode: 'single thread', threads: 1, secs: (performance.now() - t1) / 1000 });

    printSummary(rows, jobs);
    console.log(`\n${statsLine}`);
    const speedup = rows[1]!.secs / rows[0]!.secs;
    await demoNet({ workers }); // the served-socket workload (src/cli/demo-net.ts)
    // the notes close the summary: they apply to both tables
    for (const n of demoNotes({ loadBefore, cores: availableParallelism(), speedup, workers })) console.log(`\n${n}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Hash rounds that take about `targetMs` of CPU on this machine (measured on the main thread).
 * Only the hashing is timed: timing a whole job counted its file read and its timer wait (a
 * `sleep(0)` is a loop turn) as CPU, and the jobs came out a third of the claimed size.
 */
function calibrate(file: string, targetMs: number): number {
  const data = readFileSync(file);
  const probe = 50;
  hashRounds(data, probe); // warm-up: JIT and the hash binding
  let best = Infinity;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    hashRounds(data, probe);
    best = Math.min(best, performance.now() - t0); // the least disturbed run is the machine's speed
  }
  const perRound = best / probe;
  return Math.max(1, Math.round(targetMs / Math.max(perRound, 0.001)));
}

function printSummary(rows: Row[], jobs: number): void {
  const base = rows.find((r) => r.mode === 'single thread')!.secs;
  const table = [
    ['mode', 'threads', 'wall time', 'jobs/s', 'speed-up'],
    ...rows.map((r) => [
      r.mode,
      String(r.threads),
      `${r.secs.toFixed(2)} s`,
      (jobs / r.secs).toFixed(0),
      `${(base / r.secs).toFixed(2)}x`,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log('');
  for (const row of table)
    console.log('  ' + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   '));
}

export const help = `usage: shoal demo [options]

The main job: a CPU-plus-I/O workload (read a file, hash it, wait on a timer) on the worker pool
with a live progress line, then the same jobs on one thread, then a served-socket workload, with a
summary. The summary says when the machine was busy (load above its cores) and what that does to
the figures.

options:
  --jobs N             jobs to run (default 400)
  --workers N          pool workers (default: available parallelism)
  -h, --help           this text`;

/**
 * Parse the arguments after `demo` and run it; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['--jobs', '100']);
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parse('demo', args, { jobs: { type: 'string' }, workers: { type: 'string' } });
  await demo({
    jobs: intOption('demo', values.jobs, 'jobs', 1),
    workers: intOption('demo', values.workers, 'workers', 1, 1024),
  });
  return 0;
}
