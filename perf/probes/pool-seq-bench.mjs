/**
 * Probe (not a benchmark suite): the sequential round trip exactly as perf/pool-dispatch.bench.ts
 * runs it (shoal, piscina, tinypool and workerpool, 2 threads each, in one process; a no-op
 * throughput pass first; then rounds of 5,000 sequential `await run()` per contender, the order
 * rotating), with shoal's calls timed one by one: the mean (what the bench reports), the median
 * call, how many calls took over 20 µs and how much of the time they hold, and main's counters
 * (lone-call spin hits, misses and skips, parkNow). With V=1, per round: calls by main's path and
 * duration, the worker bells' states when each call landed (p parked, s spinning, r running;
 * `>woke`: main had to wake a parked worker), and slow calls grouped by the length of their run.
 * docs/measurements.md, 2026-12-07 08:15 "the benchmark's sequential loop".
 *
 * usage: npm run build && node perf/probes/pool-seq-bench.mjs   (ROUNDS=n; ONLY=shoal,piscina
 * to start fewer contenders; DIST=/path/to/another/dist for an A/B against another build)
 */
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
const DIST = process.env.DIST ?? new URL('../../dist', import.meta.url).pathname;
const { Runtime } = await import(DIST + '/src/index.js');
const { SharedTransport } = await import(DIST + '/src/pool/shared/main.js');
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url);
const WP = new URL('../../dist/perf/pool-workerpool-worker.js', import.meta.url);
const ctr = { hit: 0, miss: 0, skip: 0, chain: 0, parkNow: 0 };
// per call, the path main's endBurst took: 0 none seen (woke a worker, answered early), 1 hit,
// 2 miss, 3 skip, 4 chain, 5 parkNow
const PATHS = ['woke', 'hit', 'miss', 'skip', 'chain', 'parkNow'];
let path = 0;
const origSpin = SharedTransport.prototype.spinForLone;
SharedTransport.prototype.spinForLone = function () {
  if (this.spinSkip > 0) { ctr.skip++; path = 3; return origSpin.call(this); }
  if (performance.now() - this.lastTurnAt > 1) { ctr.chain++; path = 4; return origSpin.call(this); }
  const r = origSpin.call(this);
  if (this.spinBackoff === 0) { ctr.hit++; path = 1; } else { ctr.miss++; path = 2; }
  return r;
};
const { Waker } = await import(DIST + '/src/pool/shared/wake.js');
const ringSt = {};
const origRing = Waker.prototype.ring;
Waker.prototype.ring = function (q) {
  const sts = this.bells.map((b, s) => (this.present[s] ? b.state()[0] : '-')).join('');
  const r = origRing.call(this, q);
  const k = sts + (r ? '>woke' : '');
  ringSt[k] = (ringSt[k] ?? 0) + 1;
  return r;
};
const origPark = SharedTransport.prototype.parkNow;
SharedTransport.prototype.parkNow = function () { const r = origPark.call(this); if (r) { ctr.parkNow++; path = 5; } return r; };
const { PerformanceObserver } = await import('node:perf_hooks');
let gcN = 0, gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcN++; gcMs += e.duration; } }).observe({ entryTypes: ['gc'] });
const only = (process.env.ONLY ?? 'shoal,piscina,tinypool,workerpool').split(',');
const rt = await Runtime.start({ workers: 2 });
const noop = { fn: 'noop' };
const cs = [{ name: 'shoal', noop: () => rt.run(TASKS, 'noop'), close: () => rt.close() }];
if (only.includes('piscina')) { const p = new Piscina({ filename: TASKS.href, minThreads: 2, maxThreads: 2 }); cs.push({ name: 'piscina', noop: () => p.run(noop), close: () => p.destroy() }); }
if (only.includes('tinypool')) { const p = new Tinypool({ filename: TASKS.href, minThreads: 2, maxThreads: 2 }); cs.push({ name: 'tinypool', noop: () => p.run(noop), close: () => p.destroy() }); }
if (only.includes('workerpool')) { const p = workerpool.pool(WP.pathname, { minWorkers: 2, maxWorkers: 2, workerType: 'thread' }); cs.push({ name: 'workerpool', noop: () => p.exec('noop', []), close: () => p.terminate() }); }
const N = 5000;
for (const c of cs) for (let d = 0; d < 100_000; d += 10_000) { const ps = []; for (let i = 0; i < 10_000; i++) ps.push(c.noop()); await Promise.all(ps); }
const xs = new Float64Array(N);
const cpus = [], slows = [];
const ps = new Uint8Array(N);
async function timed(c) {
  const t0 = performance.now();
  if (c.name !== 'shoal') { for (let i = 0; i < N; i++) await c.noop(); return { mean: ((performance.now() - t0) * 1000) / N }; }
  for (const k of Object.keys(ctr)) ctr[k] = 0;
  const c0 = process.cpuUsage();
  let prev = t0;
  gcN = 0; gcMs = 0;
  for (let i = 0; i < N; i++) { path = 0; await c.noop(); const t = performance.now(); xs[i] = (t - prev) * 1000; ps[i] = path; prev = t; }
  const cu = process.cpuUsage(c0);
  const mean = ((performance.now() - t0) * 1000) / N;
  const s = Float64Array.from(xs).sort();
  let slow = 0, slowSum = 0, first = 0;
  for (let i = 0; i < N; i++) if (xs[i] > 20) { slow++; slowSum += xs[i]; }
  for (let i = 0; i < 100; i++) first += xs[i];
  const B = [5, 10, 20, 50, 100, 1e9];
  const tab = PATHS.map(() => B.map(() => 0));
  for (let i = 0; i < N; i++) tab[ps[i]][B.findIndex((b) => xs[i] < b)]++;
  if (process.env.V) for (let k = 0; k < PATHS.length; k++) if (tab[k].some((x) => x)) console.log(`   ${PATHS[k].padEnd(8)} <5 ${tab[k][0]} <10 ${tab[k][1]} <20 ${tab[k][2]} <50 ${tab[k][3]} <100 ${tab[k][4]} more ${tab[k][5]}`);
  const runs = {};
  for (let i = 0, k = 0; i <= N; i++) {
    if (i < N && xs[i] > 20) { k++; continue; }
    if (k > 0) { const b = k <= 2 ? String(k) : k <= 8 ? '3-8' : k <= 32 ? '9-32' : '33+'; runs[b] = (runs[b] ?? 0) + k; }
    k = 0;
  }
  if (process.env.V) console.log('   bell states when a call lands:', JSON.stringify(ringSt));
  for (const k of Object.keys(ringSt)) delete ringSt[k];
  if (process.env.V) console.log('   slow calls by the length of their run:', JSON.stringify(runs));
  const q = (p) => s[Math.floor(p * (N - 1))].toFixed(1);
  cpus.push((cu.user + cu.system) / N); slows.push(slow);
  return { mean, line: `p10 ${q(0.1)} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} >20µs ${slow} holding ${(slowSum / 1000).toFixed(1)} ms of ${(mean * N / 1000).toFixed(1)}; first100 ${(first / 100).toFixed(1)} µs; cpu ${((cu.user + cu.system) / N).toFixed(1)} µs/call gc ${gcN} ${gcMs.toFixed(1)} ms ${JSON.stringify(ctr)}` };
}
for (const c of cs) await timed(c);
cpus.length = 0; slows.length = 0;
const ROUNDS = +(process.env.ROUNDS ?? 5);
const means = {};
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < cs.length; i++) {
    const c = cs[(i + r) % cs.length];
    const o = await timed(c);
    (means[c.name] ??= []).push(o.mean);
    if (o.line && !process.env.Q) console.log(`round ${r} shoal mean ${o.mean.toFixed(1)} µs  ${o.line}`);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log('SUMMARY', Object.entries(means).map(([k, v]) => `${k} ${med(v).toFixed(1)} [${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}]`).join('  '), 'cpu', med(cpus).toFixed(1), 'slow', med(slows), 'ratio', means.piscina ? (med(means.piscina) / med(means.shoal)).toFixed(2) + 'x' : '');
for (const c of cs) await c.close();
