/**
 * Echo integrity through the reactor: bulk bytes through one connection, many connections at
 * once, and a non-Node client. Real sockets on 127.0.0.1, bare net-host workers (no pool).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytes, collect, dial, rig, within } from '../fixtures/tcp-harness.js';
import { burstBytes } from '../fixtures/tcp-burst.js';
import { testSeed } from '../fixtures/seed.js';

test('100 MB through one connection come back byte for byte (sha256)', async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'echo' });
    const s = await dial(srv.port);
    const block = bytes(1 << 20, 0x5eed);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((res, rej) => {
      s.on('data', (b: Buffer) => {
        got.update(b);
        received += b.length;
      });
      s.once('end', res);
      s.once('error', rej);
    });
    const total = 100;
    for (let i = 0; i < total; i++) {
      const b = Buffer.from(block);
      b.writeUInt32LE(i, 0); // every block differs
      sent.update(b);
      if (!s.write(b)) await new Promise((res) => s.once('drain', res));
    }
    s.end();
    await within(done, 90_000, '100 MB echo');
    assert.is(received, total << 20);
    assert.is(got.digest('hex'), sent.digest('hex'));
  } finally {
    await r.close();
  }
});

test('20,000 small writes issued without awaiting keep their byte order through a 4 KiB ring', async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'burst', ringBytes: 4096 });
    const seed = testSeed();
    const writes = 20_000;
    const s = await dial(srv.port);
    const got = collect(s);
    s.write(`${seed} ${writes}\n`);
    const all = await within(got, 30_000, 'burst');
    const { stream } = burstBytes(seed, writes);
    assert.is(all.length, stream.length, `length (seed ${seed})`);
    const at = all.findIndex((b, j) => b !== stream[j]);
    assert.is(at, -1, `first wrong byte at ${at} (seed ${seed})`);
  } finally {
    await r.close();
  }
});

test('1,000 concurrent connections each get their own payload back', async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'echo', ringBytes: 4096 });
    const n = 1000;
    const seed = (Date.now() & 0xffff) + 1;
    const results = await within(
      Promise.all(
        Array.from({ length: n }, async (_, k) => {
          const payload = bytes(256 + ((k * 37) % 4096), seed + k);
          const s = await dial(srv.port);
          const got = collect(s);
          s.end(payload);
          return (await got).equals(payload);
        }),
      ),
      60_000,
      '1000 connections',
    );
    const bad = results.filter((ok) => !ok).length;
    assert.is(bad, 0, `${bad} connections got wrong bytes (seed ${seed})`);
    const st = srv.stats();
    assert.is(st.accepted, n);
    // both workers took a share (least loaded)
    assert.ok(r.reactor.stats().accepted === n);
  } finally {
    await r.close();
  }
});

test('a python3 client gets its bytes echoed (non-Node peer)', async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'echo' });
    const py = `
import socket, hashlib, sys
s = socket.create_connection(('127.0.0.1', ${srv.port}))
data = bytes((i * 7) & 255 for i in range(300000))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
buf = bytearray()
while True:
    b = s.recv(65536)
    if not b: break
    buf += b
s.close()
print(hashlib.sha256(data).hexdigest(), hashlib.sha256(bytes(buf)).hexdigest(), len(buf))
`;
    const out = await within(
      new Promise<string>((res, rej) =>
        execFile('python3', ['-c', py], { timeout: 30_000 }, (e, so) => (e ? rej(e) : res(so))),
      ),
      35_000,
      'python client',
    );
    const [want, gotHash, len] = out.trim().split(' ');
    assert.is(len, '300000');
    assert.is(gotHash, want);
  } finally {
    await r.close();
  }
});

test('a write in a long CPU-heavy turn reaches the peer before the turn ends', async () => {
  const r = await rig(1);
  try {
    const srv = await r.listen({ handler: 'long-turn' });
    const s = await dial(srv.port);
    const got = collect(s);
    let seen = '';
    let answered = false;
    s.on('data', (b: Buffer) => {
      seen += b.toString();
      if (!answered && seen.includes('second\n')) {
        answered = true;
        s.write('go');
      }
    });
    s.write('hello');
    const text = (await within(got, 30_000, 'long-turn reply')).toString();
    assert.is(text, 'first\nsecond\nanswered within the turn: go\n');
  } finally {
    await r.close();
  }
});

test('a connection opened while CPU-heavy handlers keep finding requests is served within a few rounds', async () => {
  // 30 closed-loop peers keep one worker's handlers busy (1 ms of CPU a request). Replies go out
  // mid-turn (the early ring), so a peer's next request is often back before its handler reads
  // again, and the turn goes on: a connection not woken in it, like one opened now, waited for
  // hundreds of replies (594-714 of 1,800 measured). Reads yield once a turn runs long, so every
  // woken handler serves one request a turn and the new one joins the next round.
  const r = await rig(1);
  try {
    const srv = await r.listen({ handler: 'cpu-echo' });
    const peers = 30;
    const perPeer = 60;
    let replies = 0;
    const open = await Promise.all(
      Array.from({ length: peers }, async () => {
        const s = await dial(srv.port);
        let left = perPeer;
        const done = new Promise<void>((res, rej) => {
          s.on('data', () => {
            replies++;
            if (--left > 0) s.write('x');
            else res();
          });
          s.once('error', rej);
        });
        s.write('x');
        return { s, done };
      }),
    );
    await within(
      (async () => {
        while (replies < 2 * peers) await new Promise((res) => setTimeout(res, 2));
      })(),
      20_000,
      'the peers to be cycling',
    );
    const late = await dial(srv.port);
    const answered = new Promise<number>((res) => late.once('data', () => res(replies)));
    const before = replies;
    late.write('L');
    const after = (await within(answered, 30_000, 'the late connection')) - before;
    // counted in replies, not time: a round is one reply per peer
    assert.ok(after < 5 * peers, `the late connection waited for ${after} replies (${peers} a round)`);
    await within(Promise.all(open.map((p) => p.done)), 30_000, 'the peers');
    for (const p of open) p.s.destroy();
    late.destroy();
  } finally {
    await r.close();
  }
});

test.run();
