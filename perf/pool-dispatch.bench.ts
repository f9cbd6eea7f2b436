/**
 * Benchmark: task dispatch through shoal's pool vs piscina, tinypool and workerpool, side by
 * side in one process, same task module, same thread count.
 *
 * Runs on the main thread (each pool starts its own workers). Every contender is started once
 * and warmed up; then each round runs every contender back to back (the order rotates per round)
 * and the table reports medians over the rounds. Cases (the goals, against piscina):
 *  - no-op throughput: 100k tasks, submitted in batches of 10k awaited together (>= 20x);
 *  - sequential round trip: `await run()` of a no-op, one at a time (<= 1/5, i.e. ratio >= 5x);
 *  - 50 µs CPU task throughput: 20k tasks in batches of 2k (>= 1.5x);
 *  - I/O-bound task throughput: `readFile` of a 64 KiB file, 32 tasks kept in flight (each
 *    completion submits the next, as `rt.map` does), 8k tasks. The fs work goes through libuv's
 *    thread pool (4 threads per process); the workers mostly wait, so what is measured is how
 *    promptly a pool hands a waiting worker its next task and its result back.
 *
 * usage: node dist/perf/pool-dispatch.bench.js [--quick]   (SHOAL_TRANSPORT=message to compare paths)
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { Runtime } from '../src/index.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

const TASKS = new URL('./pool-tasks.js', import.meta.url);
const WP_WORKER = new URL('./pool-workerpool-worker.js', import.meta.url);

interface Contender {
  name: string;
  noop(): Promise<unknown>;
  cpu(us: number): Promise<unknown>;
  read(path: string): Promise<unknown>;
  close(): Promise<void>;
}

async function contenders(threads: number): Promise<Contender[]> {
  const rt = await Runtime.start({ workers: threads });
  const pis = new Piscina({ filename: TASKS.href, minThreads: threads, maxThreads: threads });
  const tiny = new Tinypool({ filename: TASKS.href, minThreads: threads, maxThreads: threads });
  const wp = workerpool.pool(WP_WORKER.pathname, { minWorkers: threads, maxWorkers: threads, workerType: 'thread' });
  const noopTask = { fn: 'noop' as const };
  return [
    {
      name: 'shoal',
      noop: () => rt.run(TASKS, 'noop'),
      cpu: (us) => rt.run(TASKS, 'cpu', [us]),
      read: (path) => rt.run(TASKS, 'readSize', [path]),
      close: () => rt.close(),
    },
    {
      name: 'piscina',
      noop: () => pis.run(noopTask),
      cpu: (us) => pis.run({ fn: 'cpu', us }),
      read: (path) => pis.run({ fn: 'read', path }),
      close: () => pis.destroy(),
    },
    {
      name: 'tinypool',
      noop: () => tiny.run(noopTask),
      cpu: (us) => tiny.run({ fn: 'cpu', us }),
      read: (path) => tiny.run({ fn: 'read', path }),
      close: () => tiny.destroy(),
    },
    {
      name: 'workerpool',
      noop: () => wp.exec('noop', []) as unknown as Promise<unknown>,
      cpu: (us) => wp.exec('cpu', [us]) as unknown as Promise<unknown>,
      read: (path) => wp.exec('readSize', [path]) as unknown as Promise<unknown>,
      close: async () => {
        await wp.terminate();
      },
    },
  ];
}

/** Tasks per second for `n` tasks submitted in batches of `batch` (each batch awaited). */
async function throughput(submit: () => Promise<unknown>, n: number, batch: number): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < n; done += batch) {
    const ps: Promise<unknown>[] = new Array(Math.min(batch, n - done));
    for (let i = 0; i < ps.length; i++) ps[i] = submit();
    await Promise.all(ps);
  }
  return (n / (performance.now() - t0)) * 1000;
}

