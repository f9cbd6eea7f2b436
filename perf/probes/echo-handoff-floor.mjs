/**
 * Probe (not a benchmark suite): the floor of a TCP echo whose handler runs on another thread, at
 * 1 connection. Issue 18 asks shoal's TCP echo at 1 connection for server CPU per message at most
 * 1.25x a plain node:net echo's; this measures what the thread hop alone costs, with no shoal
 * code at all: main reads the socket (node:net), copies the bytes into a SharedArrayBuffer slot
 * and rings a worker (Atomics.notify), the worker copies them back and rings main, main writes the
 * socket. Minimal code on both sides, one message in flight, so every message pays two wake-ups.
 *
 * Servers, alternating per round, loaded by perf/echo-load.c (`npm run build` compiles it on the
 * first net-echo run; this probe compiles it if missing):
 *   plain      node:net echo on main (the anchor)
 *   hop-park   worker parked in Atomics.wait, main waiting in Atomics.waitAsync (shoal's parks)
 *   hop-spin   the same, each side spinning up to SPIN_US (default 50) before it parks
 * CPU per message: the process's CPU time (all threads) over the load's measured window.
 *
 * usage: node perf/probes/echo-handoff-floor.mjs [rounds=3] [ms=2000]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

const ROUNDS = +(process.argv[2] ?? 3);
const MS = +(process.argv[3] ?? 2000);
const SPIN_US = +(process.env.SPIN_US ?? 50);
const bin = new URL('../../dist/perf/echo-load', import.meta.url).pathname;
if (!existsSync(bin)) execFileSync('cc', ['-O2', '-o', bin, new URL('../echo-load.c', import.meta.url).pathname]);

// words: [0] main->worker SEQ, [1] worker->main SEQ, [2] length, [3] stop; bytes from 64
function hopServer(spinUs) {
  const sab = new SharedArrayBuffer(64 + 65536);
  const w = new Int32Array(sab, 0, 16);
  const bytes = new Uint8Array(sab, 64);
  const worker = new Worker(
    `const { workerData: { sab, spinUs } } = require('node:worker_threads');
     const w = new Int32Array(sab, 0, 16);
     let seen = 0;
     for (;;) {
       const end = performance.now() + spinUs / 1000;
       while (Atomics.load(w, 0) === seen && performance.now() < end) {}
       if (Atomics.load(w, 0) === seen) Atomics.wait(w, 0, seen);
       if (Atomics.load(w, 3)) break;
       seen = Atomics.load(w, 0);
       // the "handler": the bytes are echoed in place, nothing to copy
       Atomics.add(w, 1, 1);
       Atomics.notify(w, 1);
     }`,
    { eval: true, workerData: { sab, spinUs } },
  );
  const server = createServer((s) => {
    s.setNoDelay(true);
    let busy = false;
    const queue = [];
    const send = (b) => {
      busy = true;
      bytes.set(b, 0);
      Atomics.store(w, 2, b.length);
      const before = Atomics.load(w, 1);
      Atomics.add(w, 0, 1);
      Atomics.notify(w, 0);
      const back = () => {
        s.write(Buffer.from(bytes.subarray(0, Atomics.load(w, 2))));
        busy = false;
        if (queue.length) send(queue.shift());
      };
      const end = performance.now() + spinUs / 1000;
      while (Atomics.load(w, 1) === before && performance.now() < end) {}
      if (Atomics.load(w, 1) !== before) return back();
      const r = Atomics.waitAsync(w, 1, before);
      if (r.async) r.value.then(back);
      else back();
    };
    s.on('data', (b) => (busy ? queue.push(b) : send(b)));
    s.on('error', () => {});
  });
  return {
    server,
    async close() {
      Atomics.store(w, 3, 1);
      Atomics.add(w, 0, 1);
      Atomics.notify(w, 0);
      await worker.terminate();
      server.close();
    },
  };
}

function plainServer() {
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (b) => s.write(b));
    s.on('error', () => {});
  });
  return { server, async close() { server.close(); } };
}

function round(port) {
  return new Promise((res, rej) => {
    const child = spawn(bin, [port, 1, 300, MS].map(String), { stdio: ['ignore', 'pipe', 'inherit'] });
    let c0, cpu = 0, got;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'start') c0 = process.cpuUsage();
      else if (line === 'stop') { const d = process.cpuUsage(c0); cpu = d.user + d.system; }
      else got = JSON.parse(line);
    });
    child.once('close', (code) => (code === 0 && got ? res({ rate: got.rate, cpu: cpu / got.count }) : rej(new Error('load failed'))));
  });
}

const makers = { plain: () => plainServer(), 'hop-park': () => hopServer(0), [`hop-spin${SPIN_US}`]: () => hopServer(SPIN_US) };
const res = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(makers)) {
    const s = make();
    await new Promise((ok) => s.server.listen(0, '127.0.0.1', ok));
    const { rate, cpu } = await round(s.server.address().port);
    await s.close();
    (res[name] ??= []).push([rate, cpu]);
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const base = res.plain;
for (const [name, xs] of Object.entries(res)) {
  const rate = med(xs.map((x) => x[0])), cpu = med(xs.map((x) => x[1]));
  const r0 = med(base.map((x) => x[0])), c0 = med(base.map((x) => x[1]));
  console.log(`${name.padEnd(12)} ${Math.round(rate)} msg/s (${(rate / r0).toFixed(2)}x plain)  CPU ${cpu.toFixed(1)} µs/msg (${(cpu / c0).toFixed(2)}x plain)`);
}
process.exit(0);
