/**
 * Cross-thread channels on one thread, for what the shared-memory rewrite added: values that take
 * the fast slots (and their edges) arrive exactly as the codec would deliver them, under both
 * transports; putMany / takeMany; exact capacities for power-of-two and other sizes; positions
 * that wrap at 2^30; sliding eviction only when full.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dropping, sliding } from '../../src/core/buffers.js';
import { decode, encode } from '../../src/codec/index.js';
import { sharedChan } from '../../src/shared-chan/index.js';
import {
  DEQ,
  ENQ,
  POS_MASK,
  attachSharedChan,
  type SharedChanDescriptor,
} from '../../src/shared-chan/memory/layout.js';
import type { SharedChannel } from '../../src/shared-chan/memory/channel.js';
import { code } from '../fixtures/errors.js';

const VALUES: unknown[] = [
  0,
  -0,
  1,
  -1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  -(2 ** 31) - 1,
  1.5,
  -1e-300,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_SAFE_INTEGER,
  '',
  'a',
  'abcd',
  'abcdefgh',
  'abcdefghi',
  'x'.repeat(16),
  'y'.repeat(17),
  'ÿé\u0000\u00ff',
  'ж',
  '😀',
  'a\ud800b',
  true,
  false,
  null,
  { a: 1 },
  [1, 'x'],
  new Date(3),
  10n,
];

for (const transport of ['shared', 'message'] as const) {
  const test = suite(`shared channel values and batches [${transport}]`);
  const mk = <T>(b: Parameters<typeof sharedChan>[0], valueBytes?: number): SharedChannel<T> =>
    sharedChan<T>(b, { transport, valueBytes });

  test('every value arrives as the codec would deliver it (fast slots included)', async () => {
    const ch = mk<unknown>(64);
    for (const v of VALUES) assert.ok(ch.tryPut(v));
    for (const v of VALUES) {
      const got = await ch.take();
      assert.ok(
        Object.is(got, v) || (typeof v === 'object' && JSON.stringify(got) === JSON.stringify(decode(encode(v)))),
        `${String(v)} came back as ${String(got)}`,
      );
      if (typeof v === 'number') assert.ok(Object.is(got, v), `number ${v} kept exactly (got ${String(got)})`);
    }
  });

  test('a latin1 string of exactly valueBytes chars fits; one char more, or a wider char, goes through the codec limit', async () => {
    const ch = mk<string>(4, 16);
    assert.ok(ch.tryPut('z'.repeat(16)));
    assert.is(await code(() => ch.tryPut('z'.repeat(17))), 'ERR_OUT_OF_RANGE');
    assert.is(await code(() => ch.tryPut('ж'.repeat(16))), 'ERR_OUT_OF_RANGE');
    assert.ok(ch.tryPut('ж'.repeat(4)));
    assert.is(await ch.take(), 'z'.repeat(16));
    assert.is(await ch.take(), 'ж'.repeat(4));
  });

  test('putMany puts in order and waits for room; takeMany takes up to max', async () => {
    const ch = mk<number>(4);
    const p = ch.putMany([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const got: number[] = [];
    while (got.length < 10) got.push(...(await ch.takeMany(3)));
    assert.is(await p, 10);
    assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok((await ch.putMany(new Set([10, 11]))) === 2);
    assert.equal(await ch.takeMany(5), [10, 11]);
  });

  test('putMany resolves with how many went in once the channel closes; takeMany gives [] when drained', async () => {
    const ch = mk<number>(2);
    const p = ch.putMany([1, 2, 3, 4]);
    assert.equal(await ch.takeMany(1), [1]);
    ch.close();
    assert.is(await p, 3, 'values 1..3 went in before the close, 4 never');
    assert.equal(await ch.takeMany(10), [2, 3]);
    assert.equal(await ch.takeMany(10), []);
    assert.is(await ch.putMany([5]), 0);
  });

  test('putMany refuses a bad value at the call site and puts nothing; takeMany checks max', async () => {
    const ch = mk<unknown>(8);
    assert.is(await code(() => ch.putMany([1, undefined, 3])), 'ERR_INVALID_ARG_VALUE');
    assert.is(await code(() => ch.putMany([1, () => 2])), 'ERR_SHOAL_UNCLONEABLE');
    assert.is(await code(() => ch.putMany(5 as unknown as number[])), 'ERR_INVALID_ARG_TYPE');
    assert.is(ch.stats().buffered, 0);
    assert.is(await code(() => ch.takeMany(0)), 'ERR_OUT_OF_RANGE');
    assert.is(await code(() => ch.takeMany('2' as unknown as number)), 'ERR_INVALID_ARG_TYPE');
  });

  test('takeMany times out or is cancelled without consuming anything', async () => {
    const ch = mk<number>(2);
    assert.is(await code(() => ch.takeMany(4, { timeout: 5 })), 'ERR_SHOAL_TIMEOUT');
    assert.is(await code(() => ch.takeMany(4, { timeout: 0 })), 'ERR_SHOAL_TIMEOUT');
    const ac = new AbortController();
    const t = ch.takeMany(4, { signal: ac.signal });
    ac.abort();
    assert.is(await code(() => t), 'ERR_SHOAL_CANCELLED');
    await ch.put(1);
    assert.equal(await ch.takeMany(4), [1]);
  });

  for (const cap of [1, 3, 4, 5, 8]) {
    test(`a fixed buffer of ${cap} holds exactly ${cap}; dropping keeps the first ${cap}; sliding the last ${cap}`, async () => {
      const f = mk<number>(cap);
      const d = mk<number>(dropping(cap));
      const s = mk<number>(sliding(cap));
      for (let i = 0; i < cap; i++) assert.ok(f.tryPut(i));
      assert.not.ok(f.tryPut(cap), 'full');
      for (let i = 0; i < 2 * cap + 3; i++) {
        assert.ok(d.tryPut(i));
        assert.ok(s.tryPut(i));
      }
      assert.equal(
        await d.takeMany(100),
        Array.from({ length: cap }, (_, i) => i),
      );
      assert.equal(
        await s.takeMany(100),
        Array.from({ length: cap }, (_, i) => cap + 3 + i),
      );
    });
  }

  test('a sliding put drops nothing while there is room', async () => {
    const s = mk<number>(sliding(3));
    assert.ok(s.tryPut(1));
    assert.ok(s.tryPut(2));
    assert.is(s.tryTake(), 1);
    assert.ok(s.tryPut(3));
    assert.ok(s.tryPut(4));
    assert.equal(await s.takeMany(10), [2, 3, 4]);
  });

  test.run();
}

const wrap = suite('shared channel positions');

/** Move a fresh, empty channel's positions to `p` (every slot free for its next position). */
function setPositions(d: SharedChanDescriptor, p: number): void {
  const a = attachSharedChan(d);
  for (let k = 0; k < a.slots; k++) {
    const pos = (p + k) & POS_MASK;
    Atomics.store(a.words, (pos & (a.slots - 1)) * a.stride, pos);
  }
  Atomics.store(a.ctl, ENQ, p);
  Atomics.store(a.ctl, DEQ, p);
}

for (const [name, buffer] of [
  ['fixed 4', 4],
  ['fixed 3', 3],
  ['sliding 3', sliding(3)],
  ['dropping 4', dropping(4)],
] as const) {
  wrap(`${name}: FIFO, capacity and buffered hold across the 2^30 wrap of positions`, async () => {
    const ch = sharedChan<number>(buffer, { transport: 'shared' });
    setPositions(ch.descriptor().descriptor as SharedChanDescriptor, POS_MASK - 9);
    const cap = ch.stats().capacity;
    let next = 0;
    let want = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < cap; i++) assert.ok(ch.tryPut(next++));
      assert.is(ch.stats().buffered, cap);
      if (typeof buffer === 'number') assert.not.ok(ch.tryPut(-1), 'full');
      const k = 1 + (round % cap);
      for (let i = 0; i < k; i++) assert.is(ch.tryTake(), want++);
      for (let v = ch.tryTake(); v !== undefined; v = ch.tryTake()) assert.is(v, want++);
      assert.is(ch.stats().buffered, 0);
    }
  });
}

wrap.run();
