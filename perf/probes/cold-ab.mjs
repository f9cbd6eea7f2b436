/**
 * Probe: an interleaved A/B of shoal's cold call across builds, in one process, beside the
 * cold-wake floor, the lean pool (cold-lean-pool.mjs) and piscina. Each round times every
 * contender at every gap (order alternating per round); a figure is the median over rounds of each
 * round's median; CPU is the process's (all threads) over a contender's calls, per call.
 * usage: DISTS=/path/a/dist,/path/b/dist node perf/probes/cold-ab.mjs
 *        (GAPS=0,1,5,20 N=60 ROUNDS=3 WORKERS=2; default DISTS: this worktree's dist)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { coldWakeFloor, leanPool } from './lean-pool.mjs';
const here = new URL('../../dist', import.meta.url).pathname;
const DISTS = (process.env.DISTS ?? here).split(',');
const GAPS = (process.env.GAPS ?? '0,1,5,20').split(',').map(Number);
const N = Number(process.env.N ?? 60);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WORKERS = Number(process.env.WORKERS ?? 2);
const TASKS = `file://${here}/perf/pool-tasks.js`;
const lean = leanPool(TASKS);
const floor = coldWakeFloor();
const pis = new Piscina({ filename: TASKS, minThreads: WORKERS, maxThreads: WORKERS });
const cs = { floor, lean, piscina: () => pis.run({ fn: 'noop' }) };
const rts = [];
for (let i = 0; i < DISTS.length; i++) {
  const { Runtime } = await import(`${DISTS[i]}/src/index.js`);
  const rt = await Runtime.start({ workers: WORKERS });
  rts.push(rt);
  const url = new URL(`file://${DISTS[i]}/perf/pool-tasks.js`);
  cs[`shoal${String.fromCharCode(65 + i)}`] = () => rt.run(url, 'noop');
}
const keep = setInterval(() => {}, 1000);
for (const k in cs) for (let i = 0; i < 300; i++) await cs[k]();
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const names = Object.keys(cs);
console.log(`cold A/B: ${DISTS.map((d, i) => `shoal${String.fromCharCode(65 + i)}=${d}`).join(' ')}, ${WORKERS} workers, ${ROUNDS}x${N}`);
for (const gap of GAPS) {
  const lat = {}, cpu = {};
  for (let r = 0; r < ROUNDS; r++) for (const k of r % 2 ? [...names].reverse() : names) {
    const xs = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      if (gap) await sleep(gap); else await new Promise((r) => setImmediate(r));
      const t0 = performance.now(); await cs[k](); xs.push((performance.now() - t0) * 1000);
    }
    const c = process.cpuUsage(c0);
    (lat[k] ??= []).push(med(xs));
    (cpu[k] ??= []).push((c.user + c.system) / N);
  }
  console.log(`gap ${gap} ms: ` + names.map((k) => `${k} ${med(lat[k]).toFixed(0)} [${Math.min(...lat[k]).toFixed(0)}-${Math.max(...lat[k]).toFixed(0)}] (cpu ${med(cpu[k]).toFixed(0)})`).join('  '));
}
clearInterval(keep); for (const rt of rts) await rt.close(); await pis.destroy(); process.exit(0);
