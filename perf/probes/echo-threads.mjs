/**
 * Probe (issue 18): where the TCP echo's server CPU goes, per round and per thread, for shoal and
 * node:net in the same process, under perf/echo-load.c (closed loop, 64-byte messages).
 *
 * Per round and server: msg/s, server CPU µs a message (whole process), and split by thread from
 * /proc/self/task (main = the process's first thread; "workers" = the two busiest other threads;
 * "other" = V8 helpers / GC), voluntary context switches a message (parks and wake-ups), the
 * reactor's turns / parks / worker notifies per 1k messages and the net hosts' turns / parks per
 * 1k messages (read from the worker through a task), and messages per reactor turn.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/echo-threads.mjs \
 *          [--conns 100] [--rounds 5] [--ms 2000] [--dist /path/to/other/dist] [--only shoal]
 * --dist runs shoal from another build's dist/ (an A/B of two builds; default this checkout's).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CONNS = +arg('conns', 100);
const ROUNDS = +arg('rounds', 5);
const MS = +arg('ms', 2000);
const DIST = arg('dist', new URL('../../dist', import.meta.url).pathname);
const ONLY = arg('only', '');
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);
const bin = new URL('../../dist/perf/echo-load', import.meta.url).pathname;
if (!existsSync(bin)) execFileSync('cc', ['-O2', '-o', bin, new URL('../echo-load.c', import.meta.url).pathname]);

/** utime+stime (µs) and voluntary / involuntary switches of every thread of this process. */
function threads() {
  const out = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(f[11]) + Number(f[12])) * TICK_US;
      const st = readFileSync(`/proc/self/task/${t}/status`, 'utf8');
      const vol = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      const inv = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      out.set(t, { cpu, vol, inv });
    } catch {}
  }
  return out;
}

function diff(a, b) {
  const rows = [];
  for (const [t, y] of b) {
    const x = a.get(t) ?? { cpu: 0, vol: 0, inv: 0 };
    rows.push({ t, cpu: y.cpu - x.cpu, vol: y.vol - x.vol, inv: y.inv - x.inv });
  }
  return rows;
}

// the worker-side counters, read through a task
const probeTask = join(tmpdir(), `echo-threads-task-${process.pid}.mjs`);
writeFileSync(
  probeTask,
  `import { netHost } from ${JSON.stringify(pathToFileURL(join(DIST, 'src/net/worker/host.js')).href)};
export function hostStats() { const h = netHost(); const l = h?.loop; return { turns: l?.turns ?? 0, parks: l?.parks ?? 0, preempted: l?.awake?.preemptions ?? 0 }; }
export function burn(ms) { const e = performance.now() + ms; while (performance.now() < e); return 0; }`,
);

const { Runtime } = await import(pathToFileURL(join(DIST, 'src/runtime/runtime.js')).href);
const rt = await Runtime.start({ workers: 2 });
const handler = pathToFileURL(join(DIST, 'perf/net-echo.bench.js'));
const shoalSrv = await rt.listen({ port: 0, host: '127.0.0.1', handler, backlog: 2048 });
const plain = createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (b) => s.write(b));
  s.on('error', () => s.destroy());
  s.on('end', () => s.end());
});
await new Promise((r) => plain.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, r));

async function workerStats() {
  // one call per worker is not guaranteed to land on each; take several and keep per-call results
  const rs = await Promise.all([0, 1, 2, 3, 4, 5].map(() => rt.run(pathToFileURL(probeTask), 'hostStats', [])));
  return rs;
}

async function round(port, isShoal) {
  const child = spawn(bin, [port, CONNS, 300, MS].map(String), { stdio: ['ignore', 'pipe', 'inherit'] });
  let t0, t1, c0, c1, s0, s1;
  let got;
  const lines = createInterface({ input: child.stdout });
  await new Promise((res, rej) => {
    lines.on('line', (l) => {
      if (l === 'start') {
        t0 = threads();
        c0 = process.cpuUsage();
        if (isShoal) s0 = rt.stats().net;
      } else if (l === 'stop') {
        t1 = threads();
        c1 = process.cpuUsage(c0);
        if (isShoal) s1 = rt.stats().net;
      } else got = JSON.parse(l);
    });
    child.once('close', (code) => (code === 0 && got ? res() : rej(new Error(`echo-load ${code}`))));
  });
  const n = got.count;
  const rows = diff(t0, t1).sort((a, b) => b.cpu - a.cpu);
  const main = rows.find((r) => r.t === String(process.pid));
  const rest = rows.filter((r) => r !== main);
  const workers = isShoal ? rest.slice(0, 2) : [];
  const other = isShoal ? rest.slice(2) : rest;
  const sum = (rs, k) => rs.reduce((s, r) => s + r[k], 0);
  const out = {
    rate: Math.round(got.rate),
    cpu: ((c1.user + c1.system) / n).toFixed(2),
    main: (main.cpu / n).toFixed(2),
    wk: (sum(workers, 'cpu') / n).toFixed(2),
    oth: (sum(other, 'cpu') / n).toFixed(2),
    mainVol1k: ((main.vol / n) * 1000).toFixed(1),
    wkVol1k: ((sum(workers, 'vol') / n) * 1000).toFixed(1),
    inv1k: (((main.inv + sum(workers, 'inv')) / n) * 1000).toFixed(1),
  };
  if (isShoal) {
    out.turns1k = (((s1.turns - s0.turns) / n) * 1000).toFixed(1);
    out.parks1k = (((s1.parks - s0.parks) / n) * 1000).toFixed(1);
    out.notify1k = (((s1.workerWakeups - s0.workerWakeups) / n) * 1000).toFixed(1);
    out.mainPreempted = rt.reactor?.loop?.awake?.preemptions;
  }
  return out;
}

console.log(`echo-threads: conns ${CONNS}, ${ROUNDS} rounds of ${MS} ms, dist ${DIST}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const before = await workerStats();
const all = { shoal: [], 'node:net': [] };
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ['shoal', 'node:net'] : ['node:net', 'shoal'];
  for (const name of order) {
    if (ONLY && name !== ONLY) continue;
    const o = await round(name === 'shoal' ? shoalSrv.port : plain.address().port, name === 'shoal');
    all[name].push(o);
    console.log(r, name.padEnd(8), JSON.stringify(o));
  }
}
const after = await workerStats();
console.log('worker host counters (before, after; several calls):', JSON.stringify(before), JSON.stringify(after));
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
if (!ONLY) {
  const rs = all.shoal.map((s, i) => s.rate / all['node:net'][i].rate);
  const cs = all.shoal.map((s, i) => s.cpu / all['node:net'][i].cpu);
  console.log(`ratios per round: rate ${rs.map((x) => x.toFixed(2)).join(' ')} | cpu ${cs.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`medians: rate ${med(rs).toFixed(2)}x, cpu ${med(cs).toFixed(2)}x; load ${loadavg()[0].toFixed(2)}`);
}
await rt.close();
plain.close();
