/**
 * Cross-thread channels on one thread, under both transports: call-site checks (sizes, undefined,
 * refused and oversized values), timeouts, select, cancellation without trace, close, iteration,
 * descriptors and the argument seam, and the SHOAL_TRANSPORT switch.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chan } from '../../src/core/chan.js';
import { dropping, fixed, sliding } from '../../src/core/buffers.js';
import { RingCorruptError, TooManyPendingError } from '../../src/core/errors.js';
import { afterOp, select } from '../../src/core/select.js';
import { PortChan } from '../../src/shared-chan/port/channel.js';
import { SharedChan, MAX_SHARED_PENDING } from '../../src/shared-chan/memory/channel.js';
import { crossArgs, fromDescriptor, reviveArgs, sharedChan } from '../../src/shared-chan/index.js';
import { MAX_SHARED_CAPACITY, type SharedChanDescriptor } from '../../src/shared-chan/memory/layout.js';
import { code } from '../fixtures/errors.js';

for (const transport of ['shared', 'message'] as const) {
  const test = suite(`shared channel, one thread [${transport}]`);
  const mk = <T>(b: Parameters<typeof sharedChan>[0], valueBytes?: number) =>
    sharedChan<T>(b, { transport, valueBytes });

  test('sizes are validated at the call site; there is no unbounded or rendezvous shared channel', () => {
    assert.is(
      code(() => sharedChan(undefined as unknown as number, { transport })),
      'ERR_INVALID_ARG_TYPE',
    );
    assert.is(
      code(() => mk(0)),
      'ERR_OUT_OF_RANGE',
    );
    assert.is(
      code(() => mk(1.5)),
      'ERR_OUT_OF_RANGE',
    );
    assert.is(
      code(() => mk(-1)),
      'ERR_OUT_OF_RANGE',
    );
    assert.is(
      code(() => mk(MAX_SHARED_CAPACITY + 1)),
      'ERR_OUT_OF_RANGE',
    );
    assert.is(
      code(() => mk('8' as unknown as number)),
      'ERR_INVALID_ARG_TYPE',
    );
    assert.is(
      code(() => mk(8, 4)),
      'ERR_OUT_OF_RANGE',
    );
    assert.is(
      code(() => sharedChan(8, { transport: 'pigeon' as 'shared' })),
      'ERR_INVALID_ARG_VALUE',
    );
    assert.is(mk(fixed(3)).stats().capacity, 3);
  });

  test('put(undefined) is a TypeError and puts nothing', () => {
    const ch = mk<unknown>(2);
    assert.is(
      code(() => ch.put(undefined)),
      'ERR_INVALID_ARG_VALUE',
    );
    assert.is(
      code(() => ch.tryPut(undefined)),
      'ERR_INVALID_ARG_VALUE',
    );
    assert.is(
      code(() => ch.putOp(undefined)),
      'ERR_INVALID_ARG_VALUE',
    );
    assert.is(ch.stats().buffered, 0);
  });

  test('a value the codec refuses, or one larger than valueBytes, throws at the call site and puts nothing', () => {
    const ch = mk<unknown>(2, 64);
    assert.is(
      code(() => ch.put({ f: () => 1 })),
      'ERR_SHOAL_UNCLONEABLE',
    );
    assert.is(
      code(() => ch.tryPut('x'.repeat(100))),
      'ERR_OUT_OF_RANGE',
    );
    assert.ok(ch.tryPut('x'.repeat(40)));
    assert.is(ch.stats().buffered, 1);
  });

  test("values arrive as copies, with the codec's types intact", async () => {
    const ch = mk<unknown>(4);
    const v = { d: new Date(5), m: new Map([[1, 'a']]), b: new Uint8Array([1, 2]), n: -0 };
    await ch.put(v);
    const got = (await ch.take()) as typeof v;
    assert.is.not(got, v);
    assert.equal(got, v);
    assert.ok(Object.is(got.n, -0));
  });

  test('a plain put keeps every number exactly: ints inline, -0 and the rest as doubles', async () => {
    const ch = mk<number>(16);
    const xs = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
    for (const x of xs) await ch.put(x); // the plain put stages ints itself (channel.ts put)
    for (const x of xs) assert.ok(Object.is(await ch.take(), x), `${Object.is(x, -0) ? '-0' : x}`);
  });

  test('fixed: tryPut refuses when full; take with timeout resolves the default or rejects', async () => {
    const ch = mk<number>(1);
    assert.ok(ch.tryPut(1));
    assert.not.ok(ch.tryPut(2));
    assert.is(await ch.take(), 1);
    assert.is(await ch.take({ timeout: 5, default: 'none' }), 'none');
    assert.is(await ch.take({ default: 'poll' }), 'poll');
    const e = await ch.take({ timeout: 5 }).catch((x: { code?: string }) => x.code);
    assert.is(e, 'ERR_SHOAL_TIMEOUT');
  });

  test('dropping keeps the first values, sliding the latest', async () => {
    const d = mk<number>(dropping(2));
    const s = mk<number>(sliding(2));
    for (let i = 0; i < 5; i++) {
      assert.ok(await d.put(i));
      assert.ok(await s.put(i));
    }
    assert.equal([d.tryTake(), d.tryTake(), d.tryTake()], [0, 1, undefined]);
    assert.equal([s.tryTake(), s.tryTake(), s.tryTake()], [3, 4, undefined]);
  });

  test('a parked take is served by a later put on the same thread', async () => {
    const ch = mk<string>(2);
    const p = ch.take();
    assert.ok(await ch.put('a'));
    assert.is(await p, 'a');
  });

  test('a cancelled take consumes nothing; a cancelled put delivers nothing', async () => {
    const ch = mk<string>(1);
    const ac = new AbortController();
    const t = ch.take({ signal: ac.signal });
    ac.abort();
    assert.is(await t.catch((e: { code?: string }) => e.code), 'ERR_SHOAL_CANCELLED');
    await ch.put('kept');
    const ac2 = new AbortController();
    const p = ch.put('never', { signal: ac2.signal });
    ac2.abort();
    assert.is(await p.catch((e: { code?: string }) => e.code), 'ERR_SHOAL_CANCELLED');
    assert.is(await ch.take(), 'kept');
    assert.is(await ch.take({ timeout: 20, default: 'empty' }), 'empty');
  });

  test('select with two ready shared channels commits exactly one; the other keeps its value', async () => {
    const a = mk<string>(1);
    const b = mk<string>(1);
    await a.put('a');
    await b.put('b');
    const r = await select([a.takeOp(), b.takeOp()]);
    const other = r.index === 0 ? b : a;
    assert.is(other.tryTake(), r.index === 0 ? 'b' : 'a');
    assert.is((r.index === 0 ? a : b).tryTake(), undefined);
  });

  test('a parked select on a shared and a local channel: the local win leaves the shared value', async () => {
    const shared = mk<string>(1);
    const local = chan<string>();
    const r = select([shared.takeOp(), local.takeOp()]);
    await local.put('local');
    assert.equal(await r, { index: 1, value: 'local' });
    await shared.put('shared');
    assert.is(await shared.take({ timeout: 1000 }), 'shared');
  });

  test('a select put that loses to afterOp is never delivered', async () => {
    const ch = mk<number>(1);
    await ch.put(1);
    const r = await select([ch.putOp(2), afterOp(5)]);
    assert.is(r.index, 1);
    assert.is(await ch.take(), 1);
    assert.is(await ch.take({ timeout: 20, default: 'empty' }), 'empty');
  });

  test('close: puts get false, buffered values drain, then takes and iteration end', async () => {
    const ch = mk<number>(3);
    await ch.put(1);
    await ch.put(2);
    const full = mk<number>(1);
    await full.put(0);
    const parked = full.put(9);
    full.close();
    assert.is(await parked, false);
    ch.close();
    assert.ok(ch.closed);
    assert.is(await ch.put(3), false);
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    assert.equal(got, [1, 2]);
    assert.is(await ch.take(), undefined);
    assert.equal(await select([ch.putOp(4)]), { index: 0, value: false });
  });

  test('a handle refuses more than MAX_SHARED_PENDING parked takes', async () => {
    if (transport === 'message') return; // the owner has its own cap of the same size
    const ch = mk<number>(1);
    const ac = new AbortController();
    const ps = Array.from({ length: MAX_SHARED_PENDING }, () => ch.take({ signal: ac.signal }).catch(() => 'x'));
    assert.throws(
      () => ch.take(),
      (e: unknown) => e instanceof TooManyPendingError,
    );
    ac.abort();
    await Promise.all(ps);
  });

  test('a descriptor revived on the same thread is the same channel', async () => {
    const ch = mk<number>(2);
    const { descriptor } = ch.descriptor();
    const again = fromDescriptor<number>(descriptor);
    await ch.put(7);
    assert.is(await again.take(), 7);
  });

  test('crossArgs swaps channels (top level and nested) for descriptors; reviveArgs swaps them back', async () => {
    const ch = mk<number>(2);
    const plain = [1, { a: 'x' }];
    assert.is(crossArgs(plain).args, plain, 'no channel: no copy');
    const { args, transfer } = crossArgs([ch, { deep: [ch] }]);
    assert.is(
      (args[0] as unknown as { kind: string }).kind,
      transport === 'shared' ? 'shoal:shared-chan' : 'shoal:port-chan',
    );
    assert.is(transfer?.length ?? 0, transport === 'shared' ? 0 : 2);
    const back = reviveArgs(args);
    const inner = (back[1] as { deep: [typeof ch] }).deep[0];
    await ch.put(5);
    assert.is(await inner.take(), 5);
  });

  test.run();
}

const misc = suite('shared channel: switch and descriptors');

misc('SHOAL_TRANSPORT=message selects the MessagePort channel at creation time', () => {
  const before = process.env.SHOAL_TRANSPORT;
  try {
    process.env.SHOAL_TRANSPORT = 'message';
    assert.ok(sharedChan(1) instanceof PortChan);
    delete process.env.SHOAL_TRANSPORT;
    assert.ok(sharedChan(1) instanceof SharedChan);
  } finally {
    if (before === undefined) delete process.env.SHOAL_TRANSPORT;
    else process.env.SHOAL_TRANSPORT = before;
  }
});

misc('a descriptor pointing at other memory is refused with RingCorruptError', () => {
  const ch = sharedChan(4, { transport: 'shared' });
  const d = ch.descriptor().descriptor as SharedChanDescriptor;
  const wrong = { ...d, sab: new SharedArrayBuffer(d.sab.byteLength) };
  assert.throws(
    () => fromDescriptor(wrong),
    (e: unknown) => e instanceof RingCorruptError,
  );
  assert.throws(
    () => fromDescriptor({ kind: 'nope' } as unknown as SharedChanDescriptor),
    (e: unknown) => (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE',
  );
});

misc.run();
