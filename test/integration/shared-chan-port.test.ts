/**
 * The port channel (SHOAL_TRANSPORT=message) with real worker threads, where it differs from the
 * shared path: values lent ahead to a taking worker, recalled when another thread takes, given
 * back when that worker dies; a worker that dies with parked ops; a channel forwarded from one
 * worker to another (CONNECT); `closed` answered locally. Every wait is bounded by the harness.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sharedChan } from '../../src/shared-chan/index.js';
import type { SharedChannel } from '../../src/shared-chan/memory/channel.js';
import { testSeed } from '../fixtures/seed.js';
import { reports, startOn } from '../fixtures/shared-chan-harness.js';

const test = suite('port channel across threads');
const mk = <T>(n: number): SharedChannel<T> => sharedChan<T>(n, { transport: 'message' });
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
/** A put that fails the test (CancelledError) instead of hanging when a bug stops the takers. */
const bounded = {
  get signal() {
    return AbortSignal.timeout(20_000);
  },
};

/** `p`, or a failure naming `what` after `ms` (no wait in this file is unbounded). */
async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>(
    (_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(t);
  }
}

/** Poll `cond` between event-loop turns until it holds, or fail naming `what` (bounded). */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Drain what is there now, bounded: take until a take times out. */
async function drain(ch: SharedChannel<number>): Promise<number[]> {
  const got: number[] = [];
  for (;;) {
    const v = await ch.take({ timeout: 2000, default: -1 });
    if (v === -1 || v === undefined) return got;
    got.push(v);
  }
}

test('values lent to an idle worker are recalled, in order, when the owner takes', async () => {
  const seed = testSeed();
  const ch = mk<number>(128);
  for (let i = 0; i < 100; i++) assert.ok(ch.tryPut(i));
  const w = startOn(ch, { role: 'take-then-idle', seed, k: 1 });
  try {
    const [r] = await Promise.all([w.report]);
    assert.equal(r!.taken, [0]);
    // the worker got more than one value lent along; it will not take again
    const got: number[] = [];
    for (let i = 1; i < 100; i++) got.push((await ch.take({ timeout: 5000 }))!);
    assert.equal(got, range(1, 100), 'recalled values come back first, in put order');
    assert.is(ch.stats().buffered, 0);
  } finally {
    await w.stop();
  }
});

test('a worker that dies holding lent values loses and duplicates nothing', async () => {
  const seed = testSeed();
  const ch = mk<number>(256);
  const n = 200;
  for (let i = 0; i < n; i++) assert.ok(await ch.put(i, bounded));
  const w = startOn(ch, { role: 'take-then-idle', seed, k: 3 });
  const [r] = await Promise.all([w.report]);
  await w.stop(); // terminate: its port closes with values lent to it
  const taken = r!.taken as number[];
  assert.equal(taken, [0, 1, 2]);
  const rest = await drain(ch);
  assert.equal(
    [...taken, ...rest].sort((a, b) => a - b),
    range(0, n),
    `exactly once [seed ${seed}]`,
  );
});

test('a worker that dies with a parked take does not swallow a later value', async () => {
  const seed = testSeed();
  const ch = mk<number>(4);
  const w = startOn(ch, { role: 'park-take', seed });
  await within(w.parked, 'parked handshake');
  await until(() => ch.stats().pendingTakes === 1, 'the remote take parked on the owner');
  await w.stop();
  await until(() => ch.stats().pendingTakes === 0, "the dead thread's take dropped");
  assert.ok(await within(ch.put(7), 'put after the dead take'));
  assert.is(await ch.take({ timeout: 5000 }), 7);
});

test('a worker that dies with a parked put delivers nothing and blocks nobody', async () => {
  const seed = testSeed();
  const ch = mk<string>(1);
  assert.ok(await ch.put('first'));
  const w = startOn(ch, { role: 'park-put', seed, values: ['never'] });
  await within(w.parked, 'parked handshake');
  await until(() => ch.stats().pendingPuts === 1, 'the remote put parked on the owner');
  await w.stop();
  await until(() => ch.stats().pendingPuts === 0, "the dead thread's put dropped");
  assert.is(await within(ch.take(), 'take of the buffered value'), 'first');
  assert.ok(await within(ch.put('second'), 'put after the dead put'), 'room is not held by the dead put');
  assert.is(await within(ch.take(), 'take of the new value'), 'second');
  assert.is(await ch.take({ timeout: 50, default: 'empty' }), 'empty');
});

test('a channel forwarded by a worker to another keeps working after the first one exits', async () => {
  const seed = testSeed();
  const ch = mk<number>(16);
  const a = startOn(ch, { role: 'forward', seed });
  const [fa] = await Promise.all([a.report]);
  const forwarded = fa!.forward!;
  const b = startOn(
    { descriptor: forwarded, transfer: 'port' in forwarded ? [forwarded.port] : [] },
    { role: 'consume', seed, id: 2 },
  );
  await a.stop(); // the forwarding thread is gone: b talks to the owner on its own port
  const n = 500;
  for (let i = 0; i < n; i++) assert.ok(await ch.put(i, bounded));
  ch.close();
  const [rb] = await reports([b]);
  assert.equal(rb!.taken, range(0, n));
});

test('closed is answered on a worker without a round trip and after a close from main', async () => {
  const seed = testSeed();
  const ch = mk<number>(4);
  const w = startOn(ch, { role: 'put-close', seed, values: [1, 2] });
  const got: number[] = [];
  await within(
    (async () => {
      for await (const v of ch) got.push(v);
    })(),
    'draining until the worker closes',
  );
  await reports([w]);
  assert.equal(got, [1, 2]);
  assert.ok(ch.closed);
});

test('two consumer workers and main share a stream: lending and recalls keep every value exactly once and in order', async () => {
  const seed = testSeed();
  const ch = mk<number>(64);
  const consumers = [0, 1].map((id) => startOn(ch, { role: 'consume', seed, id: 20 + id }));
  const n = 3000;
  const mine: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      assert.ok(await ch.put(i, bounded));
      if (i % 97 === 0) {
        // main competes for values: its take recalls what is lent to the workers
        const v = await ch.take({ timeout: 20, default: -1 });
        if (v !== -1 && v !== undefined) mine.push(v);
      }
    }
    ch.close();
    const cs = await reports(consumers);
    const lists = [mine, ...cs.map((c) => c.taken as number[])];
    for (const l of lists) for (let j = 1; j < l.length; j++) assert.ok(l[j - 1]! < l[j]!, `in order [seed ${seed}]`);
    assert.equal(
      lists.flat().sort((a, b) => a - b),
      range(0, n),
      `exactly once [seed ${seed}]`,
    );
  } finally {
    ch.close();
    await Promise.all(consumers.map((c) => c.stop()));
  }
});

test.run();
