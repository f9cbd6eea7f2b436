/**
 * Probe (not a benchmark suite): the first 100 sequential no-op calls right after piscina's 20k
 * burst (as perf/warm-up.bench.ts), each call timed: the mean, the first ten, and the sum of calls
 * over 30 µs. docs/measurements.md, 2026-12-07 "warm-up".
 *
 * usage: npm run build && node perf/probes/warm-up-first.mjs   (DIST=/path/to/another/dist for an A/B)
 */
import { Piscina } from 'piscina';
const DIST = process.env.DIST ?? new URL('../../dist', import.meta.url).pathname;
const { Runtime } = await import(DIST + '/src/index.js');
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url);
const rt = await Runtime.start({ workers: 2 });
const pis = new Piscina({ filename: TASKS.href, minThreads: 2, maxThreads: 2 });
const burst = async (f, n) => { const ps = []; for (let i = 0; i < n; i++) ps.push(f()); await Promise.all(ps); };
const noop = { fn: 'noop' };
await burst(() => rt.run(TASKS, 'noop'), 2000); await burst(() => pis.run(noop), 2000);
for (let r = 0; r < 5; r++) {
  await burst(() => rt.run(TASKS, 'noop'), 20000);
  for (let i = 0; i < 3000; i++) await rt.run(TASKS, 'noop');
  await burst(() => pis.run(noop), 20000);
  const xs = [];
  const t00 = performance.now();
  for (let i = 0; i < 100; i++) { const t0 = performance.now(); await rt.run(TASKS, 'noop'); xs.push((performance.now() - t0) * 1000); }
  const tot = (performance.now() - t00) * 1000 / 100;
  console.log(`mean ${tot.toFixed(1)}  first10 ${xs.slice(0, 10).map((x) => x.toFixed(0)).join(' ')}  sum>30 ${xs.filter((x) => x > 30).reduce((a, b) => a + b, 0).toFixed(0)}`);
}
await rt.close(); await pis.destroy();
