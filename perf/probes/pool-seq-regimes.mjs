/**
 * Probe (not a benchmark suite): a sequential `await rt.run()` loop of no-ops after piscina's
 * burst, timed in chunks of 250, with main's side traced by wrapping internals of dist: each
 * worker bell's state when a call lands (p parked, s spinning, r running), main's lone-call spin
 * (hit, miss, skipped), parkNow, pump turns, parks and wakes. Prints one line per round and a
 * SUMMARY (median and mean µs a chunk, share of calls that met both workers parked).
 * docs/measurements.md, 2026-12-07 "regime flips".
 *
 * usage: npm run build && node perf/probes/pool-seq-regimes.mjs   (V=1: every chunk's counters;
 * ROUNDS=n; DIST=/path/to/another/dist for an A/B against another build)
 */
import { Piscina } from 'piscina';
const DIST = process.env.DIST ?? new URL('../../dist', import.meta.url).pathname;
const { Runtime } = await import(DIST + '/src/index.js');
const { SharedTransport } = await import(DIST + '/src/pool/shared/main.js');
const { Waker } = await import(DIST + '/src/pool/shared/wake.js');
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url);
const ctr = { ringSt: {}, spinHit: 0, spinMiss: 0, spinSkip: 0, spinChain: 0, parkNow: 0};
const origRing = Waker.prototype.ring;
Waker.prototype.ring = function (q) {
  const sts = this.bells.map((b, s) => (this.present[s] ? b.state()[0] : '-')).join('');
  ctr.ringSt[sts] = (ctr.ringSt[sts] ?? 0) + 1;
  return origRing.call(this, q);
};
const origSpin = SharedTransport.prototype.spinForLone;
SharedTransport.prototype.spinForLone = function () {
  if (this.spinSkip > 0) { ctr.spinSkip++; return origSpin.call(this); }
  if (performance.now() - this.lastTurnAt > 1) { ctr.spinChain++; return origSpin.call(this); }
  const r = origSpin.call(this);
  if (this.spinBackoff === 0) ctr.spinHit++; else ctr.spinMiss++;
  return r;
};
const origPark = SharedTransport.prototype.parkNow;
SharedTransport.prototype.parkNow = function () { const r = origPark.call(this); if (r) ctr.parkNow++; return r; };
const rt = await Runtime.start({ workers: 2 });
const tr = rt.pool.transport;
const origTurn = tr.turn; tr.turn = () => { ctr.turns = (ctr.turns ?? 0) + 1; origTurn(); };
const origWake = tr.parker.onWake; tr.parker.onWake = (slept) => { ctr.wakes = (ctr.wakes ?? 0) + 1; if (slept) ctr.wakeSlept = (ctr.wakeSlept ?? 0) + 1; origWake(slept); };
const origPk2 = tr.parker.park.bind(tr.parker); tr.parker.park = (s) => { const r = origPk2(s); if (r) ctr.parks = (ctr.parks ?? 0) + 1; return r; };
const pis = new Piscina({ filename: TASKS.href, minThreads: 2, maxThreads: 2 });
const noop = { fn: 'noop' };
const gcs = [];
const { PerformanceObserver } = await import('node:perf_hooks');
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push(e.duration); }).observe({ entryTypes: ['gc'] });
async function burst(f, n) { const ps = []; for (let i = 0; i < n; i++) ps.push(f()); await Promise.all(ps); }
const all = []; let pp = 0, calls = 0;
const ROUNDS = +(process.env.ROUNDS ?? 4);
for (let r = 0; r < ROUNDS; r++) {
  await burst(() => pis.run(noop), 20000);
  for (let i = 0; i < 5000; i++) await pis.run(noop);
  await burst(() => rt.run(TASKS, 'noop'), 20000);
  await burst(() => pis.run(noop), 20000);
  const line = [];
  for (let c = 0; c < 20; c++) {
    for (const k of Object.keys(ctr)) ctr[k] = k === 'ringSt' ? {} : 0;
    gcs.length = 0;
    const t0 = performance.now();
    for (let i = 0; i < 250; i++) await rt.run(TASKS, 'noop');
    const us = ((performance.now() - t0) * 1000) / 250;
    line.push(`${us.toFixed(1)}`); all.push(us); calls += 250; pp += ctr.ringSt.pp ?? 0;
    if (process.env.V) console.log(r, c, us.toFixed(1), JSON.stringify(ctr), 'gc', gcs.length, gcs.reduce((a, b) => a + b, 0).toFixed(2));
  }
  console.log('round', r, line.join(' '));
}
all.sort((a, b) => a - b);
console.log(`SUMMARY median ${all[all.length >> 1].toFixed(1)} mean ${(all.reduce((a, b) => a + b, 0) / all.length).toFixed(1)} both-parked ${(100 * pp / calls).toFixed(1)}% chunks>20us ${all.filter((x) => x > 20).length}/${all.length}`);
await rt.close(); await pis.destroy();
