/**
 * How the reactor reads sockets (src/net/reactor/scratch-reads.ts): on Node 20 every read lands in
 * one scratch buffer shared by all connections, so bytes that must wait for ring room are copied
 * out before another connection's read overwrites it. The same scenarios run on the public 'data'
 * path (SHOAL_NET_SCRATCH_READS=0), which the reactor falls back to when the internals it needs
 * are missing. Real sockets on 127.0.0.1, bare net-host workers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytes, collect, dial, rig, within } from '../fixtures/tcp-harness.js';
import { rng, testSeed } from '../fixtures/seed.js';

/**
 * Connection A sends 1 MiB behind `hold`: its handler reads nothing, so its 4 KiB ring fills and
 * the reactor holds the rest of a 64 KiB read while the socket is paused. Only then does B send
 * 256 KiB of other bytes (read into the same scratch buffer) and release A. A's echo must be
 * its own bytes, in order.
 */
async function heldBytesSurviveOtherReads(): Promise<number> {
  const r = await rig(1); // the gate lives in one worker's module state
  try {
    const srv = await r.listen({ handler: 'hold', ringBytes: 4096 });
    const seed = testSeed();
    const key = `k${seed}`;
    const payloadA = bytes(1 << 20, seed);
    const payloadB = bytes(256 << 10, seed + 1);
    const a = await dial(srv.port);
    const echoA = collect(a);
    a.end(Buffer.concat([Buffer.from(`hold ${key}\n`), payloadA]));
    // A's socket is paused with bytes held once the reactor has read past what its ring holds
    await within(
      (async () => {
        while (r.reactor.stats().bytesIn < 16 << 10) await new Promise((res) => setTimeout(res, 5));
      })(),
      10_000,
      "A's bytes to outgrow its ring",
    );
    const b = await dial(srv.port);
    const echoB = collect(b);
    b.end(Buffer.concat([Buffer.from(`release ${key}\n`), payloadB]));
    const gotB = await within(echoB, 20_000, 'echo of B');
    assert.ok(gotB.equals(payloadB), `B's echo differs (seed ${seed})`);
    const gotA = await within(echoA, 20_000, 'echo of A');
    assert.is(gotA.length, payloadA.length, `A's echo length (seed ${seed})`);
    const at = gotA.findIndex((x, j) => x !== payloadA[j]);
    assert.is(at, -1, `A's first wrong byte at ${at} (seed ${seed})`);
    return r.reactor.stats().scratchReads;
  } finally {
    await r.close();
  }
}

/**
 * Seeded stress on both read paths: 40 connections at once, each sending 128-384 KiB of its own
 * bytes in writes of 1 B to 24 KiB, to a handler that stops reading for a few ms at random (4 KiB
 * rings), so held bytes, pauses and resumes interleave across connections. Every echo must be
 * byte-exact. Returns how many connections took the scratch path.
 */
async function unevenEchoStress(seed: number): Promise<number> {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'slow-echo', ringBytes: 4096 });
    const results = await within(
      Promise.all(
        Array.from({ length: 40 }, async (_, k) => {
          const rnd = rng(seed + k);
          const payload = bytes((128 << 10) + Math.floor(rnd() * (256 << 10)), seed ^ (k * 7919));
          const s = await dial(srv.port);
          const got = collect(s);
          s.write(`${(seed + k) >>> 0}\n`);
          for (let off = 0; off < payload.length; ) {
            const n = Math.min(payload.length - off, 1 + Math.floor(rnd() * (24 << 10)));
            if (!s.write(payload.subarray(off, off + n))) await new Promise((res) => s.once('drain', res));
            off += n;
          }
          s.end();
          const echo = await got;
          return echo.equals(payload) ? -1 : k;
        }),
      ),
      60_000,
      'uneven echoes',
    );
    const bad = results.filter((k) => k >= 0);
    assert.equal(bad, [], `connections ${bad.join(', ')} got wrong bytes (seed ${seed})`);
    return r.reactor.stats().scratchReads;
  } finally {
    await r.close();
  }
}

test('scratch reads: bytes held for a full ring survive other connections reading', async () => {
  delete process.env.SHOAL_NET_SCRATCH_READS;
  const switched = await heldBytesSurviveOtherReads();
  // both connections took the scratch path: on Node 20 the internals it needs are there, and a
  // Node that drops them must be noticed here, not as a silent slowdown
  assert.is(switched, 2);
});

test("stream reads (SHOAL_NET_SCRATCH_READS=0): the same bytes arrive through 'data'", async () => {
  process.env.SHOAL_NET_SCRATCH_READS = '0';
  try {
    assert.is(await heldBytesSurviveOtherReads(), 0);
  } finally {
    delete process.env.SHOAL_NET_SCRATCH_READS;
  }
});

test('scratch reads: 40 uneven echoes at once stay byte-exact (seeded)', async () => {
  delete process.env.SHOAL_NET_SCRATCH_READS;
  assert.is(await unevenEchoStress(testSeed()), 40);
});

test('stream reads: 40 uneven echoes at once stay byte-exact (seeded)', async () => {
  process.env.SHOAL_NET_SCRATCH_READS = '0';
  try {
    assert.is(await unevenEchoStress(testSeed()), 0);
  } finally {
    delete process.env.SHOAL_NET_SCRATCH_READS;
  }
});

test("stream reads: a peer's half-close still ends the handler's reads after every byte", async () => {
  process.env.SHOAL_NET_SCRATCH_READS = '0';
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'echo', ringBytes: 4096 });
    const payload = bytes(300_000, testSeed());
    const s = await dial(srv.port);
    const got = collect(s);
    s.end(payload);
    assert.ok((await within(got, 20_000, 'echo')).equals(payload));
    assert.is(r.reactor.stats().scratchReads, 0);
  } finally {
    delete process.env.SHOAL_NET_SCRATCH_READS;
    await r.close();
  }
});

test.run();
