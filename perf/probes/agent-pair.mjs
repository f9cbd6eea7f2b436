/**
 * Probe (not a benchmark suite): the shoal side of Savina's PingPong and ThreadRing only (the
 * cases whose messages cross the two workers), R rounds each in one 2-worker Runtime, printing
 * every round: for A/B comparisons of hop changes without the anchors' time.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-pair.mjs [rounds] [pingpong|ring|fjc]
 */
import { Runtime } from 'shoal';

const R = Number(process.argv[2] ?? 5);
const only = process.argv[3];
const url = new URL('../../dist/perf/savina-agents.js', import.meta.url);
const rt = await Runtime.start({ workers: 2 });
const out = { pingpong: [], ring: [], fjc: [] };
const mk = (cls, o = {}) => rt.agent(url, cls, [], o);
const ping = await mk('Ping', { worker: 0, interleave: ['pong'] });
const pong = await mk('Pong', { worker: 1 });
const leader = await mk('Leader', { worker: 0, interleave: ['finish'] });
// ring1: the whole ring on worker 0 (no crossings), to tell the crossings' cost from the local hops'
const nodes = await Promise.all(
  Array.from({ length: 100 }, (_, i) => mk('RingNode', { worker: i < 50 || only === 'ring1' ? 0 : 1 })),
);
await Promise.all(nodes.map((n, i) => n.call('link', nodes[(i + 1) % nodes.length], leader)));
for (let r = 0; r < R; r++) {
  if (!only || only === 'pingpong') {
    const t0 = performance.now();
    await ping.call('run', pong, 40_000);
    out.pingpong.push(80_000 / ((performance.now() - t0) / 1000));
  }
  if (!only || only === 'ring' || only === 'ring1') {
    const t0 = performance.now();
    const done = leader.call('wait', 1);
    nodes[0].send('token', 100_000);
    await done;
    out.ring.push(100_001 / ((performance.now() - t0) / 1000));
    if (process.env.PROBE_MARK) console.log('--- ring round', r, out.ring.at(-1));
  }
  if (only === 'pp+count') {
    // pingpong with Savina's Counting between rounds (as the suite interleaves its cases)
    const t0 = performance.now();
    await ping.call('run', pong, 40_000);
    out.pingpong.push(80_000 / ((performance.now() - t0) / 1000));
    const counter = await mk('Counter', { worker: 0 });
    const producer = await mk('Producer', { worker: 0 });
    await producer.call('run', counter, 1_000_000);
    await Promise.all([counter.stop(), producer.stop()]);
  }
  if (only === 'fjc') {
    const t0 = performance.now();
    const ws = await Promise.all(Array.from({ length: 40_000 }, () => mk('FjWorker')));
    for (const w of ws) void w.send('work');
    await Promise.all(ws.map((w) => w.sync()));
    out.fjc.push(40_000 / ((performance.now() - t0) / 1000));
    await Promise.all(ws.map((w) => w.stop()));
  }
}
await rt.close();
const fmt = (xs) => {
  if (!xs.length) return '';
  const s = [...xs].sort((a, b) => a - b);
  const k = (x) => `${(x / 1000).toFixed(0)}k`;
  return `median ${k(s[s.length >> 1])} [${k(s[0])}-${k(s[s.length - 1])}]  rounds: ${xs.map(k).join(' ')}`;
};
for (const [k, v] of Object.entries(out)) if (v.length) console.log(`${k.padEnd(9)} ${fmt(v)} msgs/s`);
