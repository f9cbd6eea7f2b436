/**
 * Batches and sliding buffers across real worker threads, under both transports: putMany from
 * several producer threads and takeMany on several consumer threads keep every value exactly once
 * and each producer's order; a sliding buffer raced by a taker thread never loses one of the last
 * `capacity` values put (an eviction happens only while the buffer holds more than its capacity).
 * Seeded (the seed is printed on failure; replay with SHOAL_SEED=...); every wait is bounded.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sliding } from '../../src/core/buffers.js';
import { sharedChan } from '../../src/shared-chan/index.js';
import type { TransportMode } from '../../src/shared-chan/transport-mode.js';
import { testSeed } from '../fixtures/seed.js';
import { checkExactlyOnce, reports, startOn } from '../fixtures/shared-chan-harness.js';

for (const transport of ['shared', 'message'] as const satisfies readonly TransportMode[]) {
  const test = suite(`shared channel batches [${transport}]`);
  const N = transport === 'shared' ? 20_000 : 3_000;

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
    'putMany on three producer threads, takeMany on two consumer threads and main: exactly once, per-producer order',
    seeded(async (seed) => {
      const ch = sharedChan<number>(16, { transport });
      const producers = [1, 2, 3].map((id) => startOn(ch, { role: 'produce-many', seed, id, n: N }));
      const consumers = [0, 1].map((id) => startOn(ch, { role: 'consume-many', seed, id: 10 + id }));
      const mine: number[] = [];
      const mainConsumer = (async () => {
        for (let b = await ch.takeMany(7); b.length > 0; b = await ch.takeMany(7)) mine.push(...b);
      })();
      let cs;
      try {
        const ps = await reports(producers);
        for (const p of ps) assert.is(p.falses, 0);
        ch.close();
        cs = await reports(consumers);
        await mainConsumer;
      } finally {
        ch.close();
        await Promise.all(consumers.map((w) => w.stop()));
      }
      const problem = checkExactlyOnce([mine, ...cs.map((c) => c.taken!)], [1, 2, 3], N);
      assert.is(problem, null, problem ?? '');
    }),
  );

  test(
    'a sliding buffer raced by a taker thread keeps or delivers each of the last capacity values, in order',
    seeded(async (seed) => {
      const cap = 4;
      for (let round = 0; round < (transport === 'shared' ? 20 : 5); round++) {
        const ch = sharedChan<number>(sliding(cap), { transport });
        const taker = startOn(ch, { role: 'consume', seed: seed + round, id: 1 });
        const n = transport === 'shared' ? 5000 : 500;
        for (let i = 0; i < n; i++) assert.ok(await ch.put(i));
        ch.close(); // the taker drains what is left, then stops
        const [t] = await reports([taker]);
        const all = t!.taken as number[];
        for (let j = 1; j < all.length; j++) assert.ok(all[j - 1]! < all[j]!, `in order, once [round ${round}]`);
        for (let v = n - cap; v < n; v++)
          assert.ok(all.includes(v), `value ${v} (one of the last ${cap}) was lost [round ${round}]`);
      }
    }),
  );

  test.run();
}
