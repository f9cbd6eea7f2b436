/**
 * Probe (not a benchmark suite): Savina's Fork-join create exactly as perf/agent-savina.bench.ts
 * times it (rt.agent through an async `keep` wrapper, Promise.all, one `send('work')` each, then
 * `Promise.all(sync())`), R rounds on one 2-worker Runtime after W untimed warm-up rounds, each
 * round followed by comlink's creation loop (2,000 objects, as the suite's 0.05 scale) in the same
 * process. Prints creations/s, the ratio to comlink, and main's own CPU per agent
 * (/proc/thread-self/stat). `FLOOR=1` adds the same scaffolding over fake agents (resolved
 * promises): what the benchmark's own code costs main per agent.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-fjc.mjs [rounds] [warm-up]
 *        DIST=/path/to/other/dist for the other build of an A/B pair; NO_ANCHOR=1 skips comlink
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

const dist = process.env.DIST ?? new URL('../../dist/', import.meta.url).pathname;
const { Runtime } = await import(`${dist}/src/index.js`);
const url = new URL(`file://${dist}/perf/savina-agents.js`);
const R = Number(process.argv[2] ?? 5);
const W = Number(process.argv[3] ?? 3);
const N = 40_000;

const mainCpuMs = () => {
  const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const rt = await Runtime.start({ workers: 2 });
let api;
let Comlink;
let cw;
if (!process.env.NO_ANCHOR) {
  Comlink = await import('comlink');
  const nodeEndpoint = (await import('comlink/dist/esm/node-adapter.mjs')).default;
  cw = new Worker(`${dist}/perf/savina-comlink-worker.js`);
  api = Comlink.wrap(nodeEndpoint(cw));
}

/**
 * One round of Savina's Fork-join create as the suite times it, over `mk(cls)` (a promise of a
 * handle): N creations through an async `keep`, `Promise.all`, a send each, `Promise.all(sync())`.
 * Returns [creations/s, main's CPU µs an agent, every thread's CPU µs an agent, the handles].
 */
async function timedRound(mk) {
  const made = [];
  const keep = async (p) => {
    const h = await p;
    made.push(h);
    return h;
  };
  const c0 = mainCpuMs();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  const ws = await Promise.all(Array.from({ length: N }, () => keep(mk('FjWorker'))));
  for (const w of ws) void w.send('work');
  await Promise.all(ws.map((w) => w.sync()));
  const s = performance.now() - t0;
  const cpuUs = ((mainCpuMs() - c0) * 1000) / N;
  const p1 = process.cpuUsage(p0);
  return [N / (s / 1000), cpuUs, (p1.user + p1.system) / N, made];
}

async function shoalRound() {
  const [rate, cpuUs, allUs, made] = await timedRound((cls) => rt.agent(url, cls, []));
  await Promise.all(made.map((h) => h.stop({ drain: false })));
  return [rate, cpuUs, allUs];
}

class Fake {
  send() {
    return RESOLVED;
  }
  sync() {
    return Promise.resolve();
  }
}
const RESOLVED = Promise.resolve();
async function floorRound() {
  const [rate, cpuUs] = await timedRound(() => Promise.resolve(new Fake()));
  return [rate, cpuUs];
}

async function comlinkRound() {
  const n = 2000;
  const t0 = performance.now();
  const objs = await Promise.all(Array.from({ length: n }, () => new api.Actor()));
  await Promise.all(objs.map((o) => o.work()));
  for (const o of objs) o[Comlink.releaseProxy]();
  return n / ((performance.now() - t0) / 1000);
}

const rows = [];
for (let r = -W; r < R; r++) {
  const [s, cpu, all] = await shoalRound();
  const c = api ? await comlinkRound() : Number.NaN;
  const f = process.env.FLOOR ? await floorRound() : [Number.NaN, Number.NaN];
  if (r >= 0) rows.push({ s, cpu, all, c, f: f[0], fcpu: f[1] });
}
await rt.close();
if (cw) await cw.terminate();
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const k = (x) => `${(x / 1000).toFixed(1)}k`;
const load = loadavg()[0].toFixed(2);
for (const x of rows) {
  const ratio = (x.s / x.c).toFixed(1);
  const floor = process.env.FLOOR ? `  floor ${k(x.f)} (${x.fcpu.toFixed(2)} µs)` : '';
  console.log(`fjc ${k(x.s)}/s  main ${x.cpu.toFixed(2)} µs/agent  all threads ${x.all.toFixed(2)} µs  comlink ${k(x.c)}/s  ${ratio}x${floor}`);
}
const ratios = rows.map((x) => x.s / x.c);
console.log(
  `${dist} load ${load}: median ${k(med(rows.map((x) => x.s)))}/s [${k(Math.min(...rows.map((x) => x.s)))}-${k(Math.max(...rows.map((x) => x.s)))}], ` +
    `main ${med(rows.map((x) => x.cpu)).toFixed(2)} µs/agent, all threads ${med(rows.map((x) => x.all)).toFixed(2)} µs, comlink ${k(med(rows.map((x) => x.c)))}/s, ` +
    `ratio ${med(ratios).toFixed(1)}x [${Math.min(...ratios).toFixed(1)}-${Math.max(...ratios).toFixed(1)}]`,
);
