/**
 * Benchmark: warm-up, the first 100 calls of a sequential `await rt.run()` loop of no-ops, right
 * after a burst (20k tasks submitted at once) and right after another pool ran a burst, shoal
 * against piscina in the same process (2 workers each). Issue 18's goal: the first 100 calls at
 * most 2x the hot figure (the mean of calls 2,001-3,000 of the same loop).
 *
 * Runs on the main thread (each pool starts its own workers). Each round runs, for each pool:
 * its own burst, then 3,000 sequential calls; then the other pool's burst, then 3,000 calls again.
 * CPU per call: the process's CPU time (all threads) over the first 100 calls, divided by 100.
 *
 * usage: node dist/perf/warm-up.bench.js [--quick]   (or: node dist/perf/harness.js --only warm-up)
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { Runtime } from '../src/index.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

const TASKS = new URL('./pool-tasks.js', import.meta.url);
const LOOP = 3000;
const FIRST = 100;

interface Contender {
  name: string;
  call(): Promise<unknown>;
}

async function burst(c: Contender, n: number): Promise<void> {
  const ps = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) ps[i] = c.call();
  await Promise.all(ps);
}

/** [µs per call of the first FIRST calls, µs per call of calls 2001-3000, CPU µs per first call] */
async function loop(c: Contender): Promise<[number, number, number]> {
  const c0 = process.cpuUsage();
  let t0 = performance.now();
  for (let i = 0; i < FIRST; i++) await c.call();
  const first = ((performance.now() - t0) * 1000) / FIRST;
  const cpu = cpuSince(c0) / FIRST;
  for (let i = FIRST; i < LOOP - 1000; i++) await c.call();
  t0 = performance.now();
  for (let i = LOOP - 1000; i < LOOP; i++) await c.call();
  return [first, performance.now() - t0, cpu]; // (ms for 1000 calls) = µs per call
}

/** Run the suite: after its own burst, and after the other pool's burst. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const rounds = quick ? 3 : 5;
  const threads = Math.min(2, availableParallelism());
  const rt = await Runtime.start({ workers: threads });
  const pis = new Piscina({ filename: TASKS.href, minThreads: threads, maxThreads: threads });
  const noop = { fn: 'noop' as const };
  const cs: Contender[] = [
    { name: 'shoal', call: () => rt.run(TASKS, 'noop') },
    { name: 'piscina', call: () => pis.run(noop) },
  ];
  const s: Record<string, number[]> = {};
  const put = (k: string, v: number): void => void (s[k] ??= []).push(v);
  try {
    for (const c of cs) await burst(c, 2000);
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of cs.entries()) {
        const other = cs[1 - i]!;
        await burst(c, quick ? 5000 : 20_000);
        let [first, hot, cpu] = await loop(c);
        put(`${c.name} own`, first);
        put(`${c.name} hot`, hot);
        put(`${c.name} own cpu`, cpu);
        await burst(other, quick ? 5000 : 20_000);
        [first, hot, cpu] = await loop(c);
        put(`${c.name} other`, first);
        put(`${c.name} hot`, hot);
        put(`${c.name} other cpu`, cpu);
      }
    }
  } finally {
    await rt.close();
    await pis.destroy();
  }
  const m = (k: string): number => median(s[k]!);
  const spread = (k: string): [number, number] => minMax(s[k]!);
  const base = { suite: 'warm-up', unit: 'µs/call', higherIsBetter: false };
  return [
    result({
      ...base,
      case: `first ${FIRST} sequential no-op calls after a 20k-task burst`,
      shoal: m('shoal own'),
      shoalCpuUs: m('shoal own cpu'),
      spread: spread('shoal own'),
      anchor: 'piscina',
      anchorValue: m('piscina own'),
      anchorSpread: spread('piscina own'),
      anchorCpuUs: m('piscina own cpu'),
    }),
    result({
      ...base,
      case: `first ${FIRST} calls after a burst on the other pool`,
      shoal: m('shoal other'),
      shoalCpuUs: m('shoal other cpu'),
      spread: spread('shoal other'),
      anchor: 'piscina',
      anchorValue: m('piscina other'),
      anchorSpread: spread('piscina other'),
      anchorCpuUs: m('piscina other cpu'),
    }),
    result({
      ...base,
      case: `first ${FIRST} calls after a burst vs shoal's hot figure (calls 2001-3000)`,
      shoal: m('shoal own'),
      spread: spread('shoal own'),
      anchor: "shoal's hot loop",
      anchorValue: m('shoal hot'),
      goal: '>= 0.5x',
    }),
    result({
      ...base,
      case: `first ${FIRST} calls after the other pool's burst vs shoal's hot figure`,
      shoal: m('shoal other'),
      spread: spread('shoal other'),
      anchor: "shoal's hot loop",
      anchorValue: m('shoal hot'),
      goal: '>= 0.5x',
    }),
  ];
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`warm-up bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
