/**
 * Channels across threads, with real worker threads, under both transports (shared memory and
 * MessagePort): order and counts for each buffer kind, several producers and consumers, close,
 * backpressure, select against a local channel, and cancellation without trace. Seeded (the seed
 * is printed on failure; replay with SHOAL_SEED=...); every wait is bounded by the harness.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chan } from '../../src/core/chan.js';
import { dropping, sliding, type BufferSpec } from '../../src/core/buffers.js';
import { afterOp, select } from '../../src/core/select.js';
import { sharedChan } from '../../src/shared-chan/index.js';
import type { SharedChannel } from '../../src/shared-chan/memory/channel.js';
import type { TransportMode } from '../../src/shared-chan/transport-mode.js';
import { rng, testSeed } from '../fixtures/seed.js';
import { checkExactlyOnce, mixedKey, reports, startOn, waitAtLeast } from '../fixtures/shared-chan-harness.js';

const MISS = Symbol('miss');

for (const transport of ['shared', 'message'] as const satisfies readonly TransportMode[]) {
  const test = suite(`shared channel [${transport}]`);
  const mk = <T>(b: number | BufferSpec): SharedChannel<T> => sharedChan<T>(b, { transport });
  // the message path pays a postMessage per operation: smaller counts keep the file quick
  const N = transport === 'shared' ? 20_000 : 3_000;

  /** Run `fn` with a fresh seed; print it if `fn` fails. */
  const seeded = (fn: (seed: number) => Promise<void>) => async () => {
    const seed = testSeed();
    try {
      await fn(seed);
    } catch (e) {
      console.error(`[${transport}] seed ${seed} (replay with SHOAL_SEED=${seed}):`, e);
      throw e;
    }
  };

  test(
    'a fixed channel delivers every value of a producer thread once and in order',
    seeded(async (seed) => {
      const ch = mk<number>(8);
      const w = startOn(ch, { role: 'produce', seed, id: 0, n: N });
      for (let s = 0; s < N; s++) {
        const v = await ch.take();
        if (v !== s) assert.unreachable(`take ${s} gave ${String(v)}`);
      }
      const [r] = await reports([w]);
      assert.is(r!.falses, 0);
      assert.is(ch.tryTake(), undefined);
    }),
  );

  test(
    'a producer and a consumer that keep waking each other deliver every value once and in order',
    seeded(async (seed) => {
      // A small buffer and seeded pauses on both sides: the consumer parks on an empty buffer and
      // the producer on a full one, over and over, so each side's spin before a park (channel.ts
      // #spin, a put's without a closure) hits and misses; every value still arrives once, in order.
      const rand = rng(seed);
      const ch = mk<number>(16);
      const w = startOn(ch, { role: 'produce', seed, id: 0, n: N });
      let s = 0;
      for await (const v of ch) {
        if (v !== s) assert.unreachable(`value ${s} was ${String(v)}`);
        if (++s === N) break;
        if (rand() < 0.02) for (let j = Math.floor(rand() * 8); j >= 0; j--) await new Promise((r) => setImmediate(r));
      }
      assert.is(s, N);
      const [r] = await reports([w]);
      assert.is(r!.falses, 0);
      assert.is(ch.tryTake(), undefined);
    }),
  );

  test(
    'a dropping channel keeps the first values while nobody takes',
    seeded(async (seed) => {
      const ch = mk<number>(dropping(4));
      const [r] = await reports([startOn(ch, { role: 'produce', seed, id: 0, n: 100 })]);
      assert.is(r!.falses, 0, 'every put succeeds');
      assert.equal([ch.tryTake(), ch.tryTake(), ch.tryTake(), ch.tryTake(), ch.tryTake()], [0, 1, 2, 3, undefined]);
    }),
  );

  test(
    'a sliding channel keeps the latest values while nobody takes',
    seeded(async (seed) => {
      const ch = mk<number>(sliding(4));
      const [r] = await reports([startOn(ch, { role: 'produce', seed, id: 0, n: 100 })]);
      assert.is(r!.falses, 0, 'every put succeeds');
      assert.equal([ch.tryTake(), ch.tryTake(), ch.tryTake(), ch.tryTake(), ch.tryTake()], [96, 97, 98, 99, undefined]);
    }),
  );

  test(
    'three producer and two consumer threads plus main: every value taken exactly once, per-producer order kept',
    seeded(async (seed) => {
      const ch = mk<number>(16);
      const producers = [1, 2, 3].map((id) => startOn(ch, { role: 'produce', seed, id, n: N }));
      const consumers = [0, 1].map((id) => startOn(ch, { role: 'consume', seed, id: 10 + id }));
      const mine: number[] = [];
      const mainConsumer = (async () => {
        for await (const v of ch) mine.push(v);
      })();
      let cs;
      try {
        const ps = await reports(producers);
        for (const p of ps) assert.is(p.falses, 0);
        ch.close();
        cs = await reports(consumers);
        await mainConsumer;
      } finally {
        ch.close(); // on failure: end the main consumer and stop every thread, so the file exits
        await Promise.all(consumers.map((w) => w.stop()));
      }
      const problem = checkExactlyOnce([mine, ...cs.map((c) => c.taken!)], [1, 2, 3], N);
      assert.is(problem, null, problem ?? '');
    }),
  );

  for (const cap of [16, 12]) {
    test(
      `every value kind reaches a main for-await once and in order, a second producer joining mid-stream (capacity ${cap})`,
      seeded(async (seed) => {
        // 16 slots for 16 (a put's one SEQ load answers "room?"), 32 for 12 (room checked apart)
        const ch = mk<unknown>(cap);
        const n = N / 2;
        const first = startOn(ch, { role: 'produce-mixed', seed, id: 1, n });
        let second: ReturnType<typeof startOn> | undefined;
        const last = new Map<number, number>();
        let got = 0;
        const done = (async () => {
          const ps = [await first.report];
          ps.push(await second!.report);
          for (const p of ps) assert.is(p.falses, 0);
          ch.close();
        })();
        done.catch(() => ch.close()); // a failed producer ends the loop below (then the count fails)
        try {
          for await (const v of ch) {
            const [id, s] = mixedKey(v);
            if ((last.get(id) ?? -1) !== s - 1) assert.unreachable(`producer ${id}'s ${s} after ${last.get(id)}`);
            last.set(id, s);
            if (++got === n / 4) second = startOn(ch, { role: 'produce-mixed', seed, id: 2, n });
          }
          await done;
        } finally {
          ch.close();
          await Promise.all([first.stop(), second?.stop()]);
        }
        assert.is(got, 2 * n);
      }),
    );
  }

  test(
    'close: a parked put resolves false, buffered values are still taken, then takes get undefined',
    seeded(async (seed) => {
      const ch = mk<string>(1);
      assert.ok(await ch.put('a'));
      const putter = startOn(ch, { role: 'park-put', seed, values: ['b'] });
      const empty = mk<string>(2);
      const taker = startOn(empty, { role: 'park-take', seed });
      await Promise.all([putter.parked, taker.parked]);
      ch.close();
      empty.close();
      const [p, t] = await reports([putter, taker]);
      assert.is(p!.outcome, false, 'the parked put saw the close');
      assert.is(t!.outcome, undefined, 'the parked take saw closed and drained');
      assert.is(await ch.take(), 'a');
      assert.is(await ch.take(), undefined);
      assert.is(await ch.put('c'), false);
      assert.ok(ch.closed);
    }),
  );

  test(
    'a close from a worker is seen by the main thread after the buffered values',
    seeded(async (seed) => {
      const ch = mk<number>(2);
      const w = startOn(ch, { role: 'put-close', seed, values: [1, 2, 3, 4, 5] });
      const got: number[] = [];
      for await (const v of ch) got.push(v);
      await reports([w]);
      assert.equal(got, [1, 2, 3, 4, 5]);
    }),
  );

  test(
    'backpressure: a producer thread never runs more than the buffer ahead of the taker',
    seeded(async (seed) => {
      const cap = 4;
      const n = 200;
      const ch = mk<number>(cap);
      const progress = new Int32Array(new SharedArrayBuffer(4));
      const w = startOn(ch, { role: 'produce', seed, id: 0, n, progress: progress.buffer as SharedArrayBuffer });
      for (let taken = 0; taken < n; taken++) {
        // the producer gets exactly as far as the buffer allows...
        const seen = await waitAtLeast(progress, Math.min(taken + cap, n));
        assert.ok(seen <= taken + cap, `after ${taken} takes the producer had ${seen} puts done (cap ${cap})`);
        // ...and no further, even given a round trip of its event loop
        await new Promise((r) => setImmediate(r));
        assert.ok(
          Atomics.load(progress, 0) <= taken + cap,
          `overran: ${Atomics.load(progress, 0)} puts after ${taken} takes`,
        );
        assert.is(await ch.take(), taken);
      }
      await reports([w]);
    }),
  );

  test(
    'select over a shared and a local channel commits exactly one op per round',
    seeded(async (seed) => {
      const rand = rng(seed);
      const rounds = transport === 'shared' ? 2000 : 500;
      const shared = mk<number>(1);
      const local = chan<number>();
      const w = startOn(shared, { role: 'produce', seed, id: 0, n: rounds });
      const fromShared: number[] = [];
      let localPut = 0;
      let localTaken = 0;
      while (fromShared.length < rounds) {
        const mode = rand();
        if (mode < 0.3) local.put(1e6 + localPut++); // ready before the select
        const sel = select([shared.takeOp(), local.takeOp()]);
        if (mode >= 0.3 && mode < 0.6) setImmediate(() => void local.put(1e6 + localPut++)); // races the parked select
        const r = await sel;
        if (r.index === 0) fromShared.push(r.value as number);
        else {
          assert.is(r.value, 1e6 + localTaken, 'local values in order, once');
          localTaken++;
        }
        await new Promise((res) => setImmediate(res)); // let a racing local put land before counting
      }
      for (let v = local.tryTake(); v !== undefined; v = local.tryTake()) {
        assert.is(v, 1e6 + localTaken);
        localTaken++;
      }
      assert.is(localTaken, localPut, 'every local value taken exactly once');
      assert.equal(
        fromShared,
        Array.from({ length: rounds }, (_, i) => i),
        'every shared value once, in order',
      );
      await reports([w]);
    }),
  );

  test(
    'a select put that loses to a timeout never delivers its value',
    seeded(async (seed) => {
      const rand = rng(seed);
      const ch = mk<number>(2);
      const consumer = startOn(ch, { role: 'consume', seed, id: 1 });
      const committed: number[] = [];
      const rounds = transport === 'shared' ? 3000 : 600;
      for (let i = 0; i < rounds; i++) {
        const r = await select([ch.putOp(i), afterOp(rand() < 0.5 ? 0 : 1)], { priority: true });
        if (r.index === 0) committed.push(i);
      }
      ch.close();
      const [c] = await reports([consumer]);
      assert.equal(c!.taken, committed);
    }),
  );

  test(
    'a cancelled take consumes nothing and a cancelled put delivers nothing',
    seeded(async (seed) => {
      const empty = mk<string>(1);
      const taker = startOn(empty, { role: 'park-take', seed });
      await taker.parked;
      taker.send('abort');
      const [t] = await reports([taker]);
      assert.is(t!.outcome, 'cancelled');
      assert.ok(await empty.put('x'));
      assert.is(await empty.take({ timeout: 1000 }), 'x', 'the cancelled take left the value');

      const full = mk<string>(1);
      assert.ok(await full.put('first'));
      const putter = startOn(full, { role: 'park-put', seed, values: ['never'] });
      await putter.parked;
      putter.send('abort');
      const [p] = await reports([putter]);
      assert.is(p!.outcome, 'cancelled');
      assert.is(await full.take(), 'first');
      assert.is(await full.take({ timeout: 50, default: 'nothing' }), 'nothing', 'the cancelled put was not delivered');
    }),
  );

  test(
    'takes that time out while a producer thread runs lose no value',
    seeded(async (seed) => {
      const rand = rng(seed);
      const n = transport === 'shared' ? 5000 : 1000;
      const ch = mk<number>(4);
      const w = startOn(ch, { role: 'produce', seed, id: 0, n });
      const got: number[] = [];
      while (got.length < n) {
        const k = rand();
        const v =
          k < 0.4
            ? await ch.take({ timeout: k < 0.2 ? 0 : 1, default: MISS })
            : ((await select([ch.takeOp(), afterOp(k < 0.7 ? 0 : 1)])).value ?? MISS);
        if (v !== MISS) got.push(v as number);
      }
      assert.equal(
        got,
        Array.from({ length: n }, (_, i) => i),
      );
      await reports([w]);
    }),
  );

  test.run();
}
