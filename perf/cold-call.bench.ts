/**
 * Benchmark: the cold round trip, one no-op `rt.run` after an idle gap (one setImmediate, 1, 5 and
 * 20 ms), shoal against piscina in the same process (2 workers each, atomics on), beside the
 * machine's floor: a worker parked in `Atomics.wait`, woken by `Atomics.notify` after the same
 * gap, answering a main thread that waits in `Atomics.waitAsync` (probes/cold-wake.mjs's
 * "main-async"; main never blocks, as shoal's main may not). Issue 18's goals: >= 2x piscina at
 * every gap, and within 2x of the floor.
 *
 * Runs on the main thread (each contender starts its own workers). Each round measures every
 * contender at every gap, back to back (the order alternates per round); a figure is the median of
 * the round's calls, and the table the median over rounds with the spread. CPU per call is the
 * process's CPU time (all threads) over a gap's calls divided by their count: it includes what
 * the gap itself costs (timers, idle wake-ups), which is the bill a low-load service pays.
 *
 * usage: node dist/perf/cold-call.bench.js [--quick]   (or: node dist/perf/harness.js --only cold-call)
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Runtime } from '../src/index.js';
import { waitAsync } from '../src/shm/doorbell.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

const TASKS = new URL('./pool-tasks.js', import.meta.url);
const GAPS = [0, 1, 5, 20] as const;

interface Contender {
  name: string;
  call(): Promise<unknown>;
  close(): Promise<void>;
}

/** The floor: a parked Atomics.wait worker, main waiting in waitAsync (never blocking). */
function floor(): Contender {
  const sab = new SharedArrayBuffer(16);
  const w32 = new Int32Array(sab);
  const w = new Worker(
    `const { workerData: sab } = require('node:worker_threads'); const a = new Int32Array(sab);
     for (;;) { Atomics.wait(a, 0, 0); if (Atomics.load(a, 2)) break; Atomics.store(a, 0, 0); Atomics.add(a, 1, 1); Atomics.notify(a, 1); }`,
    { eval: true, workerData: sab },
  );
  w.unref();
  return {
    name: 'cold-wake floor',
    async call() {
      const before = Atomics.load(w32, 1);
      Atomics.store(w32, 0, 1);
      Atomics.notify(w32, 0);
      const r = waitAsync(w32, 1, before);
      if (r.async) await r.value;
    },
    async close() {
      Atomics.store(w32, 2, 1);
      Atomics.store(w32, 0, 1);
      Atomics.notify(w32, 0);
      await w.terminate();
    },
  };
}

async function contenders(threads: number): Promise<Contender[]> {
  const rt = await Runtime.start({ workers: threads });
  const pis = new Piscina({ filename: TASKS.href, minThreads: threads, maxThreads: threads });
  const noop = { fn: 'noop' as const };
  return [
    { name: 'shoal', call: () => rt.run(TASKS, 'noop'), close: () => rt.close() },
    { name: 'piscina', call: () => pis.run(noop), close: () => pis.destroy() },
    floor(),
  ];
}

/** Median µs of `n` calls, each after `gap` ms idle (0: one setImmediate); and CPU µs per call. */
async function coldCalls(c: Contender, gap: number, n: number): Promise<[number, number]> {
  const xs: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if (gap > 0) await sleep(gap);
    else await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    await c.call();
    xs.push((performance.now() - t0) * 1000);
  }
  return [median(xs), cpuSince(c0) / n];
}

/** Run the suite; one row per gap against piscina, and one per gap against the floor. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const rounds = quick ? 3 : 5;
  const n = quick ? 40 : 100;
  const threads = Math.min(2, availableParallelism());
  const cs = await contenders(threads);
  const keep = setInterval(() => {}, 1000); // the floor's waitAsync alone would not hold the loop
  try {
    for (const c of cs) for (let i = 0; i < 300; i++) await c.call(); // load modules, warm the JIT
    const lat = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? cs : [...cs].reverse();
      for (const gap of GAPS) {
        for (const c of order) {
          const [us, cu] = await coldCalls(c, gap, n);
          const k = `${c.name}@${gap}`;
          (lat.get(k) ?? lat.set(k, []).get(k)!).push(us);
          (cpu.get(k) ?? cpu.set(k, []).get(k)!).push(cu);
        }
      }
    }
    const out: BenchResult[] = [];
    for (const gap of GAPS) {
      const label = gap === 0 ? 'one setImmediate' : `${gap} ms`;
      const s = lat.get(`shoal@${gap}`)!;
      const shoal = {
        suite: 'cold-call',
        unit: 'µs',
        higherIsBetter: false,
        shoal: median(s),
        shoalCpuUs: median(cpu.get(`shoal@${gap}`)!),
        spread: minMax(s),
      };
      out.push(
        result({
          ...shoal,
          case: `no-op rt.run after ${label} idle, ${threads} workers`,
          anchor: 'piscina',
          anchorValue: median(lat.get(`piscina@${gap}`)!),
          anchorSpread: minMax(lat.get(`piscina@${gap}`)!),
          anchorCpuUs: median(cpu.get(`piscina@${gap}`)!),
          goal: '>= 2x',
        }),
        result({
          ...shoal,
          case: `no-op rt.run after ${label} idle, vs the floor`,
          anchor: 'cold-wake floor (Atomics.wait worker, waitAsync main)',
          anchorValue: median(lat.get(`cold-wake floor@${gap}`)!),
          anchorSpread: minMax(lat.get(`cold-wake floor@${gap}`)!),
          anchorCpuUs: median(cpu.get(`cold-wake floor@${gap}`)!),
          goal: '>= 0.5x',
        }),
      );
    }
    return out;
  } finally {
    clearInterval(keep);
    for (const c of cs) await c.close();
  }
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`cold-call bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
