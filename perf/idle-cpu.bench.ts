/**
 * Benchmark: the CPU a started pool costs with nothing to do, shoal (2 workers, after 1,000 tasks)
 * against piscina (same), each measured alone in this process with `process.cpuUsage` (every
 * thread) over 10 idle seconds (3 with --quick), after one settling second. A bare process
 * (nothing started) is measured the same way, so what Node itself costs at idle (V8's background
 * threads, the harness's timer) is visible. Issue 18's goal: under 1% of a core.
 *
 * usage: node dist/perf/idle-cpu.bench.js [--quick]   (or: node dist/perf/harness.js --only idle-cpu)
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { Runtime } from '../src/index.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

const TASKS = new URL('./pool-tasks.js', import.meta.url);

/** % of one core used over `ms` idle milliseconds. */
async function idle(ms: number): Promise<number> {
  await sleep(1000);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  return (cpuSince(c0) / 1000 / (performance.now() - t0)) * 100;
}

/** Run the suite. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const ms = quick ? 3000 : 10_000;
  const rounds = quick ? 1 : 3;
  const threads = Math.min(2, availableParallelism());
  const s: Record<string, number[]> = { shoal: [], piscina: [], bare: [] };
  for (let r = 0; r < rounds; r++) {
    s.bare!.push(await idle(ms));
    const rt = await Runtime.start({ workers: threads });
    for (let i = 0; i < 1000; i++) await rt.run(TASKS, 'noop');
    s.shoal!.push(await idle(ms));
    await rt.close();
    const pis = new Piscina({ filename: TASKS.href, minThreads: threads, maxThreads: threads });
    for (let i = 0; i < 1000; i++) await pis.run({ fn: 'noop' });
    s.piscina!.push(await idle(ms));
    await pis.destroy();
  }
  const base = { suite: 'idle-cpu', unit: '% of a core', higherIsBetter: false };
  return [
    result({
      ...base,
      case: `started, ${threads} workers, nothing to do (${ms / 1000} s)`,
      shoal: median(s.shoal!),
      spread: minMax(s.shoal!),
      anchor: 'piscina',
      anchorValue: median(s.piscina!),
      anchorSpread: minMax(s.piscina!),
      goal: '< 1%',
    }),
    result({
      ...base,
      case: `started, ${threads} workers, vs a bare process`,
      shoal: median(s.shoal!),
      anchor: 'bare node process',
      anchorValue: median(s.bare!),
    }),
  ];
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`idle-cpu bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
