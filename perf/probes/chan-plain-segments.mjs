/**
 * Probe (not a benchmark suite): the chan-plain loop (a fresh worker `await ch.put(i)`, main
 * `for await`, N ints through `sharedChan(1024)`), with the producer timing each tenth of its puts,
 * counting its GCs (PerformanceObserver 'gc') and the bytes it allocated (v8 heap statistics), and
 * the wakes of parked sides (PUT_SEQ / TAKE_SEQ bumps). docs/measurements.md, 2026-12-07 11:00.
 *
 * usage: npm run build && node perf/probes/chan-plain-segments.mjs [rounds]
 *        (DIST=/path/to/another/dist for an A/B; N=300000; TASK=1 runs the producer as an rt.run task)
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { readFileSync, readdirSync } from 'node:fs';
const sched = (f = '/proc/thread-self/schedstat') => readFileSync(f, 'utf8').split(' ').map(Number);
const tasks = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => { try { return [t + ':' + readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(), sched(`/proc/self/task/${t}/schedstat`)]; } catch { return [t, [0, 0, 0]]; } }));
const DIST = (isMainThread ? process.env.DIST : workerData?.dist) ?? new URL('../../dist', import.meta.url).pathname;
const { sharedChan, fromDescriptor } = await import(DIST + '/src/shared-chan/index.js');
const L = await import(DIST + '/src/shared-chan/memory/layout.js');
const N = Number(process.env.N ?? 300_000);

function alloc() {
  const h = v8.getHeapStatistics();
  return h.total_heap_size; // coarse; the GC entries carry the rest
}

export async function produceTask(ch, n) {
  return produceLoop(ch, n);
}

async function produceLoop(ch, n) {
  const gcs = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push([e.startTime, e.duration, e.detail?.kind]); });
  obs.observe({ entryTypes: ['gc'] });
  const seg = n / 10;
  const fine = [];
  const FINE = Number(process.env.FINE ?? 0);
  const marks = [performance.now()];
  const s0 = sched();
  const ctl = ch.descriptor ? new Int32Array(ch.descriptor().descriptor.sab, ch.descriptor().descriptor.byteOffset, 128) : undefined;
  const wk = [[ctl[L.PUT_SEQ], ctl[L.TAKE_SEQ]]];
  const u0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    await ch.put(i);
    if (FINE && (i + 1) % FINE === 0 && i < 60000) fine.push([performance.now(), ctl[L.PUT_SEQ], ctl[L.TAKE_SEQ], ...sched()]);
    if ((i + 1) % seg === 0) { marks.push(performance.now()); wk.push([ctl[L.PUT_SEQ], ctl[L.TAKE_SEQ]]); }
  }
  ch.close();
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  return { marks, gcs, wk, heap: process.memoryUsage().heapUsed - u0, parks: globalThis.__parks, fine, s0, spin: globalThis.__spin };
}

if (!isMainThread && workerData?.probe) {
  const warm = Number(process.env.WARM ?? 0);
  if (warm > 0) {
    const t0 = performance.now();
    const p = sharedChan(1024);
    const it = p[Symbol.asyncIterator]();
    for (let i = 0; i < warm; i++) { await p.put(i); await it.next(); }
    console.log(`warm ${warm}: ${(performance.now() - t0).toFixed(1)} ms`);
  }
  parentPort.once('message', async () => {
    const ch = fromDescriptor(workerData.d);
    const r = await produceLoop(ch, workerData.n);
    parentPort.postMessage(r);
  });
  parentPort.postMessage('ready');
} else if (isMainThread) {
  const rounds = Number(process.argv[2] ?? 5);
  let rt;
  if (process.env.TASK) {
    const { Runtime } = await import(DIST + '/src/runtime/runtime.js');
    rt = await Runtime.start({ workers: 2 });
  }
  const FINEM = Number(process.env.FINE ?? 0);
  let mf;
  for (let r = 0; r < rounds; r++) {
    mf = [];
    const ch = sharedChan(1024);
    const { descriptor } = ch.descriptor();
    let w, res;
    let got = 0;
    let t0;
    if (rt) {
      globalThis.__c0 = process.cpuUsage();
      t0 = performance.now();
      mf.push([t0, ...sched()]);
      res = rt.run(new URL(import.meta.url), 'produceTask', [ch, N]);
      for await (const v of ch) { if (FINEM && ++got % FINEM === 0 && got <= 60000) mf.push([performance.now(), ...sched()]); else got++; }
      res = await res;
    } else {
      w = new Worker(new URL(import.meta.url), { workerData: { probe: 1, d: descriptor, n: N, dist: DIST } });
      await new Promise((ok) => w.once('message', ok));
      const done = new Promise((ok) => w.once('message', ok));
      globalThis.__t0 = process.env.TASKS ? tasks() : undefined;
      globalThis.__c0 = process.cpuUsage();
      mf.push([performance.now(), ...sched()]);
      t0 = performance.now();
      w.postMessage('go');
      for await (const v of ch) { if (FINEM && ++got % FINEM === 0 && got <= 60000) mf.push([performance.now(), ...sched()]); else got++; }
      res = await done;
    }
    const ms = performance.now() - t0;
    if (process.env.TASKS && globalThis.__t0) {
      const t1 = tasks();
      const rows = [];
      for (const k of Object.keys(t1)) { const a = globalThis.__t0[k] ?? [0, 0, 0]; const d = (t1[k][0] - a[0]) / 1e6; const wt = (t1[k][1] - a[1]) / 1e6; if (d > 0.5 || wt > 0.5) rows.push(`${k} run ${d.toFixed(1)} wait ${wt.toFixed(1)}`); }
      console.log('  threads (ms): ' + rows.join('; '));
    }
    const ctl = new Int32Array(descriptor.sab, descriptor.byteOffset, 128);
    const segs = [];
    for (let i = 1; i < res.marks.length; i++) segs.push(((N / 10) / (res.marks[i] - res.marks[i - 1]) / 1000).toFixed(1) + '/' + (res.wk[i][0] - res.wk[i - 1][0]) + '/' + (res.wk[i][1] - res.wk[i - 1][1]));
    const gcMs = res.gcs.reduce((a, g) => a + g[1], 0);
    console.log(
      `${(N / ms / 1000).toFixed(2)}M/s ${ms.toFixed(0)}ms cpu ${((c => (c.user + c.system) / N)(process.cpuUsage(globalThis.__c0))).toFixed(2)}us/value  segs(M/s) ${segs.join(' ')}  ` +
        `worker gc ${res.gcs.length}x ${gcMs.toFixed(1)}ms [${res.gcs.slice(0, 4).map((g) => g[1].toFixed(1)).join(' ')}]  ` +
        `wakes: takers ${ctl[L.PUT_SEQ]} putters ${ctl[L.TAKE_SEQ]}`,
    );
    if (res.fine?.length) {
      const f = [[res.marks[0], res.wk[0][0], res.wk[0][1], ...res.s0], ...res.fine];
      const out = [];
      for (let i = 1; i < f.length; i++) out.push(`${(f[i][0] - f[i - 1][0]).toFixed(1)}/${f[i][1] - f[i - 1][1]}/${f[i][2] - f[i - 1][2]} run ${((f[i][3] - f[i - 1][3]) / 1e6).toFixed(1)} wait ${((f[i][4] - f[i - 1][4]) / 1e6).toFixed(1)}`);
      console.log('  fine (ms/mainwakes/workerwakes per ' + process.env.FINE + '): ' + out.join(' '));
    }
    if (mf.length > 1) {
      const out = [];
      for (let i = 1; i < mf.length; i++) out.push(`${(mf[i][0] - mf[i - 1][0]).toFixed(1)} run ${((mf[i][1] - mf[i - 1][1]) / 1e6).toFixed(1)} wait ${((mf[i][2] - mf[i - 1][2]) / 1e6).toFixed(1)}`);
      console.log('  main fine: ' + out.join(' | '));
    }
    if (process.env.PARKS) {
      const st = (a) => { if (!a || !a.length) return '-'; const x = a.map((p) => p[1] * 1000).sort((p, q) => p - q); const s = x.reduce((p, q) => p + q, 0); return `${x.length}x sum ${(s / 1000).toFixed(1)}ms p50 ${x[x.length >> 1].toFixed(0)}us p90 ${x[Math.floor(x.length * 0.9)].toFixed(0)}us max ${x[x.length - 1].toFixed(0)}us`; };
      console.log(`  main parks ${st(globalThis.__parks)} spins ${globalThis.__spin}; worker parks ${st(res.parks)} spins ${res.spin}`);
      globalThis.__parks = []; globalThis.__spin = [0, 0];
    }
    if (w) await w.terminate();
  }
  if (rt) await rt.close();
}
