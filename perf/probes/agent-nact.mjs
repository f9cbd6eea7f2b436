/**
 * Probe (not a benchmark suite): Savina's Fork-join throughput, ThreadRing and Fork-join create on
 * shoal agents, each round followed by its anchor in the same process (nact for the first two,
 * comlink's creation loop is not here: the suite runs it), every round printed with its ratio.
 * Agents are made fresh per round, as the suite makes them. For A/B comparisons of the local path
 * against nact without the whole suite's time.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-nact.mjs [rounds] [fj|ring|fjc]...
 *        DIST=/path/to/other/dist for the other build of an A/B pair; NO_ANCHOR=1 skips nact (profiles)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const dist = process.env.DIST ?? new URL('../../dist/', import.meta.url).pathname;
const { Runtime } = await import(`${dist}/src/index.js`);
const { nact } = await import(`${dist}/perf/savina-plain.js`);
const url = new URL(`file://${dist}/perf/savina-agents.js`);

const R = Number(process.argv[2] ?? 6);
const only = new Set(process.argv.slice(3));
const want = (k) => only.size === 0 || only.has(k);
const rt = await Runtime.start({ workers: 2 });
const mk = (cls, o = {}) => rt.agent(url, cls, [], o);
const rows = { fj: [], ring: [], fjc: [] };
// main thread's own CPU (utime + stime of /proc/thread-self/stat, 10 ms ticks): a figure the
// machine's load moves far less than a rate
const mainCpuMs = () => {
  const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const cpu = { fj: [], ring: [], fjc: [] };
let lastCpuUs = 0;
const rate = async (f) => {
  const c0 = mainCpuMs();
  const t0 = performance.now();
  const n = await f();
  lastCpuUs = ((mainCpuMs() - c0) * 1000) / n;
  return n / ((performance.now() - t0) / 1000);
};
for (let r = 0; r < R; r++) {
  if (want('fj')) {
    const ws = await Promise.all(Array.from({ length: 60 }, () => mk('FjWorker')));
    const s = await rate(async () => {
      for (let i = 0; i < 10_000; i++) for (const w of ws) void w.send('work');
      await Promise.all(ws.map((w) => w.sync()));
      return 600_000;
    });
    cpu.fj.push(lastCpuUs);
    await Promise.all(ws.map((w) => w.stop({ drain: false })));
    const a = process.env.NO_ANCHOR ? Number.NaN : await rate(() => nact.fjThroughput(60, 10_000));
    rows.fj.push([s, a]);
  }
  if (want('ring')) {
    const leader = await mk('Leader', { worker: 0, interleave: ['finish'] });
    const nodes = await Promise.all(Array.from({ length: 100 }, (_, i) => mk('RingNode', { worker: i < 50 ? 0 : 1 })));
    await Promise.all(nodes.map((n, i) => n.call('link', nodes[(i + 1) % nodes.length], leader)));
    const s = await rate(async () => {
      const done = leader.call('wait', 1);
      void nodes[0].send('token', 100_000);
      await done;
      return 100_001;
    });
    cpu.ring.push(lastCpuUs);
    await Promise.all([leader, ...nodes].map((h) => h.stop({ drain: false })));
    const a = process.env.NO_ANCHOR ? Number.NaN : await rate(() => nact.threadRing(100, 100_000));
    rows.ring.push([s, a]);
  }
  if (want('fjc')) {
    const s = await rate(async () => {
      const ws = await Promise.all(Array.from({ length: 40_000 }, () => mk('FjWorker')));
      for (const w of ws) void w.send('work');
      await Promise.all(ws.map((w) => w.sync()));
      await Promise.all(ws.map((w) => w.stop({ drain: false })));
      return 40_000;
    });
    cpu.fjc.push(lastCpuUs);
    rows.fjc.push([s, Number.NaN]);
  }
}
await rt.close();
const k = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`);
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const [name, xs] of Object.entries(rows)) {
  if (!xs.length) continue;
  const warm = xs.slice(1); // the first round tiers up the fresh worker (the suite's warm-up round)
  const ratios = warm.map(([s, a]) => s / a);
  console.log(
    `${name.padEnd(5)} shoal ${k(med(warm.map((x) => x[0])))} [${warm.map((x) => k(x[0])).join(' ')}]` +
      (Number.isNaN(xs[0][1])
        ? ''
        : `  nact ${k(med(warm.map((x) => x[1])))}  ratio median ${med(ratios).toFixed(2)}x [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`) +
      `  (cold round 1: ${k(xs[0][0])})  main CPU ${med(cpu[name].slice(1)).toFixed(3)} µs a message`,
  );
}
