/**
 * Fuzzing the frame decoders (fast-check): a byte ring or slot queue whose memory holds garbage,
 * or valid frames with bytes flipped, yields frames inside the ring or a RingCorruptError, never
 * another error, a hang (every loop below is bounded by what a correct ring could hold) or an
 * allocation sized by garbage. Plus a model check of random valid operation sequences.
 * fast-check prints the seed and the shrunk counterexample on failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createByteRing,
  initByteRing,
  byteRingBytes,
  maxFrameLength,
  BYTE_RING_HEADER_BYTES,
} from '../../src/shm/byte-ring.js';
import { ByteRingWriter } from '../../src/shm/byte-ring-writer.js';
import { ByteRingReader } from '../../src/shm/byte-ring-reader.js';
import { initSlotQueue, slotQueueBytes, SlotQueue } from '../../src/shm/slot-queue.js';
import { RingCorruptError } from '../../src/core/errors.js';

const runs = Number(process.env.SHOAL_FUZZ_RUNS ?? 1000);

/** Read until empty or corrupt; bounded by the most frames a ring of `cap` can hold. */
function readAll(r: ByteRingReader, cap: number): { frames: number; corrupt: boolean } {
  let frames = 0;
  for (let k = 0; k <= cap / 8 + 2; k++) {
    let n: number;
    try {
      n = r.next();
    } catch (e) {
      if (e instanceof RingCorruptError) return { frames, corrupt: true };
      throw e;
    }
    if (n < 0) return { frames, corrupt: false };
    assert.ok(r.frameOffset >= 8 && r.frameOffset + r.frameLength <= cap, 'a frame lies inside the data');
    assert.ok(r.frameLength <= r.maxFrameLength);
    assert.is(r.copy().length, r.frameLength);
    frames++;
    if (k % 3 === 0) r.release();
  }
  assert.unreachable('the reader returned more frames than the ring can hold');
  return { frames, corrupt: false };
}

test('a byte ring full of garbage reads as frames inside the ring or RingCorruptError', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 6, max: 12 }),
      fc.uint8Array({ minLength: 64, maxLength: 4096 + 256 }),
      (log2, junk) => {
        const cap = 2 ** log2;
        const sab = new SharedArrayBuffer(byteRingBytes(cap));
        initByteRing(sab, 0, cap);
        const all = new Uint8Array(sab);
        // garbage everywhere but the MAGIC / CAPACITY words (attach checks those; tested below)
        for (let i = 0; i < all.length; i++) if (i < 128 || i >= 136) all[i] = junk[i % junk.length]!;
        const r = new ByteRingReader({ kind: 'shoal:byte-ring', sab, byteOffset: 0, capacity: cap });
        readAll(r, cap);
      },
    ),
    { numRuns: runs },
  );
});

test('valid frames with random bytes flipped read as frames or RingCorruptError', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: maxFrameLength(1024) }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(1024),
      (lens, flips, skew) => {
        const d = createByteRing(1024);
        const w = new ByteRingWriter(d);
        // start somewhere inside the ring so padding frames are in play
        const r0 = new ByteRingReader(d);
        w.tryWrite(new Uint8Array(skew & ~7 & 511));
        w.flush();
        r0.next();
        r0.release();
        for (const n of lens) if (!w.tryWrite(new Uint8Array(n).fill(n & 0xff))) break;
        w.flush();
        const all = new Uint8Array(d.sab);
        for (const [at, v] of flips) {
          const i = at % all.length;
          if (i < 128 || i >= 136) all[i] = v;
        }
        readAll(new ByteRingReader(d), 1024);
      },
    ),
    { numRuns: runs },
  );
});

