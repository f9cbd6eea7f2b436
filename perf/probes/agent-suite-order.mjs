/**
 * Probe (not a benchmark suite): the Savina suite's own rounds (perf/agent-savina.bench.ts: every
 * case in turn, each followed by its plain, nact and comlink anchors, fresh agents each case),
 * printing for every PingPong and ThreadRing round its rate and each worker's spin counters
 * (src/agent/worker/host.ts spinCounters) and GCs: to see what the suite's rounds meet that the
 * same case alone does not.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-suite-order.mjs [rounds]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Runtime } from 'shoal';

const bench = await import(new URL('../../dist/perf/agent-savina.bench.js', import.meta.url));
const R = Number(process.argv[2] ?? 5);
const z = bench.sizes(1);
const rt = await Runtime.start({ workers: 2 });
const statsUrl = new URL('./hop-stats-agent.mjs', import.meta.url);
const st = [await rt.agent(statsUrl, 'HopStats', [], { worker: 0 }), await rt.agent(statsUrl, 'HopStats', [], { worker: 1 })];
const read = () => Promise.all(st.map((s) => s.call('read')));
const cw = new Worker(fileURLToPath(new URL('../../dist/perf/savina-comlink-worker.js', import.meta.url)));
const api = Comlink.wrap(nodeEndpoint(cw));
/** CPU ms of every thread of this process (/proc/self/task; 10 ms ticks), by thread id */
const threads = () => {
  const m = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(t, (Number(f[11]) + Number(f[12])) * 10);
    } catch {}
  }
  return m;
};
for (let r = -3; r < R; r++) {
  for (const c of bench.CASES) {
    const watch = c === 'pingpong' || c === 'thread_ring';
    const s0 = watch ? await read() : undefined;
    const t0 = threads();
    const rate = await bench.shoalCase(rt, c, z);
    const t1 = threads();
    if (watch) {
      const s1 = await read();
      const w = s1.map((x, i) => {
        const h = Object.fromEntries(Object.keys(x.hop).map((k) => [k, x.hop[k] - s0[i].hop[k]]));
        const g = x.gc.n - s0[i].gc.n;
        return `w${i}: gc ${g} miss ${h.misses} forgiven ${h.forgiven} skip ${h.skips} waits ${h.waits}`;
      });
      // threads that used CPU in the case, by id (main is the lowest id, the two pool workers the
      // pair that ran the case; the others: V8's platform threads (GC helpers), libuv's, comlink's)
      const busy = [...t1].map(([t, ms]) => [t, ms - (t0.get(t) ?? 0)]).filter(([, d]) => d > 0);
      console.log(`${c.padEnd(11)} r${r} ${(rate / 1e6).toFixed(2)}M  ${w.join('  ')}`);
      console.log(`            threads ms: ${busy.map(([t, d]) => `${t}:${d}`).join(' ')}`);
    }
    await bench.plainCase(c, z);
    await bench.nactCase(c, z);
    await bench.comlinkCase(api, c, z);
  }
}
api[Comlink.releaseProxy]();
await cw.terminate();
await rt.close();
