/**
 * Probe (not a benchmark suite): the floor of a one-way hop between two worker threads in plain
 * JS, no shoal code: a shared Int32 word passed back and forth (each side waits for its turn).
 *   spin      both sides spin on Atomics.load
 *   wait      both sides park in Atomics.wait, woken by Atomics.notify
 *   waitAsync both sides park in Atomics.waitAsync (event loop free), woken by Atomics.notify
 *   spin+msg  spin, and a 16-byte payload copied through a second SAB each hop (cache traffic
 *             of a data line besides the flag line)
 * Prints µs per hop (one direction), median [min-max] over 5 rounds.
 *
 * usage: flock /tmp/shoal-bench.lock node perf/probes/hop-floor.mjs
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';

const MODES = { spin: 200_000, 'spin+msg': 200_000, wait: 20_000, waitAsync: 20_000 };
const only = process.argv[2];
if (isMainThread) {
  for (const [mode, n] of Object.entries(MODES)) {
    if (only && mode !== only) continue;
    const flag = new Int32Array(new SharedArrayBuffer(256));
    const data = new Int32Array(new SharedArrayBuffer(256));
    const run = (me) =>
      new Promise((res, rej) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { me, mode, n, flag, data } });
        w.on('message', res);
        w.on('error', rej);
      });
    const [a] = await Promise.all([run(0), run(1)]);
    const s = [...a].sort((x, y) => x - y);
    console.log(`${mode.padEnd(9)} ${s[2].toFixed(3)} µs/hop [${s[0].toFixed(3)}-${s[4].toFixed(3)}]`);
  }
} else {
  const { me, mode, n, flag, data } = workerData;
  const TURN = 16; // word 16: whose turn (own cache line apart from word 0 = start gate)
  Atomics.add(flag, 0, 1);
  while (Atomics.load(flag, 0) < 2);
  const out = [];
  const keep = setInterval(() => {}, 1000); // Atomics.waitAsync alone does not keep a worker alive
  let v = 0; // hop counter; side me moves on when TURN is odd/even accordingly
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      // me 0 writes even->odd, me 1 writes odd->even
      const want = v + (v % 2 === me ? 0 : 1); // value at which it is my turn
      if (mode === 'spin' || mode === 'spin+msg') {
        while (Atomics.load(flag, TURN) !== want);
      } else if (mode === 'wait') {
        for (let c = Atomics.load(flag, TURN); c !== want; c = Atomics.load(flag, TURN)) Atomics.wait(flag, TURN, c);
      } else {
        for (let c = Atomics.load(flag, TURN); c !== want; c = Atomics.load(flag, TURN)) {
          const r = Atomics.waitAsync(flag, TURN, c);
          if (r.async) await r.value;
        }
      }
      if (mode === 'spin+msg') {
        const x = data[4 * ((want + 1) & 1)];
        data[4 * (want & 1)] = x + 1;
      }
      v = want + 1;
      Atomics.store(flag, TURN, v);
      if (mode !== 'spin' && mode !== 'spin+msg') Atomics.notify(flag, TURN);
      v++;
    }
    out.push(((performance.now() - t0) * 1000) / (2 * n));
  }
  clearInterval(keep);
  parentPort.postMessage(out);
}
