/**
 * SPSC byte ring between real threads: every frame (0 B .. 64 KiB, skewed small, many crossing the
 * wrap point) arrives exactly once, in order, with its checksum and every byte intact — with the
 * producer slowed, with the consumer slowed, and with the main thread reading through async waits.
 * Default: 300k frames per case; SHOAL_STRESS=long: 10M per worker case. Seeded; the seed is in
 * every failure message (replay with SHOAL_SEED=...). Every wait is bounded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createByteRing, maxFrameLength } from '../../src/shm/byte-ring.js';
import { ByteRingReader } from '../../src/shm/byte-ring-reader.js';
import { createDoorbell, Doorbell } from '../../src/shm/doorbell.js';
import { checkFrame } from '../fixtures/shm-frames.js';
import { testSeed } from '../fixtures/seed.js';
import { LONG, STALL_MS, all, describe, start } from '../fixtures/shm-harness.js';

const FRAMES = LONG ? 10_000_000 : 300_000;
const LIMIT_MS = LONG ? 3_600_000 : 240_000;
const CAPACITY = 1 << 18; // 256 KiB: a 64 KiB frame crosses or pads at the wrap often
const MAX_LEN = Math.min(65536, maxFrameLength(CAPACITY));

async function spsc(slow: 'producer' | 'consumer', stamped = false): Promise<void> {
  const seed = testSeed();
  const ring = createByteRing(CAPACITY, { stamped });
  const pBell = createDoorbell();
  const cBell = createDoorbell();
  const common = { seed, stallMs: STALL_MS, frames: FRAMES, ring, maxLen: MAX_LEN };
  const consumer = start(
    { ...common, role: 'ring-consumer', bell: cBell, peer: pBell, slow: slow === 'consumer' },
    LIMIT_MS,
  );
  const producer = start(
    { ...common, role: 'ring-producer', bell: pBell, peer: cBell, slow: slow === 'producer' },
    LIMIT_MS,
  );
  try {
    const [c, p] = await all([consumer, producer]);
    console.log(`  [seed ${seed}] ${describe('consumer', c!)}; producer parks ${p!.parks}, notifies ${p!.notifies}`);
    assert.is(c!.frames, FRAMES);
    assert.is(c!.bytes, p!.bytes, 'the consumer saw every byte the producer wrote');
  } catch (e) {
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
}

test('every frame arrives once, in order and intact when the consumer is the slow side', () => spsc('consumer'));

test('every frame arrives once, in order and intact when the producer is the slow side', () => spsc('producer'));

test('a stamped ring (published through its HEADER words) delivers every frame once, in order, intact', () =>
  spsc('consumer', true));

test('a stamped ring delivers every frame when the producer is the slow side', () => spsc('producer', true));

test('a main-thread reader waiting asynchronously gets every frame from a worker', async () => {
  const seed = testSeed();
  const frames = LONG ? 1_000_000 : 100_000;
  const ring = createByteRing(CAPACITY);
  const pBell = createDoorbell();
  const cBellDesc = createDoorbell();
  const bell = new Doorbell(cBellDesc, { spinIterations: 100 });
  const peer = new Doorbell(pBell);
  const r = new ByteRingReader(ring, { onWriterWaiting: () => peer.ring() });
  const producer = start(
    {
      seed,
      stallMs: STALL_MS,
      frames,
      ring,
      maxLen: MAX_LEN,
      role: 'ring-producer',
      bell: pBell,
      peer: cBellDesc,
      slow: false,
    },
    LIMIT_MS,
  );
  try {
    let i = 0;
    while (i < frames) {
      if (!(await r.readable(bell, { timeoutMs: STALL_MS })))
        assert.unreachable(`nothing published for ${STALL_MS} ms after frame ${i - 1}`);
      while (i < frames && r.next() >= 0) {
        assert.is(r.frameTag, i);
        const bad = checkFrame(seed, i, r.bytes, r.frameOffset, r.frameLength, MAX_LEN);
        if (bad) assert.unreachable(bad);
        i++;
      }
      r.release();
    }
    const [p] = await all([producer]);
    assert.is(i, p!.frames);
    console.log(`  [seed ${seed}] main-thread reader: ${i} frames, main parks ${bell.stats().parks}`);
  } catch (e) {
    await producer.stop();
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
});

test.run();
