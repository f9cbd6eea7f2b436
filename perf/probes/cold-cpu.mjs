/**
 * Probe (not a benchmark suite): where the CPU of a cold `rt.run` goes, per thread. One no-op call
 * after an idle gap (setImmediate, 1, 5, 20 ms), N calls per gap; per-thread CPU from
 * /proc/self/task/<tid>/schedstat (ns on CPU), split into main, each pool worker, and the rest
 * (V8 platform and libuv threads). Also: each worker bell's state when a call lands (wake.ts ring).
 * WHO=shoal|piscina (default both, alternating per gap).
 *
 * usage: npm run build && node perf/probes/cold-cpu.mjs   (N=200 calls a gap; GAPS=0,1,5,20;
 *   WHO=shoal,piscina; AMB=0: shoal without ambient cancellation; DIST=/path/to/dist for an A/B)
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
const DIST = process.env.DIST ?? new URL('../../dist', import.meta.url).pathname;
const { Runtime } = await import(DIST + '/src/index.js');
const { Waker } = await import(DIST + '/src/pool/shared/wake.js');
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url);
const TID = '/tmp/shoal-probe-tid.mjs';
writeFileSync(TID, "import { readlinkSync } from 'node:fs';\nexport function tid() { return +readlinkSync('/proc/thread-self').split('/').pop(); }\nexport function slowTid() { const e = performance.now() + 2; while (performance.now() < e); return tid(); }\nexport default function () { return tid(); }\n");
const N = +(process.env.N ?? 200);
const WHO = process.env.WHO ?? 'shoal,piscina';
const states = {};
const origRing = Waker.prototype.ring;
Waker.prototype.ring = function (q) {
  const sts = this.bells.map((b, s) => (this.present[s] ? b.state()[0] : '-')).join('');
  states[sts] = (states[sts] ?? 0) + 1;
  return origRing.call(this, q);
};
function cpu() {
  const m = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try { m.set(+t, +readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0] / 1000); } catch {}
  }
  return m;
}
const tids0 = new Set(readdirSync('/proc/self/task').map(Number));
const rt = await Runtime.start({ workers: 2, ambient: process.env.AMB !== '0' });
const tids1 = new Set(readdirSync('/proc/self/task').map(Number));
const pis = new Piscina({ filename: TASKS.href, minThreads: 2, maxThreads: 2 });
await pis.run({ fn: 'noop' }); await pis.run({ fn: 'noop' });
const shoalTids = new Set(), pisTids = new Set();
for (const t of tids1) if (!tids0.has(t)) shoalTids.add(t);
for (const t of readdirSync('/proc/self/task').map(Number)) if (!tids1.has(t)) pisTids.add(t);
console.log('shoal workers', [...shoalTids], 'piscina workers', [...pisTids]);
const noop = { fn: 'noop' };
const cs = { shoal: () => rt.run(TASKS, 'noop'), piscina: () => pis.run(noop) };
for (const k of Object.keys(cs)) for (let i = 0; i < 500; i++) await cs[k]();
const main = process.pid;
console.log('threads', [...tids0].map((t) => t - main).join(' '), '| shoal', [...shoalTids].map((t) => t - main).join(' '), '| piscina', [...pisTids].map((t) => t - main).join(' '));
const GAPS = (process.env.GAPS ?? '0,1,5,20').split(',').map(Number);
for (const gap of GAPS) {
  for (const who of WHO.split(',')) {
    for (const k of Object.keys(states)) delete states[k];
    const n = gap >= 5 ? N / 2 : N;
    const xs = [];
    const c0 = cpu();
    for (let i = 0; i < n; i++) {
      if (gap > 0) await sleep(gap); else await new Promise((r) => setImmediate(r));
      const t0 = performance.now();
      await cs[who]();
      xs.push((performance.now() - t0) * 1000);
    }
    const c1 = cpu();
    const parts = { main: 0, shoalW: 0, pisW: 0, other: 0 };
    const per = [];
    for (const [t, v] of c1) {
      const d = (v - (c0.get(t) ?? 0)) / n;
      if (t === main) parts.main += d;
      else if (shoalTids.has(t)) { parts.shoalW += d; per.push(`s${t - main}:${d.toFixed(0)}`); }
      else if (pisTids.has(t)) parts.pisW += d;
      else { parts.other += d; if (d > 5) per.push(`o${t === main ? 'M' : t - main}:${d.toFixed(0)}`); }
    }
    xs.sort((a, b) => a - b);
    const tot = parts.main + parts.shoalW + parts.pisW + parts.other;
    console.log(`gap ${gap} ${who.padEnd(7)} p50 ${xs[n >> 1].toFixed(0).padStart(4)} µs  cpu/call ${tot.toFixed(0).padStart(4)}: main ${parts.main.toFixed(0)} shoalW ${parts.shoalW.toFixed(0)} (${per.join(' ')}) pisW ${parts.pisW.toFixed(0)} other ${parts.other.toFixed(0)}  ${who === 'shoal' ? JSON.stringify(states) : ''}`);
  }
}
await rt.close(); await pis.destroy();
