/**
 * Benchmark: spawn and complete 1M green threads vs 1M bare async functions, side by side.
 *
 * Runs on the main thread, one process. Workload per item: an async function that parks on one
 * shared gate promise, then counts itself done. Every item is parked at once (the peak of live
 * tasks), then the gate opens and all complete. Per round and per side:
 *  - time  = spawn loop + completion (the GC + heap read between them is not timed);
 *  - heap  = (heapUsed with everything parked, after a full GC) - (heapUsed before), / N.
 * Median of 5 rounds (3 with --quick, at 100k items), the two sides alternating.
 *
 * Phase 2 measures ambient cancellation (`spawn(fn, { ambient: true })`, AsyncLocalStorage on
 * Node 20). It runs after phase 1 because the first ALS.run() turns on a promise hook for the whole
 * thread for good: phase 2 also re-measures bare async functions under that hook, to show the tax
 * it puts on code that never spawns a task.
 *
 * Measured 2026-11-22, 2 cores shared with other engineers' builds (load 4-8), Node v20.20.2,
 * 1M items, median of 5, three runs of the whole suite:
 *   spawn+complete        6494 / 4369 / 6906 ms vs bare 3524 / 1496 / 2935 ms
 *                         -> 1.8x-2.9x the time (goal <= 1.5x: missed)
 *   heap per parked task  680 B vs bare 392 B, every run (goal <= 1024 B: met)
 *   ambient:true          2.4x-8x the time, 944 B per task
 *   bare async fns after the first ALS.run(): 1.0x-2.8x of clean bare (noisy under load)
 * Where the time goes: ~80% of the CPU profile is the garbage collector copying and promoting a
 * million live tasks; time follows live bytes. A task adds ~290 B to the async function it runs:
 * the Task (9 fields, 96 B: Node ships without pointer compression, 8 B per field), two bound
 * settle functions (2 x 56 B) and the reaction + derived promise of the one `then` on fn's promise
 * (~100 B). Observing fn's settlement needs a reaction and some identity in the handler; an async
 * driver (`await fn()`) instead costs a whole generator (~390 B, measured worse).
 *
 * usage: node dist/perf/core-spawn.bench.js [--quick]
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { spawn } from '../src/core/task.js';
import { median, printTable, result, type BenchResult } from './bench-types.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Kind = 'bare' | 'spawn' | 'ambient';

interface Sample {
  ms: number;
  bytesPerItem: number;
}

async function round(kind: Kind, n: number): Promise<Sample> {
  let done = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const body = async (): Promise<void> => {
    await gate;
    done++;
  };
  gc();
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  if (kind === 'bare') for (let i = 0; i < n; i++) void body();
  else if (kind === 'spawn') for (let i = 0; i < n; i++) spawn(body);
  else for (let i = 0; i < n; i++) spawn(body, { ambient: true });
  const t1 = performance.now();
  gc();
  const h1 = process.memoryUsage().heapUsed;
  const t2 = performance.now();
  open();
  await new Promise<void>((resolve) => {
    const check = (): void => (done >= n ? resolve() : void setImmediate(check));
    check();
  });
  const t3 = performance.now();
  return { ms: t1 - t0 + (t3 - t2), bytesPerItem: (h1 - h0) / n };
}

async function alternate(kinds: readonly Kind[], n: number, rounds: number): Promise<Map<Kind, Sample[]>> {
  const out = new Map<Kind, Sample[]>(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const k of kinds) out.get(k)!.push(await round(k, n));
  return out;
}

const med = (xs: readonly Sample[], f: (s: Sample) => number): number => median(xs.map(f));

/** Run the suite; returns the rows for the harness. */
export async function run(opts?: { quick?: boolean }): Promise<BenchResult[]> {
  const quick = opts?.quick === true;
  const n = quick ? 100_000 : 1_000_000;
  const rounds = quick ? 3 : 5;
  const label = quick ? '100k' : '1M';
  const p1 = await alternate(['bare', 'spawn'], n, rounds);
  const bare = p1.get('bare')!;
  const sp = p1.get('spawn')!;
  const p2 = await alternate(['bare', 'ambient'], n, rounds);
  const bareAls = p2.get('bare')!;
  const amb = p2.get('ambient')!;
  const ms = (s: Sample): number => s.ms;
  const bytes = (s: Sample): number => s.bytesPerItem;
  const base = { suite: 'core-spawn', anchor: 'bare async fn', higherIsBetter: false } as const;
  return [
    result({ ...base, case: `spawn+complete ${label} tasks`, unit: 'ms', shoal: med(sp, ms), anchorValue: med(bare, ms), goal: '<= 1.5x time (ratio >= 0.67)' }),
    result({ ...base, case: 'heap per parked task', unit: 'B', shoal: med(sp, bytes), anchorValue: med(bare, bytes), goal: '<= 1024 B/task' }),
    result({ ...base, case: `spawn+complete ${label}, ambient:true`, unit: 'ms', shoal: med(amb, ms), anchorValue: med(bare, ms), goal: '<= 1.5x time (ratio >= 0.67)' }),
    result({ ...base, case: 'heap per parked task, ambient:true', unit: 'B', shoal: med(amb, bytes), anchorValue: med(bare, bytes), goal: '<= 1024 B/task' }),
    result({ ...base, case: `bare async fn once ALS is on (tax on all code)`, unit: 'ms', shoal: med(bareAls, ms), anchorValue: med(bare, ms) }),
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const quick = process.argv.includes('--quick');
  console.log(`core-spawn: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
