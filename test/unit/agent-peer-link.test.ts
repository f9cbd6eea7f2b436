/**
 * The agent peer link (src/agent/peer.ts) on one thread: bare frames and codec frames arrive in
 * the order written, a full ring keeps that order through the backlog, and a method name the bare
 * frame cannot carry takes the codec frame.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PeerLink } from '../../src/agent/peer.js';
import { PMSG, PREPLY, type PeerFrame } from '../../src/agent/protocol.js';
import { createByteRing } from '../../src/shm/byte-ring.js';
import { createDoorbell } from '../../src/shm/doorbell.js';

function pair(bytes = 1 << 16): [PeerLink, PeerLink] {
  // stamped, as main makes them (src/agent/main.ts; byte-ring.ts invariant 7)
  const ab = createByteRing(bytes, { stamped: true });
  const ba = createByteRing(bytes, { stamped: true });
  const bellA = createDoorbell();
  const bellB = createDoorbell();
  const a = new PeerLink(1, { kind: 'shoal:agent-peer', slot: 1, out: ab, in: ba, bell: bellB });
  const b = new PeerLink(0, { kind: 'shoal:agent-peer', slot: 0, out: ba, in: ab, bell: bellA });
  return [a, b];
}

/** everything `to` can read, as comparable tuples */
function readAll(to: PeerLink): unknown[] {
  const got: unknown[] = [];
  to.poll(
    (f: PeerFrame) => got.push(f[0] === PMSG ? ['msg', f[1], f[2], f[3], f[4], f[5], f[6]] : ['reply', ...f.slice(1)]),
    (id, gen, method) => got.push(['msg', id, gen, method, [], 0, 0]),
  );
  return got;
}

test('bare sends and codec frames arrive in the order written', () => {
  const [a, b] = pair();
  a.writeBare(7, 1, 'ping');
  a.write([PMSG, 7, 1, 'add', [1, 'x'], 3, 1]);
  a.writeBare(8, 2, 'pong');
  a.writeBare(8, 2, 'pong');
  a.writeBare(9, 3, 'pang'); // same length as the last method, other bytes: not the cached string
  a.write([PREPLY, 5, true, { v: 1 }]);
  a.publish();
  assert.equal(readAll(b), [
    ['msg', 7, 1, 'ping', [], 0, 0],
    ['msg', 7, 1, 'add', [1, 'x'], 3, 1],
    ['msg', 8, 2, 'pong', [], 0, 0],
    ['msg', 8, 2, 'pong', [], 0, 0],
    ['msg', 9, 3, 'pang', [], 0, 0],
    ['reply', 5, true, { v: 1 }],
  ]);
});

test('a method name with a char past 255, or a long one, is carried by the codec frame', () => {
  const [a, b] = pair();
  const long = 'm'.repeat(100);
  a.writeBare(1, 1, 'größe');
  a.writeBare(1, 1, 'δ');
  a.writeBare(1, 1, long);
  a.publish();
  assert.equal(readAll(b), [
    ['msg', 1, 1, 'größe', [], 0, 0],
    ['msg', 1, 1, 'δ', [], 0, 0],
    ['msg', 1, 1, long, [], 0, 0],
  ]);
});

test('a full ring keeps the order of bare and codec frames through the backlog', () => {
  const [a, b] = pair(1024);
  const want: unknown[] = [];
  for (let i = 0; i < 200; i++) {
    if (i % 3 === 0) {
      a.write([PMSG, i, 1, 'big', ['y'.repeat(40)], 0, 0]);
      want.push(['msg', i, 1, 'big', ['y'.repeat(40)], 0, 0]);
    } else {
      a.writeBare(i, 1, i % 2 ? 'odd' : 'even');
      want.push(['msg', i, 1, i % 2 ? 'odd' : 'even', [], 0, 0]);
    }
  }
  const got: unknown[] = [];
  for (let guard = 0; got.length < want.length && guard < 1000; guard++) {
    a.publish(); // moves what fits from the backlog
    got.push(...readAll(b));
  }
  assert.equal(got, want);
});

test('poll hands frames back to the writer at release(), or at once when the writer waits for room', () => {
  const ab = createByteRing(1 << 16);
  const ba = createByteRing(1 << 16);
  const a = new PeerLink(1, { kind: 'shoal:agent-peer', slot: 1, out: ab, in: ba, bell: createDoorbell() });
  const b = new PeerLink(0, { kind: 'shoal:agent-peer', slot: 0, out: ba, in: ab, bell: createDoorbell() });
  const ctl = new Int32Array(ab.sab, ab.byteOffset, 64); // byte-ring.ts: TAIL is word 0, HEAD word 16
  a.writeBare(7, 1, 'ping');
  a.writeBare(7, 1, 'ping');
  a.publish();
  assert.is(readAll(b).length, 2);
  assert.is(Atomics.load(ctl, 16), 0); // read, not yet released
  b.release();
  assert.is(Atomics.load(ctl, 16), Atomics.load(ctl, 0));
  b.release(); // nothing new: no store, no error
  assert.is(Atomics.load(ctl, 16), Atomics.load(ctl, 0));
});

test.run();
