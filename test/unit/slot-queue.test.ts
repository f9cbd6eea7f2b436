/**
 * Slot queue guarantees on one thread: FIFO across wraps, full/empty, zero-copy claims, several
 * handles on one queue sharing the positions, WANT_SPACE signalling, and call-site errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSlotQueue, initSlotQueue, slotQueueBytes, SlotQueue } from '../../src/shm/slot-queue.js';
import { RingCorruptError } from '../../src/core/errors.js';
import { rng, testSeed } from '../fixtures/seed.js';
import { code } from '../fixtures/errors.js';

test('items come out once each and in order across many wraps, whichever handle claims (seeded)', () => {
  const seed = testSeed();
  try {
    const rand = rng(seed);
    const d = createSlotQueue(8, 16);
    const p = new SlotQueue(d);
    const consumers = [new SlotQueue(d), new SlotQueue(d), new SlotQueue(d)];
    let put = 0;
    let got = 0;
    while (got < 50_000) {
      for (let k = Math.floor(rand() * 10); k > 0; k--) {
        const len = Math.floor(rand() * 17);
        const off = p.reserve();
        if (off < 0) break;
        for (let j = 0; j < len; j++) p.bytes[off + j] = (put + j) & 0xff;
        p.commit(len, put++);
      }
      for (let k = Math.floor(rand() * 10); k > 0; k--) {
        const c = consumers[Math.floor(rand() * consumers.length)]!;
        const len = c.claim();
        if (len < 0) break;
        assert.is(c.claimTag, got);
        for (let j = 0; j < len; j++) assert.is(c.bytes[c.claimOffset + j], (got + j) & 0xff);
        c.release();
        got++;
      }
    }
  } catch (e) {
    console.error(`seed ${seed} (replay with SHOAL_SEED=${seed})`);
    throw e;
  }
});

test('a full queue refuses puts and an empty one refuses claims', () => {
  const q = new SlotQueue(createSlotQueue(4, 8));
  assert.is(q.tryTake(), null);
  for (let i = 0; i < 4; i++) assert.ok(q.tryPut(new Uint8Array([i])));
  assert.is(q.size(), 4);
  assert.is(q.tryPut(new Uint8Array([9])), false);
  assert.equal([...q.tryTake()!], [0]);
  assert.ok(q.tryPut(new Uint8Array([4])));
  for (let i = 1; i <= 4; i++) assert.equal([...q.tryTake()!], [i]);
  assert.is(q.size(), 0);
});

test('a reserved but uncommitted slot is not claimable and holds later items back (FIFO)', () => {
  const d = createSlotQueue(4, 8);
  const p1 = new SlotQueue(d);
  const p2 = new SlotQueue(d);
  const c = new SlotQueue(d);
  const off = p1.reserve();
  assert.ok(p2.tryPut(new Uint8Array([2])));
  assert.is(c.claim(), -1);
  p1.bytes[off] = 1;
  p1.commit(1, 1);
  assert.is(c.claim(), 1);
  assert.is(c.claimTag, 1);
  c.release();
  assert.equal([...c.tryTake()!], [2]);
});

test('a producer that asked for space is told once by the next release', () => {
  let told = 0;
  const d = createSlotQueue(2, 8);
  const p = new SlotQueue(d);
  const c = new SlotQueue(d, { onProducerWaiting: () => told++ });
  p.tryPut(new Uint8Array(1));
  p.tryPut(new Uint8Array(1));
  assert.is(p.hasSpace(), false);
  assert.is(c.claim(), 1);
  assert.is(p.hasSpace(), false, 'a claimed slot is not free until released');
  assert.is(c.release(), true);
  assert.is(told, 1);
  assert.is(p.hasSpace(), true);
  c.claim();
  assert.is(c.release(), false);
  assert.is(told, 1);
});

test('the more flag and zero-copy view round-trip; slotBytes is the payload limit', () => {
  const q = new SlotQueue(createSlotQueue(2, 16));
  assert.ok(q.tryPut(new Uint8Array(16).fill(3), 5, true));
  assert.is(q.claim(), 16);
  assert.is(q.claimMore, true);
  assert.equal([...q.view()], new Array(16).fill(3));
  q.release();
  assert.is(
    code(() => q.tryPut(new Uint8Array(17))),
    'ERR_OUT_OF_RANGE',
  );
});

test('bad input and misuse fail at the call site with a code', () => {
  assert.is(
    code(() => createSlotQueue(3, 8)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => createSlotQueue(4, 12)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => createSlotQueue(4, 0)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => initSlotQueue(new SharedArrayBuffer(64), 0, 4, 8)),
    'ERR_OUT_OF_RANGE',
  );
  const q = new SlotQueue(createSlotQueue(4, 8));
  assert.is(
    code(() => q.commit(1)),
    'ERR_INVALID_STATE',
  );
  assert.is(
    code(() => q.release()),
    'ERR_INVALID_STATE',
  );
  q.reserve();
  assert.is(
    code(() => q.reserve()),
    'ERR_INVALID_STATE',
  );
  assert.is(
    code(() => q.commit(9)),
    'ERR_OUT_OF_RANGE',
  );
  q.commit(8);
  q.claim();
  assert.is(
    code(() => q.claim()),
    'ERR_INVALID_STATE',
  );
  q.release();
  const sab = new SharedArrayBuffer(slotQueueBytes(4, 8));
  assert.is(
    code(() => new SlotQueue({ kind: 'shoal:slot-queue', sab, byteOffset: 0, slots: 4, slotBytes: 8 })),
    RingCorruptError.code,
  );
  assert.is(
    code(() => new SlotQueue({ kind: 'nope' } as never)),
    'ERR_INVALID_ARG_TYPE',
  );
});

test.run();
