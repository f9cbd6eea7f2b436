/**
 * Probe (not a benchmark suite): the CPU cost of one agent message over a peer ring, on one
 * thread, step by step: codec encode and decode of a PMSG frame, and write + publish + poll of a
 * frame through a PeerLink pair (both ends on this thread, so no cache line crosses cores).
 *
 * usage: npm run build && node perf/probes/agent-hop.mjs
 */
import { PeerLink } from '../../dist/src/agent/peer.js';
import { createByteRing } from '../../dist/src/shm/byte-ring.js';
import { createDoorbell } from '../../dist/src/shm/doorbell.js';
import { encode, decode } from '../../dist/src/codec/index.js';
const ab = createByteRing(1 << 20), ba = createByteRing(1 << 20);
const bellA = createDoorbell(), bellB = createDoorbell();
const A = new PeerLink(1, { kind: 'shoal:agent-peer', slot: 1, out: ab, in: ba, bell: bellB });
const B = new PeerLink(0, { kind: 'shoal:agent-peer', slot: 0, out: ba, in: ab, bell: bellA });
const N = 1_000_000;
function bench(name, f) { for (let r = 0; r < 3; r++) { const t0 = performance.now(); f(); const dt = performance.now() - t0; if (r === 2) console.log(name.padEnd(40), (dt * 1000 / N).toFixed(3), 'us/op'); } }
let got = 0; const on = (f) => { got += f[1]; };
bench('encode frame', () => { for (let i = 0; i < N; i++) encode([40, 7, 1, 'ping', [], 0, 0]); });
const bytes = encode([40, 7, 1, 'ping', [], 0, 0]).slice();
bench('decode frame', () => { for (let i = 0; i < N; i++) decode(bytes, 0, bytes.length); });
bench('write+publish+poll (1 per publish)', () => { for (let i = 0; i < N; i++) { A.write([40, 7, 1, 'ping', [], 0, 0]); A.publish(); B.poll(on); } });
bench('write+publish+poll (both dirs)', () => { for (let i = 0; i < N; i++) { A.write([40, 7, 1, 'ping', [], 0, 0]); A.publish(); B.poll(on); B.write([40, 8, 1, 'pong', [], 0, 0]); B.publish(); A.poll(on); } });
bench('performance.now', () => { for (let i = 0; i < N; i++) got += performance.now(); });
