/**
 * Slot queue with one producer (the main thread, waiting asynchronously when the queue is full)
 * and three consumer workers: every item is claimed exactly once, intact, and each consumer's
 * claims come in increasing order — with the consumers slowed and with the producer slowed.
 * Default 300k items per case; SHOAL_STRESS=long: 10M. Seeded; every wait bounded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSlotQueue, SlotQueue } from '../../src/shm/slot-queue.js';
import { createDoorbell, Doorbell } from '../../src/shm/doorbell.js';
import { fillFrame, frameLength } from '../fixtures/shm-frames.js';
import { rng, testSeed } from '../fixtures/seed.js';
import { LONG, STALL_MS, all, describe, start } from '../fixtures/shm-harness.js';

const TOTAL = LONG ? 10_000_000 : 300_000;
const CONSUMERS = 3;
const SLOTS = 256;
const SLOT_BYTES = 248;

function busy(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i * 31) | 0;
  return x;
}

async function run(slow: 'producer' | 'consumers'): Promise<void> {
  const seed = testSeed();
  const rand = rng(seed);
  const queue = createSlotQueue(SLOTS, SLOT_BYTES);
  const tally = new Int32Array(new SharedArrayBuffer(4 * TOTAL));
  const taken = new Int32Array(new SharedArrayBuffer(4));
  const mainDesc = createDoorbell();
  const descs = Array.from({ length: CONSUMERS }, () => createDoorbell());
  const mine = new Doorbell(mainDesc, { spinIterations: 100 });
  const bells = descs.map((d) => new Doorbell(d));
  const ringAll = () => {
    for (const b of bells) b.ring();
  };
  const runs = descs.map((bell) =>
    start(
      {
        role: 'queue-consumer',
        seed,
        stallMs: STALL_MS,
        slow: slow === 'consumers',
        total: TOTAL,
        queue,
        bell,
        producer: mainDesc,
        peers: descs,
        tally,
        taken,
      },
      LONG ? 3_600_000 : 240_000,
    ),
  );
  try {
    const q = new SlotQueue(queue);
    let batch = 0;
    let fullWaits = 0;
    for (let seq = 0; seq < TOTAL; seq++) {
      let off = q.reserve();
      while (off < 0) {
        ringAll();
        fullWaits++;
        const s = mine.seq();
        if (!q.hasSpace() && (await mine.wait(s, { timeoutMs: STALL_MS })) === 'timed-out' && !q.hasSpace()) {
          assert.unreachable(`producer: queue full for ${STALL_MS} ms at item ${seq} (lost wake-up?)`);
        }
        off = q.reserve();
      }
      const len = frameLength(seed, seq, SLOT_BYTES);
      fillFrame(seed, seq, q.bytes, off, len);
      q.commit(len, seq);
      if (--batch <= 0) {
        ringAll();
        batch = 1 + Math.floor(rand() * 32);
        if (slow === 'producer' && rand() < 0.2) busy(Math.floor(rand() * 50_000));
      }
    }
    ringAll();
    const reports = await all(runs);
    let frames = 0;
    for (const r of reports) frames += r.frames;
    assert.is(frames, TOTAL);
    for (let i = 0; i < TOTAL; i++) if (tally[i] !== 1) assert.unreachable(`item ${i} claimed ${tally[i]} times`);
    console.log(
      `  [seed ${seed}] ${reports.map((r, i) => describe(`consumer ${i}`, r)).join('\n  ')}\n  producer waited for space ${fullWaits} times`,
    );
  } catch (e) {
    await Promise.all(runs.map((r) => r.stop()));
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
}

test('every item is claimed exactly once, intact and in order per consumer, when the consumers are slow', () =>
  run('consumers'));

test('every item is claimed exactly once, intact and in order per consumer, when the producer is slow', () =>
  run('producer'));

test.run();