test('a slot queue full of garbage claims inside the slots or throws RingCorruptError', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 8 }),
      fc.uint8Array({ minLength: 16, maxLength: 2048 }),
      (log2, words, junk) => {
        const slots = 2 ** log2;
        const slotBytes = words * 8;
        const size = slotQueueBytes(slots, slotBytes);
        const sab = new SharedArrayBuffer(size);
        initSlotQueue(sab, 0, slots, slotBytes);
        const all = new Uint8Array(sab);
        for (let i = 0; i < all.length; i++) if (i < 192 || i >= 204) all[i] = junk[i % junk.length]!;
        const q = new SlotQueue({ kind: 'shoal:slot-queue', sab, byteOffset: 0, slots, slotBytes });
        for (let k = 0; k <= slots + 1; k++) {
          try {
            const n = q.claim();
            if (n < 0) break;
            assert.ok(n <= slotBytes && q.claimOffset + n <= q.bytes.length);
            q.release();
          } catch (e) {
            if (!(e instanceof RingCorruptError)) throw e;
            break;
          }
        }
        for (let k = 0; k <= slots + 1; k++) {
          try {
            if (!q.tryPut(new Uint8Array(1))) break;
          } catch (e) {
            if (!(e instanceof RingCorruptError)) throw e;
            break;
          }
        }
      },
    ),
    { numRuns: runs },
  );
});

test('a descriptor over garbage fails to attach with RingCorruptError', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: BYTE_RING_HEADER_BYTES + 64, maxLength: BYTE_RING_HEADER_BYTES + 64 }),
      (junk) => {
        const sab = new SharedArrayBuffer(junk.length);
        new Uint8Array(sab).set(junk);
        if (new Int32Array(sab)[32] === 0x53485242) return; // the 2^-32 case of a valid magic
        assert.throws(
          () => new ByteRingReader({ kind: 'shoal:byte-ring', sab, byteOffset: 0, capacity: 64 }),
          (e: unknown) => e instanceof RingCorruptError,
        );
      },
    ),
    { numRuns: runs },
  );
});

type Op =
  | { op: 'write'; len: number; tag: number }
  | { op: 'commit'; len: number; tag: number }
  | { op: 'flush' }
  | { op: 'read'; n: number }
  | { op: 'release' };

for (const stamped of [false, true])
  test(`random operation sequences agree with a FIFO model${stamped ? ' (stamped ring)' : ''}`, () => {
    const cap = 512;
    const max = maxFrameLength(cap);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('write' as const), len: fc.integer({ min: 0, max }), tag: fc.integer() }),
      fc.record({ op: fc.constant('commit' as const), len: fc.integer({ min: 0, max }), tag: fc.integer() }),
      fc.constant({ op: 'flush' as const }),
      fc.record({ op: fc.constant('read' as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.constant({ op: 'release' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const d = createByteRing(cap, { stamped });
        const w = new ByteRingWriter(d, { autoPublishBytes: cap });
        const r = new ByteRingReader(d);
        const unpublished: [number, number][] = [];
        const published: [number, number][] = [];
        for (const o of ops) {
          if (o.op === 'write') {
            const ok = w.tryWrite(new Uint8Array(o.len).fill(o.tag & 0xff), o.tag);
            if (ok) {
              unpublished.push([o.len, o.tag | 0]); // | 0: fast-check generates -0
              if (w.pendingBytes() === 0) published.push(...unpublished.splice(0)); // auto-published
            } else published.push(...unpublished.splice(0)); // a refused write publishes
          } else if (o.op === 'commit') {
            // reserve room for len + 5, use len (commit's shorter-than-reserved path)
            const off = w.reserve(Math.min(max, o.len + 5));
            if (off >= 0) {
              w.bytes.fill(o.tag & 0xff, off, off + o.len);
              w.commit(o.len, o.tag);
              unpublished.push([o.len, o.tag | 0]);
              if (w.pendingBytes() === 0) published.push(...unpublished.splice(0));
            } else published.push(...unpublished.splice(0));
          } else if (o.op === 'flush') {
            w.flush();
            published.push(...unpublished.splice(0));
          } else if (o.op === 'read') {
            for (let i = 0; i < o.n; i++) {
              const n = r.next();
              const want = published.shift();
              if (!want) {
                assert.is(n, -1);
                break;
              }
              assert.is(n, want[0]);
              assert.is(r.frameTag, want[1]);
              if (n > 0) assert.is(r.bytes[r.frameOffset + n - 1], want[1] & 0xff);
            }
          } else {
            r.release();
          }
        }
      }),
      { numRuns: runs },
    );
  });

test.run();
