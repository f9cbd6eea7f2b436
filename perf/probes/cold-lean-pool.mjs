/**
 * Probe (not a benchmark suite): a lean pool's cold round trip beside the cold-wake floor, piscina
 * and shoal (1 worker each). The lean pool: main writes (fnId, id, arg) into a SharedArrayBuffer
 * slot, notifies a worker parked in Atomics.wait and waits in Atomics.waitAsync; the worker calls
 * the task module's function and writes the result back; main resolves the caller's promise. No
 * codec, no records, no cancellation: it shows how much of a cold call the machine forces (the
 * lean path runs at the floor) and how much is the length of a pool's path on a cold vCPU.
 *
 * usage: npm run build && node perf/probes/cold-lean-pool.mjs   (medians of 2 rounds x 40 calls a gap)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { coldWakeFloor, leanPool } from './lean-pool.mjs';
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url).href;
const lean = leanPool(TASKS);
const floor = coldWakeFloor();
const pis = new Piscina({ filename: TASKS, minThreads: 1, maxThreads: 1 });
const { Runtime } = await import('../../dist/src/index.js');
const rt = await Runtime.start({ workers: 1 }); const rtNA = await Runtime.start({ workers: 1, ambient: false });
const cs = { floor, lean, piscina: () => pis.run({ fn: 'noop' }), shoal: () => rt.run(new URL(TASKS), 'noop'), shoalNA: () => rtNA.run(new URL(TASKS), 'noop') };
const keep = setInterval(() => {}, 1000);
for (const k in cs) for (let i = 0; i < 300; i++) await cs[k]();
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const gap of [0, 1, 5, 20]) {
  const row = {};
  for (let r = 0; r < 2; r++) for (const k in cs) {
    const xs = [];
    for (let i = 0; i < 40; i++) {
      if (gap) await sleep(gap); else await new Promise((r) => setImmediate(r));
      const t0 = performance.now(); await cs[k](); xs.push((performance.now() - t0) * 1000);
    }
    (row[k] ??= []).push(med(xs));
  }
  console.log(`gap ${gap}: ` + Object.entries(row).map(([k, v]) => `${k} ${Math.round(med(v))}`).join('  '));
}
clearInterval(keep); await rt.close(); await rtNA.close(); await pis.destroy(); process.exit(0);
