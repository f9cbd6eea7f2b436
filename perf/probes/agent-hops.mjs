/**
 * Probe (not a benchmark suite): Savina's PingPong and ThreadRing as the suite runs them (fresh
 * agents every round; with `suite`, Counting, Fork-join throughput and create and the main-thread
 * nact/plain anchors between them), printing per round and per worker: rate, GCs (count, ms, max),
 * heap growth, and the host's spin counters when the build has them (host.ts spinCounters). THREADS=1 adds every
 * thread's CPU in the round; SHOAL_ROOT=<dir> runs another build (an A/B).
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-hops.mjs [rounds] [pp|ring|both] [suite]
 */
import { pathToFileURL } from 'node:url';

// SHOAL_ROOT=/path/to/another/build: A/B against that build (its dist/), this probe's helper agent
const root = process.env.SHOAL_ROOT ? pathToFileURL(`${process.env.SHOAL_ROOT}/`) : new URL('../../', import.meta.url);
const { Runtime } = await import(new URL('dist/src/index.js', root));

const R = Number(process.argv[2] ?? 6);
const which = process.argv[3] ?? 'both';
const suite = process.argv.includes('suite');
const url = new URL('dist/perf/savina-agents.js', root);
const statsUrl = new URL('./hop-stats-agent.mjs', import.meta.url);
const { nact, plain } = await import(new URL('dist/perf/savina-plain.js', root));
const rt = await Runtime.start({ workers: 2 });
const st = [await rt.agent(statsUrl, 'HopStats', [], { worker: 0 }), await rt.agent(statsUrl, 'HopStats', [], { worker: 1 })];
const mk = (cls, o = {}) => rt.agent(url, cls, [], o);
const read = () => Promise.all(st.map((s) => s.call('read')));
const diff = (a, b) => {
  const o = {};
  for (const k of Object.keys(b)) o[k] = typeof b[k] === 'number' ? b[k] - (a[k] ?? 0) : b[k];
  return o;
};
const show = (name, r, rate, s0, s1, msgs) => {
  const parts = s1.map((x, w) => {
    const g = diff(s0[w].gc, x.gc);
    // heap growth per message, when no GC fell in the round (else unknown)
    const per = g.n === 0 ? `${((x.heap - s0[w].heap) / msgs).toFixed(1)}B/msg` : '?B/msg';
    const h = diff(s0[w].hop, x.hop);
    return `w${w}: ${per} gc ${g.n} (${g.minor}/${g.major}) ${g.ms.toFixed(1)}ms max ${x.gc.maxMs.toFixed(1)} | spins ${h.spins ?? '-'} miss ${h.misses ?? '-'} skip ${h.skips ?? '-'} waits ${h.waits ?? '-'} forgiven ${h.forgiven ?? '-'} yld ${h.yields ?? '-'}`;
  });
  console.log(`${name} r${r} ${(rate / 1e6).toFixed(2)}M  ${parts.join('  ')}`);
};
// THREADS=1: the CPU every thread of this process used during a round (ms; /proc/self/task)
import { readdirSync, readFileSync } from 'node:fs';
const tick = 1000 / 100; // ms per clock tick (CLK_TCK 100 on Linux)
const threads = () => {
  const m = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(t, { name, ms: (Number(f[11]) + Number(f[12])) * tick });
    } catch {}
  }
  return m;
};
const showThreads = (a, b) => {
  if (!process.env.THREADS) return;
  const parts = [];
  for (const [t, x] of b) {
    const d = x.ms - (a.get(t)?.ms ?? 0);
    if (d > 0) parts.push(`${x.name}/${t}:${d}`);
  }
  console.log(`     threads ms: ${parts.join(' ')}`);
};
const all = { pp: [], ring: [] };
for (let r = -3; r < R; r++) {
  if (which !== 'ring') {
    const ping = await mk('Ping', { worker: 0, interleave: ['pong'] });
    const pong = await mk('Pong', { worker: 1 });
    const s0 = await read();
    const th0 = threads();
    const t0 = performance.now();
    await ping.call('run', pong, 40_000);
    const rate = 80_000 / ((performance.now() - t0) / 1000);
    const th1 = threads();
    show('pp  ', r, rate, s0, await read(), 80_000);
    showThreads(th0, th1);
    if (r >= 0) all.pp.push(rate);
    await Promise.all([ping.stop({ drain: false }), pong.stop({ drain: false })]);
    if (suite) {
      await plain.pingpong(40_000);
      await nact.pingpong(40_000);
    }
  }
  if (suite) {
    const counter = await mk('Counter', { worker: 0 });
    const producer = await mk('Producer', { worker: 0 });
    await producer.call('run', counter, 1_000_000);
    await Promise.all([counter.stop(), producer.stop()]);
    await plain.counting(1_000_000);
    await nact.counting(1_000_000);
    const ws = await Promise.all(Array.from({ length: 60 }, () => mk('FjWorker')));
    for (let i = 0; i < 10_000; i++) for (const w of ws) void w.send('work');
    await Promise.all(ws.map((w) => w.sync()));
    await Promise.all(ws.map((w) => w.stop({ drain: false })));
    await nact.fjThroughput(60, 10_000);
    const cs = await Promise.all(Array.from({ length: 40_000 }, () => mk('FjWorker')));
    for (const w of cs) void w.send('work');
    await Promise.all(cs.map((w) => w.sync()));
    await Promise.all(cs.map((w) => w.stop({ drain: false })));
    await plain.fjCreate(40_000);
  }
  if (which !== 'pp') {
    const leader = await mk('Leader', { worker: 0, interleave: ['finish'] });
    const nodes = await Promise.all(Array.from({ length: 100 }, (_, i) => mk('RingNode', { worker: i < 50 ? 0 : 1 })));
    await Promise.all(nodes.map((n, i) => n.call('link', nodes[(i + 1) % nodes.length], leader)));
    const s0 = await read();
    const th0 = threads();
    const t0 = performance.now();
    const done = leader.call('wait', 1);
    nodes[0].send('token', 100_000);
    await done;
    const rate = 100_001 / ((performance.now() - t0) / 1000);
    const th1 = threads();
    show('ring', r, rate, s0, await read(), 100_001);
    showThreads(th0, th1);
    if (r >= 0) all.ring.push(rate);
    await Promise.all([leader, ...nodes].map((n) => n.stop({ drain: false })));
    if (suite) {
      await plain.threadRing(100, 100_000);
      await nact.threadRing(100, 100_000);
    }
  }
}
await rt.close();
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [k, v] of Object.entries(all))
  if (v.length) console.log(`${k} median ${(med(v) / 1e6).toFixed(2)}M [${(Math.min(...v) / 1e6).toFixed(2)}-${(Math.max(...v) / 1e6).toFixed(2)}]`);
