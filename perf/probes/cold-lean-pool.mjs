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
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
const TASKS = new URL('../../dist/perf/pool-tasks.js', import.meta.url).href;
const sab = new SharedArrayBuffer(4096);
const w = new Int32Array(sab);
const wk = new Worker(`const { workerData: { sab, url } } = require('node:worker_threads');
import(url).then((mod) => { const fns = [mod.noop]; const w = new Int32Array(sab); let seen = 0;
for (;;) { Atomics.wait(w, 0, seen); seen = Atomics.load(w, 0); const fn = fns[w[4]]; const id = w[5];
  const r = fn(w[6]); w[8] = id; w[9] = r === undefined ? 0 : 1; Atomics.add(w, 1, 1); Atomics.notify(w, 1); } });`,
  { eval: true, workerData: { sab, url: TASKS } });
wk.unref();
let nextId = 1;
const pending = new Map();
let parked = false;
function onResult() {
  parked = false;
  const id = w[8];
  const p = pending.get(id); pending.delete(id); p(w[9]);
}
function lean() {
  return new Promise((res) => {
    const id = nextId++;
    pending.set(id, res);
    w[4] = 0; w[5] = id; w[6] = 7;
    const before = Atomics.load(w, 1);
    Atomics.add(w, 0, 1); Atomics.notify(w, 0);
    const r = Atomics.waitAsync(w, 1, before);
    if (r.async) r.value.then(onResult); else onResult();
  });
}
const pis = new Piscina({ filename: TASKS, minThreads: 1, maxThreads: 1 });
const floorW = new Int32Array(new SharedArrayBuffer(16));
const fw = new Worker(`const { workerData: sab } = require('node:worker_threads'); const a = new Int32Array(sab);
for (;;) { Atomics.wait(a, 0, 0); Atomics.store(a, 0, 0); Atomics.add(a, 1, 1); Atomics.notify(a, 1); }`, { eval: true, workerData: floorW.buffer });
fw.unref();
async function floor() { const b = Atomics.load(floorW, 1); Atomics.store(floorW, 0, 1); Atomics.notify(floorW, 0); const r = Atomics.waitAsync(floorW, 1, b); if (r.async) await r.value; }
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
