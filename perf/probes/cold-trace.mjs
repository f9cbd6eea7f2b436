/**
 * Probe (not a benchmark suite): a cold call's steps, timed with cross-thread stamps
 * (performance.timeOrigin + performance.now(), comparable across threads; ~90 ns a read), the lean
 * pool of cold-lean-pool.mjs beside shoal, 1 worker each. Each row is the median over calls of a
 * step's time after the call began (the caller's own stamp), and how many calls reached it.
 * shoal's stamps are not in the source: apply them to a scratch build first.
 *
 * usage: git apply perf/probes/cold-trace.patch && npm run build && node perf/probes/cold-trace.mjs
 *        (then `git checkout -- src && rm src/pool/shared/trace.ts`);
 *        env: GAPS=0,1,5,20 N=60 ROUNDS=2 WORKERS=1; DIST=<a stamped dist>;
 *        TRACE_AB=<distA>,<distB>: two stamped builds side by side (SHOAL_AB_OLD=1 is set while the
 *        first loads, for a build that keeps the old behaviour behind that flag);
 *        BUSY=<µs>: replace shoal by the lean pool with main busy that long after its notify;
 *        BUSYW=<µs>: the lean worker busy that long after its notify; LEANTO=<ms>: its wait's timeout.
 */
import { Worker, setEnvironmentData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
const DIST = process.env.DIST ?? new URL('../../dist', import.meta.url).pathname;
const TASKS = `file://${DIST}/perf/pool-tasks.js`;
const GAPS = (process.env.GAPS ?? '0,1,5,20').split(',').map(Number);
const N = Number(process.env.N ?? 60);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const WORKERS = Number(process.env.WORKERS ?? 1);
const tsab = new SharedArrayBuffer(8 * 48);
const T = new Float64Array(tsab);
setEnvironmentData('shoal:trace', tsab);
const o = performance.timeOrigin;
const st = (k) => { if (T[k] === 0) T[k] = o + performance.now(); };
// lean pool, with the same stamps
const sab = new SharedArrayBuffer(4096);
const w = new Int32Array(sab);
const wk = new Worker(`const { workerData: { sab, url, tsab, BUSYW, LEANTO } } = require('node:worker_threads');
const T = new Float64Array(tsab); const o = performance.timeOrigin; const st = (k) => { if (T[k] === 0) T[k] = o + performance.now(); };
import(url).then((mod) => { const fns = [mod.noop]; const w = new Int32Array(sab); let seen = 0;
for (;;) { st(11); Atomics.wait(w, 0, seen, LEANTO); st(5); seen = Atomics.load(w, 0); const fn = fns[w[4]]; const id = w[5]; st(6);
  st(7); const r = fn(w[6]); st(8); w[8] = id; w[9] = r === undefined ? 0 : 1; Atomics.add(w, 1, 1); st(9); Atomics.notify(w, 1); st(10);
  if (BUSYW) { const end = performance.now() + BUSYW / 1000; while (performance.now() < end); } } });`,
  { eval: true, workerData: { sab, url: TASKS, tsab, BUSYW: Number(process.env.BUSYW ?? 0), LEANTO: Number(process.env.LEANTO ?? Infinity) } });
wk.unref();
let nextId = 1;
const pending = new Map();
function onResult() { st(12); const id = w[8]; const p = pending.get(id); pending.delete(id); st(14); p(w[9]); }
const BUSY = Number(process.env.BUSY ?? 0);
function lean(busy = 0) {
  return new Promise((res) => {
    st(1);
    const id = nextId++;
    pending.set(id, res);
    w[4] = 0; w[5] = id; w[6] = 7;
    const before = Atomics.load(w, 1);
    Atomics.add(w, 0, 1); Atomics.notify(w, 0); st(3);
    if (busy) { const end = performance.now() + busy / 1000; while (performance.now() < end); }
    const r = Atomics.waitAsync(w, 1, before); st(4);
    if (r.async) r.value.then(onResult); else onResult();
  });
}
// TRACE_AB=dirA,dirB: shoal from two builds (SHOAL_AB_OLD=1 set while the first one loads and starts)
const cs = { lean };
const rts = [];
const AB = process.env.TRACE_AB?.split(',');
for (const [i, d] of (AB ?? [DIST]).entries()) {
  if (AB && i === 0) process.env.SHOAL_AB_OLD = '1';
  const { Runtime } = await import(`${d}/src/index.js`);
  const rt = await Runtime.start({ workers: WORKERS });
  delete process.env.SHOAL_AB_OLD;
  rts.push(rt);
  const url = new URL(`file://${d}/perf/pool-tasks.js`);
  cs[AB ? (i === 0 ? 'before' : 'after') : 'shoal'] = () => rt.run(url, 'noop');
}
if (BUSY) cs.shoal = () => lean(BUSY);
const keep = setInterval(() => {}, 1000);
for (const k in cs) for (let i = 0; i < 300; i++) await cs[k]();
if (process.env.MARK) console.log('WARM DONE');
const NAMES = { 1: 'submit', 2: 'encoded', 3: 'worker rung', 4: 'main parked', 5: 'w: left wait', 6: 'w: claimed', 7: 'w: fn in', 8: 'w: fn out', 9: 'w: published', 10: 'w: main rung', 11: 'w: parked again', 12: 'main woke', 14: 'settle', 15: 'caller resumed', 16: 'w: park timed out', 17: 'w: wake lag read', 18: 'w: claimSome', 19: 'w: q.claim', 20: 'w: decoded', 21: 'w: runner.submit', 22: 'w: args revived', 23: 'w: result()', 24: 'w: encoded', 25: 'w: written', 26: 'w: flush()', 27: 'rt.run', 28: 'rec made', 29: 'tr.submit', 30: 'endBurst', 31: 'submit done', 13: 'main turn', 32: 'w: turn after claim', 33: 'w: scheduleTurn', 34: 'w: next turn', 35: 'w: idle()', 36: 'w: mayBlock done', 37: 'w: idleParkMs done' };
const med = (xs) => { const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN; };
for (const gap of GAPS) {
  const rows = {};
  const lat = {};
  const keys = Object.keys(cs);
  for (let r = 0; r < ROUNDS; r++) for (const k of r % 2 ? [...keys].reverse() : keys) {
    for (let i = 0; i < N; i++) {
      if (gap) await sleep(gap); else await new Promise((r) => setImmediate(r));
      if (i > 0) { // the previous call's stamps, the worker's re-park included
        for (const j in NAMES) if (T[j] > 0) ((rows[k] ??= {})[j] ??= []).push((T[j] - T[0]) * 1000);
      }
      T.fill(0);
      T[0] = o + performance.now();
      const t0 = performance.now();
      await cs[k]();
      st(15);
      ((lat[k] ??= [])).push((performance.now() - t0) * 1000);
    }
  }
  const last = keys[keys.length - 1];
  console.log(`gap ${gap} ms: latency ` + keys.map((k) => `${k} ${med(lat[k]).toFixed(0)}`).join(' ') + ` µs (medians of ${ROUNDS * N}); steps: µs after the call began (median), calls seen`);
  for (const j of Object.keys(NAMES).sort((x, y) => (med(rows[last]?.[x] ?? []) || 0) - (med(rows[last]?.[y] ?? []) || 0))) {
    if (!keys.some((k) => rows[k]?.[j])) continue;
    console.log(`  ${NAMES[j].padEnd(18)}` + keys.map((k) => { const a = rows[k]?.[j]; return ` ${k} ${a ? med(a).toFixed(0).padStart(5) : '    -'} (${(a?.length ?? 0).toString().padStart(3)})`; }).join(''));
  }
}
clearInterval(keep); for (const rt of rts) await rt.close(); process.exit(0);
