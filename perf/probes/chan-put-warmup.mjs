/**
 * Probe (not a benchmark suite): what a fresh worker's first 300k plain puts cost, on its own
 * thread and on V8's helper threads (TurboFan's concurrent compiles, parallel GC), with no other
 * thread involved: the worker runs `await ch.put(i)` on a `sharedChan(1024)` and drains with
 * `tryTake()` every 512 puts (so no put ever waits). Reports the loop's wall time, its first
 * and second 30k, and the CPU of the worker and of the helper threads (/proc schedstat) over the
 * loop. docs/measurements.md, 2026-12-07 11:00.
 *
 * usage: npm run build && node perf/probes/chan-put-warmup.mjs [rounds]   (DIST=/path/to/dist for an A/B)
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
const DIST = (isMainThread ? process.env.DIST : workerData?.dist) ?? new URL('../../dist', import.meta.url).pathname;
const { sharedChan } = await import(DIST + '/src/shared-chan/index.js');
const N = 300_000;
const sched = (f) => readFileSync(f, 'utf8').split(' ').map(Number);
const helpers = () => {
  let run = 0;
  const me = readlinkSync('/proc/thread-self').split('/').pop();
  for (const t of readdirSync('/proc/self/task')) {
    if (t === me || t === String(process.pid)) continue; // this worker and main
    try {
      run += sched(`/proc/self/task/${t}/schedstat`)[0];
    } catch {}
  }
  return run / 1e6;
};
if (!isMainThread) {
  const ch = sharedChan(1024);
  const h0 = helpers();
  const c0 = sched('/proc/thread-self/schedstat')[0];
  const t0 = performance.now();
  const m = [];
  for (let i = 0; i < N; i++) {
    await ch.put(i);
    if ((i & 511) === 511) while (ch.tryTake() !== undefined) {}
    if (i === 29_999 || i === 59_999) m.push(performance.now());
  }
  const ms = performance.now() - t0;
  const cpu = (sched('/proc/thread-self/schedstat')[0] - c0) / 1e6;
  parentPort.postMessage({ ms, first: m[0] - t0, second: m[1] - m[0], cpu, helpers: helpers() - h0 });
} else {
  const rounds = Number(process.argv[2] ?? 5);
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { dist: DIST } });
    const x = await new Promise((ok) => w.once('message', ok));
    rows.push(x);
    console.log(`loop ${x.ms.toFixed(1)} ms (first 30k ${x.first.toFixed(1)}, next 30k ${x.second.toFixed(1)})  worker CPU ${x.cpu.toFixed(1)} ms  helper threads ${x.helpers.toFixed(1)} ms`);
    await w.terminate();
  }
  const med = (k) => { const a = rows.map((x) => x[k]).sort((p, q) => p - q); return a[a.length >> 1].toFixed(1); };
  console.log(`median: loop ${med('ms')} ms, first 30k ${med('first')}, next ${med('second')}, worker CPU ${med('cpu')}, helpers ${med('helpers')}`);
}
