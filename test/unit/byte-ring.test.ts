/**
 * SPSC byte ring guarantees on one thread: order and bytes across wraps, contiguous frames with
 * padding, batched publication, WANT_SPACE signalling, descriptors, and call-site errors.
 * Randomised cases use a printed seed (set SHOAL_SEED to replay).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createByteRing,
  initByteRing,
  resetByteRing,
  byteRingBytes,
  maxFrameLength,
  BYTE_RING_HEADER_BYTES,
} from '../../src/shm/byte-ring.js';
import { ByteRingWriter } from '../../src/shm/byte-ring-writer.js';
import { ByteRingReader } from '../../src/shm/byte-ring-reader.js';
import { RingCorruptError } from '../../src/core/errors.js';
import { checkFrame, fillFrame, frameLength } from '../fixtures/shm-frames.js';
import { rng, testSeed } from '../fixtures/seed.js';
import { code } from '../fixtures/errors.js';

test('frames come out in order and byte for byte across many wraps (seeded model run)', () => {
  const seed = testSeed();
  try {
    const rand = rng(seed);
    const cap = 4096;
    const max = maxFrameLength(cap);
    const d = createByteRing(cap);
    const w = new ByteRingWriter(d, { autoPublishBytes: 1024 });
    const r = new ByteRingReader(d);
    let sent = 0;
    let got = 0;
    let wraps = 0;
    let lastOffset = 0;
    while (got < 20_000) {
      const burst = 1 + Math.floor(rand() * 20);
      for (let k = 0; k < burst; k++) {
        const len = frameLength(seed, sent, max);
        const off = w.reserve(Math.min(max, len + Math.floor(rand() * 16))); // reserve more, commit less
        if (off < 0) break;
        fillFrame(seed, sent, w.bytes, off, len);
        w.commit(len, sent);
        sent++;
      }
      if (rand() < 0.7) w.flush();
      const take = Math.floor(rand() * 30);
      for (let k = 0; k < take && r.next() >= 0; k++) {
        assert.is(r.frameTag, got, 'tag carries the sequence number');
        const bad = checkFrame(seed, got, r.bytes, r.frameOffset, r.frameLength, max);
        if (bad) assert.unreachable(bad);
        if (r.frameOffset < lastOffset) wraps++;
        lastOffset = r.frameOffset;
        got++;
      }
      if (rand() < 0.5) r.release();
    }
    assert.ok(wraps > 100, `wrapped ${wraps} times`);
  } catch (e) {
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
});

test('resetByteRing empties a used ring without clearing its data: stale bytes are never read (seeded)', () => {
  const seed = testSeed();
  try {
    const rand = rng(seed);
    const cap = 1024;
    const max = maxFrameLength(cap);
    const sab = new SharedArrayBuffer(byteRingBytes(cap));
    let d = initByteRing(sab, 0, cap);
    for (let life = 0; life < 40; life++) {
      // garbage where frames were: a reset must not make any of it readable
      if (life > 0) crypto.getRandomValues(new Uint8Array(sab, BYTE_RING_HEADER_BYTES, cap));
      const w = new ByteRingWriter(d);
      const r = new ByteRingReader(d);
      assert.is(r.next(), -1, 'a reset ring is empty');
      const n = 1 + Math.floor(rand() * 60);
      let got = 0;
      const readAll = (): void => {
        while (r.next() >= 0) {
          assert.is(r.frameTag, life * 1000 + got, 'frames of this life, in order');
          const bad = checkFrame(seed, life * 1000 + got, r.bytes, r.frameOffset, r.frameLength, max);
          if (bad) assert.unreachable(bad);
          got++;
        }
      };
      for (let i = 0; i < n; i++) {
        const len = frameLength(seed, life * 1000 + i, max);
        const off = w.reserve(len);
        if (off < 0) {
          w.flush();
          readAll();
          r.release();
          i--;
          continue;
        }
        fillFrame(seed, life * 1000 + i, w.bytes, off, len);
        w.commit(len, life * 1000 + i);
      }
      w.flush();
      readAll();
      assert.is(got, n, 'every frame of this life, and nothing more');
      // stop mid-ring (HEAD and TAIL anywhere), as a connection does, then recycle
      d = resetByteRing(sab, 0, cap);
    }
    // and a last life on the ring as the loop left it
    const w = new ByteRingWriter(d);
    const r = new ByteRingReader(d);
    for (let i = 0; i < 5; i++) {
      const len = frameLength(seed, 99_000 + i, max);
      const off = w.reserve(len);
      fillFrame(seed, 99_000 + i, w.bytes, off, len);
      w.commit(len, i);
      w.flush();
      assert.is(r.next(), len);
      const bad = checkFrame(seed, 99_000 + i, r.bytes, r.frameOffset, r.frameLength, max);
      if (bad) assert.unreachable(bad);
      r.release();
    }
  } catch (e) {
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
});

test('a frame that would cross the end is padded and stays contiguous', () => {
  const d = createByteRing(64); // max frame 24
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  assert.ok(w.tryWrite(new Uint8Array(20).fill(1))); // 8 + 24 = 32 bytes, ends at 32
  assert.ok(w.tryWrite(new Uint8Array(8).fill(2))); // 16 bytes, ends at 48
  w.flush();
  assert.is(r.next(), 20);
  assert.is(r.next(), 8);
  r.release();
  // 16 bytes left before the end: a 24-byte payload needs 32, so it goes to 0 after a pad
  assert.ok(w.tryWrite(new Uint8Array(24).fill(3)));
  w.flush();
  assert.is(r.next(), 24);
  assert.is(r.frameOffset, 8, 'payload starts right after the header at index 0');
  assert.equal([...r.view()], new Array(24).fill(3));
  assert.is(r.next(), -1);
});

test('a frame of maxFrameLength fits an empty ring at every position', () => {
  const cap = 256;
  const d = createByteRing(cap);
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  const big = new Uint8Array(maxFrameLength(cap)).fill(9);
  for (let pos = 0; pos < cap; pos += 8) {
    assert.ok(w.tryWrite(big), `at ${pos}`);
    w.flush();
    assert.is(r.next(), big.length);
    r.release();
    // move the position on by 8 bytes (an empty frame)
    assert.ok(w.tryWrite(new Uint8Array(0)));
    w.flush();
    assert.is(r.next(), 0);
    r.release();
  }
});

test('nothing is visible before flush and one flush publishes the whole batch', () => {
  let publishes = 0;
  const d = createByteRing(1024);
  const w = new ByteRingWriter(d, { onPublish: () => publishes++ });
  const r = new ByteRingReader(d);
  for (let i = 0; i < 10; i++) assert.ok(w.tryWrite(new Uint8Array([i]), i));
  assert.is(r.available(), false);
  assert.is(r.next(), -1);
  assert.is(w.flush(), true);
  assert.is(w.flush(), false, 'a second flush has nothing to publish');
  assert.is(publishes, 1);
  const tags: number[] = [];
  assert.is(
    r.drain((b, off, _len, tag) => {
      assert.is(b[off], tag);
      tags.push(tag);
    }),
    10,
  );
  assert.equal(tags, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('commits publish on their own once autoPublishBytes are pending', () => {
  let publishes = 0;
  const d = createByteRing(1024);
  const w = new ByteRingWriter(d, { autoPublishBytes: 64, onPublish: () => publishes++ });
  const r = new ByteRingReader(d);
  for (let i = 0; i < 3; i++) w.tryWrite(new Uint8Array(8)); // 16 bytes each
  assert.is(r.available(), false);
  w.tryWrite(new Uint8Array(8)); // 64 pending
  assert.is(publishes, 1);
  assert.is(r.available(), true);
});

test('a full ring refuses the write, publishes what is pending, and takes it after release', () => {
  const d = createByteRing(128); // max frame 56
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  assert.ok(w.tryWrite(new Uint8Array(56)));
  assert.ok(w.tryWrite(new Uint8Array(56)));
  assert.is(w.reserve(0), -1, 'full');
  assert.ok(r.available(), 'the refused reserve published the pending frames');
  assert.is(r.next(), 56);
  assert.is(w.reserve(0), -1, 'still full: the reader has not released');
  r.release();
  assert.ok(w.tryWrite(new Uint8Array(0)));
});

test('commit may shrink the reservation; tags and the more flag round-trip', () => {
  const d = createByteRing(256);
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  const off = w.reserve(100);
  w.bytes.set([7, 8, 9], off);
  w.commit(3, -42, true);
  w.tryWrite(new Uint8Array([1]), 0x7fffffff);
  w.flush();
  assert.is(r.next(), 3);
  assert.equal([...r.view()], [7, 8, 9]);
  assert.is(r.frameTag, -42);
  assert.is(r.frameMore, true);
  assert.is(r.next(), 1);
  assert.is(r.frameTag, 0x7fffffff);
  assert.is(r.frameMore, false);
  const c = r.copy();
  assert.ok(c.buffer instanceof ArrayBuffer, 'copy() is not shared');
});

test('a writer that asked for space is told once by the next release', () => {
  let told = 0;
  const d = createByteRing(64);
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d, { onWriterWaiting: () => told++ });
  assert.ok(w.tryWrite(new Uint8Array(24)));
  assert.ok(w.tryWrite(new Uint8Array(24)));
  assert.is(w.hasSpace(24), false);
  assert.is(r.next(), 24);
  assert.is(r.release(), true);
  assert.is(told, 1);
  assert.is(r.next(), 24);
  assert.is(r.release(), false, 'WANT_SPACE was cleared');
  assert.is(told, 1);
  assert.is(w.hasSpace(24), true);
});

test('next() hands back space on its own past a quarter of a small ring', () => {
  const d = createByteRing(256);
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  for (let i = 0; i < 8; i++) assert.ok(w.tryWrite(new Uint8Array(24))); // 32 B frames
  w.flush();
  assert.is(w.hasSpace(24), false);
  for (let i = 0; i < 3; i++) r.next(); // 96 bytes read, released on the next next()
  r.next();
  assert.is(w.hasSpace(24), true);
});

test('a descriptor survives structured clone and attaches in a shared region', () => {
  const sab = new SharedArrayBuffer(byteRingBytes(128) * 2);
  const a = initByteRing(sab, 0, 128);
  const b = initByteRing(sab, byteRingBytes(128), 128);
  const w = new ByteRingWriter(structuredClone(b));
  const r = new ByteRingReader(structuredClone(b));
  w.tryWrite(new Uint8Array([5]));
  w.flush();
  assert.is(r.next(), 1);
  assert.is(new ByteRingReader(a).available(), false, 'the neighbour ring is untouched');
});

test('bad input fails at the call site with a code', () => {
  assert.is(
    code(() => createByteRing(100)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => createByteRing(32)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => createByteRing(2 ** 31)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => createByteRing('64' as unknown as number)),
    'ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    code(() => initByteRing(new ArrayBuffer(512) as unknown as SharedArrayBuffer, 0, 64)),
    'ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    code(() => initByteRing(new SharedArrayBuffer(512), 4, 64)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => initByteRing(new SharedArrayBuffer(300), 0, 64)),
    'ERR_OUT_OF_RANGE',
  );
  const d = createByteRing(64);
  const w = new ByteRingWriter(d);
  assert.is(
    code(() => w.tryWrite(new Uint8Array(25))),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => w.reserve(-1)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => w.reserve(1.5)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => w.commit(0)),
    'ERR_INVALID_STATE',
  );
  w.reserve(4);
  assert.is(
    code(() => w.reserve(4)),
    'ERR_INVALID_STATE',
  );
  assert.is(
    code(() => w.commit(5)),
    'ERR_OUT_OF_RANGE',
  );
  w.commit(4);
  assert.is(
    code(() => new ByteRingReader({ ...d, kind: 'x' } as never)),
    'ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    code(() => new ByteRingReader({ ...d, capacity: 128 })),
    'ERR_OUT_OF_RANGE',
  );
  const big = initByteRing(new SharedArrayBuffer(byteRingBytes(128)), 0, 128);
  assert.is(
    code(() => new ByteRingReader({ ...big, capacity: 64 })),
    RingCorruptError.code,
  );
  const plain = new SharedArrayBuffer(BYTE_RING_HEADER_BYTES + 64);
  assert.is(
    code(() => new ByteRingWriter({ kind: 'shoal:byte-ring', sab: plain, byteOffset: 0, capacity: 64 })),
    RingCorruptError.code,
  );
});

test('readBytes concatenates whole published frames up to its limit (at least one) and releases them', () => {
  const d = createByteRing(1024);
  const w = new ByteRingWriter(d);
  const r = new ByteRingReader(d);
  assert.is(r.readBytes(100).length, 0, 'nothing published');
  for (const s of ['abc', 'defgh', 'ij']) assert.ok(w.tryWrite(Buffer.from(s)));
  w.flush();
  assert.is(r.readBytes(4).toString(), 'abcdefgh', 'whole frames: the second one crosses the limit');
  assert.is(r.readBytes(1).toString(), 'ij');
  assert.is(r.readBytes(100).length, 0);
  // the space came back: the ring takes a frame of its largest size again
  assert.ok(w.tryWrite(new Uint8Array(w.maxFrameLength)));
});

test.run();