/** Tasks per second for `n` tasks with `inFlight` kept active (each completion starts the next). */
async function windowed(submit: () => Promise<unknown>, n: number, inFlight: number): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      await submit();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  return (n / (performance.now() - t0)) * 1000;
}

/** Mean µs per sequential `await submit()`. */
async function roundTrip(submit: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await submit();
  return ((performance.now() - t0) * 1000) / n;
}

interface Case {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  goal?: string;
  /** tasks one measure() runs (for CPU per task) */
  tasks: number;
  measure(c: Contender): Promise<number>;
}

/** Run the pool dispatch suite; one row per case and anchor. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const rounds = 5;
  const threads = availableParallelism();
  const s = quick ? 0.2 : 1;
  const file = join(tmpdir(), `shoal-bench-${process.pid}.bin`);
  writeFileSync(file, randomBytes(64 * 1024));
  const cases: Case[] = [
    {
      name: `no-op throughput, ${threads} threads`,
      unit: 'tasks/s',
      higherIsBetter: true,
      goal: '>= 20x',
      tasks: Math.round(100_000 * s),
      measure: (c) => throughput(c.noop, Math.round(100_000 * s), 10_000),
    },
    {
      name: 'sequential round trip',
      unit: 'µs',
      higherIsBetter: false,
      goal: '>= 5x (<= 1/5)',
      tasks: Math.round(5_000 * s),
      measure: (c) => roundTrip(c.noop, Math.round(5_000 * s)),
    },
    {
      name: `50 µs CPU task throughput, ${threads} threads`,
      unit: 'tasks/s',
      higherIsBetter: true,
      goal: '>= 1.5x',
      tasks: Math.round(20_000 * s),
      measure: (c) => throughput(() => c.cpu(50), Math.round(20_000 * s), 2_000),
    },
    {
      name: `I/O-bound task throughput (readFile 64 KiB, 32 in flight), ${threads} threads`,
      unit: 'tasks/s',
      higherIsBetter: true,
      tasks: Math.round(8_000 * s),
      measure: (c) => windowed(() => c.read(file), Math.round(8_000 * s), 32),
    },
  ];
  const cs = await contenders(threads);
  const out: BenchResult[] = [];
  try {
    for (const k of cases) {
      const samples = new Map<string, number[]>(cs.map((c) => [c.name, []]));
      const cpu = new Map<string, number[]>(cs.map((c) => [c.name, []]));
      for (const c of cs) await k.measure(c); // warm-up: module loads, JIT, thread start
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < cs.length; i++) {
          const c = cs[(i + r) % cs.length]!;
          const c0 = process.cpuUsage();
          samples.get(c.name)!.push(await k.measure(c));
          cpu.get(c.name)!.push(cpuSince(c0) / k.tasks); // every thread of the process: the pool's whole bill
        }
      }
      const mine = median(samples.get('shoal')!);
      for (const c of cs) {
        if (c.name === 'shoal') continue;
        out.push(
          result({
            suite: 'pool-dispatch',
            case: k.name,
            unit: k.unit,
            shoal: mine,
            anchor: c.name,
            anchorValue: median(samples.get(c.name)!),
            higherIsBetter: k.higherIsBetter,
            shoalCpuUs: median(cpu.get('shoal')!),
            anchorCpuUs: median(cpu.get(c.name)!),
            spread: minMax(samples.get('shoal')!),
            anchorSpread: minMax(samples.get(c.name)!),
            ...(c.name === 'piscina' && k.goal ? { goal: k.goal } : {}),
          }),
        );
      }
    }
  } finally {
    for (const c of cs) await c.close();
    rmSync(file, { force: true });
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const quick = process.argv.includes('--quick');
  console.log(
    `pool-dispatch: ${availableParallelism()} cores, Node ${process.version}, transport ${process.env.SHOAL_TRANSPORT ?? 'shared'}${quick ? ' (quick)' : ''}`,
  );
  printTable(await run({ quick }));
}
