/**
 * Probe (not a benchmark suite): the floor of a ping-pong hop between two worker threads over a
 * PeerLink pair with both sides spinning on their doorbells, and no agent machinery: what the
 * rings, the codec and the cores' cache traffic cost a hop. Compare with PingPong in
 * perf/agent-savina.bench.ts (the same hop plus mailboxes and turns).
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node perf/probes/agent-hop-workers.mjs
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { PeerLink } from '../../dist/src/agent/peer.js';
import { createByteRing } from '../../dist/src/shm/byte-ring.js';
import { createDoorbell, Doorbell } from '../../dist/src/shm/doorbell.js';
const N = 200_000;
if (isMainThread) {
  const ab = createByteRing(1 << 16), ba = createByteRing(1 << 16);
  const bellA = createDoorbell(), bellB = createDoorbell();
  const go = new SharedArrayBuffer(8);
  const mk = (me, d) => new Promise((res) => { const w = new Worker(new URL(import.meta.url), { workerData: { me, ...d, go } }); w.on('message', res); });
  const rs = await Promise.all([
    mk(0, { link: { kind: 'shoal:agent-peer', slot: 1, out: ab, in: ba, bell: bellB }, myBell: bellA }),
    mk(1, { link: { kind: 'shoal:agent-peer', slot: 0, out: ba, in: ab, bell: bellA }, myBell: bellB }),
  ]);
  console.log(rs.join('\n'));
} else {
  const { me, link, myBell, go } = workerData;
  const L = new PeerLink(1 - me, link); const bell = new Doorbell(myBell);
  const g = new Int32Array(go); Atomics.add(g, 0, 1); while (Atomics.load(g, 0) < 2);
  let got = 0; const on = (f) => { got++; };
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let i = 0;
    if (me === 0) { L.write([40, 7, 1, 'ping', [], 0, 0]); L.publish(); }
    while (i < N) {
      const s = bell.seq();
      if (L.poll(on) === 0) { bell.spinUntil(s, 1000); continue; }
      i++;
      if (me === 1 || i < N) { L.write([40, 7, 1, me ? 'pong' : 'ping', [], 0, 0]); L.publish(); }
    }
    const dt = performance.now() - t0;
    if (round === 4 || me === 0) console.log(`worker ${me} round ${round}: ${(dt * 1000 / (2 * N)).toFixed(3)} us/hop`);
  }
  parentPort.postMessage('done ' + me);
}
