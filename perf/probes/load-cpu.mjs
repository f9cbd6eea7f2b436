// Probe (issue 24): the load generators' CPU per request against one-thread node:http, in
// interleaved rounds, split into user and system time and, for Node generators, by thread.
//
// usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/load-cpu.mjs \
//          [--rounds 5] [--warm 2000] [--window 3000] [--conns 64] [--no-wrk] [--autocannon] \
//          [--shoal name=/path/to/bin/shoal.js ...] [--extra name='args'] [--perthread]
// Each --shoal adds a `shoal load --workers 1` row run from that launcher (an A/B of two builds:
// copy dist/, bin/ and package.json of the build before a change, with a node_modules symlink).
// The server is perf/harness-load.bench's (`--http-server 0 0`); it counts its own requests, and
// every generator's CPU is read from /proc/<pid>/stat (all its threads) over the same window.
import { execFileSync, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER = join(ROOT, 'dist', 'perf', 'harness-load.bench.js');
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

const argv = process.argv.slice(2);
if (argv[0] === '--slow-server') {
  const { createServer } = await import('node:http');
  const us = Number(argv[1]);
  let served = 0;
  const s = createServer((_q, r) => {
    served++;
    const end = performance.now() + us / 1000;
    while (performance.now() < end);
    r.end('hello world');
  });
  s.keepAliveTimeout = 60_000;
  s.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => process.send({ port: s.address().port }));
  process.on('message', (m) => {
    if (m === 'count') {
      const c = process.cpuUsage();
      process.send({ served, cpuUs: c.user + c.system });
    } else if (m === 'exit') process.exit(0);
  });
  await new Promise(() => {});
}
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv[i + 1];
};
const rounds = Number(opt('--rounds', 5));
const warmMs = Number(opt('--warm', 2000));
const windowMs = Number(opt('--window', 3000));
const conns = Number(opt('--conns', 64));
const perThread = argv.includes('--perthread');
const gens = [];
if (!argv.includes('--no-wrk')) gens.push({ name: 'wrk -t1', argv: (url, s) => ['wrk', ['-t1', `-c${conns}`, `-d${s}s`, url]] });
const shoals = [];
for (let i = 0; i < argv.length; i++) if (argv[i] === '--shoal') shoals.push(argv[i + 1]);
if (shoals.length === 0) shoals.push(`shoal=${join(ROOT, 'bin', 'shoal.js')}`);
for (const s of shoals) {
  // name=/path/to/bin/shoal.js[,VAR=value...]: the extra environment of that row
  const [name, rest] = [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)];
  const [bin, ...envs] = rest.split(',');
  gens.push({
    name,
    env: Object.fromEntries(envs.map((e) => e.split('='))),
    argv: (url, secs) => [
      process.execPath,
      [bin, 'load', url, '-c', String(conns), '-d', `${secs}s`, '--workers', '1', '--quiet'],
    ],
  });
}
if (argv.includes('--autocannon')) {
  const ac = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  gens.push({ name: 'autocannon', argv: (url, s) => [process.execPath, [ac, '-c', String(conns), '-d', String(s), url]] });
}

function stat(path) {
  const f = readFileSync(path, 'utf8');
  const comm = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
  const a = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { comm, user: Number(a[11]) * TICK_US, sys: Number(a[12]) * TICK_US };
}
function threads(pid) {
  const out = new Map();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(t, stat(`/proc/${pid}/task/${t}/stat`));
    } catch {}
  }
  return out;
}
function ctx(pid) {
  let v = 0;
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      v += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)[1]);
      n += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)[1]);
    } catch {}
  }
  return { v, n };
}

// --server-work-us N: the server burns N µs of CPU a request (a slower, saturated server, where
// a generator waits for each response and pays a wake-up for most of them)
const work = Number(opt('--server-work-us', 0));
const srv =
  work > 0
    ? fork(fileURLToPath(import.meta.url), ['--slow-server', String(work)], { stdio: 'inherit' })
    : fork(SERVER, ['--http-server', '0', '0'], { stdio: 'inherit' });
const port = await new Promise((r) => srv.once('message', (m) => r(m.port)));
const url = `http://127.0.0.1:${port}/`;
const count = () =>
  new Promise((r) => {
    srv.once('message', (m) => r(m));
    srv.send('count');
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const got = new Map(gens.map((g) => [g.name, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? gens : [...gens].reverse();
  for (const g of order) {
    const secs = Math.ceil((warmMs + windowMs + 700) / 1000);
    const [cmd, args] = g.argv(url, secs);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...g.env } });
    const exited = new Promise((res) => child.once('exit', res));
    await sleep(warmMs);
    const a = { p: stat(`/proc/${child.pid}/stat`), th: threads(child.pid), c: ctx(child.pid), ...(await count()), t: performance.now() };
    await sleep(windowMs);
    const b = { p: stat(`/proc/${child.pid}/stat`), th: threads(child.pid), c: ctx(child.pid), ...(await count()), t: performance.now() };
    await exited;
    const n = b.served - a.served;
    const s = {
      rate: (n * 1000) / (b.t - a.t),
      user: (b.p.user - a.p.user) / n,
      sys: (b.p.sys - a.p.sys) / n,
      srv: (b.cpuUs - a.cpuUs) / n,
      vcs: ((b.c.v - a.c.v) * 1000) / n,
    };
    s.cpu = s.user + s.sys;
    got.get(g.name).push(s);
    let th = '';
    if (perThread) {
      const parts = [];
      for (const [tid, x] of b.th) {
        const y = a.th.get(tid) ?? { user: 0, sys: 0 };
        const us = (x.user - y.user + x.sys - y.sys) / n;
        if (us >= 0.05) parts.push(`${x.comm}:${us.toFixed(2)}`);
      }
      th = `  [${parts.join(' ')}]`;
    }
    console.log(
      `r${r + 1} ${g.name.padEnd(12)} ${s.rate.toFixed(0).padStart(6)}/s cpu ${s.cpu.toFixed(2)} (u ${s.user.toFixed(2)} s ${s.sys.toFixed(2)}) µs/req` +
        `  srv ${s.srv.toFixed(1)}  vcs/1k ${s.vcs.toFixed(0)}  load ${loadavg()[0].toFixed(2)}${th}`,
    );
  }
}
srv.send('exit');
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log('medians:');
const base = got.get(gens[0].name);
for (const g of gens) {
  const xs = got.get(g.name);
  const ratios = xs.map((x, i) => (x.cpu / base[i].cpu).toFixed(2)).join(' ');
  console.log(
    `  ${g.name.padEnd(12)} ${med(xs.map((x) => x.rate)).toFixed(0).padStart(6)}/s cpu ${med(xs.map((x) => x.cpu)).toFixed(2)}` +
      ` (u ${med(xs.map((x) => x.user)).toFixed(2)} s ${med(xs.map((x) => x.sys)).toFixed(2)}) srv ${med(xs.map((x) => x.srv)).toFixed(1)}` +
      `  per-round / ${gens[0].name}: ${ratios}`,
  );
}
