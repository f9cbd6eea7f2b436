/**
 * DirtySet across real threads: a worker marks slots while the main thread takes them, racing
 * mark against take (net/conn-slot.ts DirtySet invariants 1 and 2). Each round's slots come from a
 * seed both sides share, so the taker knows exactly what it must see: every mark taken exactly
 * once, nothing that was not marked, and no mark lost (a lost one leaves the round incomplete and
 * the bounded wait fails it). The seed is printed on failure; SHOAL_SEED=<n> replays it.
 *
 * A unit test of one data structure, but it needs two threads: the race is the point.
 */
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDoorbell, Doorbell } from '../../src/shm/doorbell.js';
import { createNetLink, towardMain, MAX_SLOTS_PER_WORKER } from '../../src/net/conn-slot.js';
import { roundSlots } from '../fixtures/dirty-set-marker.js';
import { rng, testSeed } from '../fixtures/seed.js';

const MARKER = new URL('../fixtures/dirty-set-marker.js', import.meta.url);

test('a mark racing a take is taken exactly once, never lost, never invented (seeded, 2 threads)', async () => {
  const seed = testSeed();
  const rounds = 3000;
  const reactorBell = createDoorbell();
  const link = createNetLink(reactorBell);
  const dirty = towardMain(link);
  const bell = new Doorbell(reactorBell, { spinIterations: 0 });
  const ack = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(MARKER, {
    workerData: { link, ack: ack.buffer, seed, rounds, maxSlots: MAX_SLOTS_PER_WORKER },
  });
  const exited = new Promise<number>((r) => worker.once('exit', r));
  const slotsRnd = rng(seed);
  const modeRnd = rng(seed ^ 0x1234567);
  const seen = new Uint8Array(MAX_SLOTS_PER_WORKER);
  let problem = '';
  let takes = 0;
  try {
    for (let r = 1; r <= rounds && problem === ''; r++) {
      const want = roundSlots(slotsRnd, MAX_SLOTS_PER_WORKER);
      const expected = new Set(want);
      let got = 0;
      const visit = (i: number): void => {
        if (!expected.has(i)) problem ||= `round ${r}: took slot ${i}, which was not marked`;
        else if (seen[i] === 1) problem ||= `round ${r}: took slot ${i} twice`;
        else {
          seen[i] = 1;
          got++;
        }
      };
      const deadline = performance.now() + 10_000;
      while (got < want.length && problem === '') {
        const s = bell.seq(); // doorbell.ts invariant 4: SEQ before the take
        takes++;
        if (dirty.take(visit) > 0) continue;
        if (performance.now() > deadline) {
          problem = `round ${r}: ${want.length - got} of ${want.length} marks never taken (lost)`;
          break;
        }
        // Mostly take again at once (the tightest race with the marker); sometimes park, which
        // checks invariant 2: a mark after our take must wake this wait.
        if (modeRnd() < 0.01) await bell.wait(s, { timeoutMs: 10_000 });
      }
      for (const i of want) seen[i] = 0;
      Atomics.store(ack, 0, r); // pairs with: dirty-set-marker.ts (Atomics.wait / load of ack[0])
      Atomics.notify(ack, 0);
    }
    // after the last round nothing may be left behind (a stray leaf bit would be an invented mark)
    dirty.take((i) => {
      problem ||= `after the last round: slot ${i} still marked`;
    });
  } finally {
    Atomics.store(ack, 1, 1);
    Atomics.notify(ack, 0);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    await worker.terminate();
  }
  assert.is(problem, '', `${problem} (seed ${seed}; replay with SHOAL_SEED=${seed})`);
  assert.ok(takes >= rounds, `expected at least one take per round, got ${takes}`);
});

test('pending() says whether a mark of ours is still untaken, across summary words', () => {
  const link = createNetLink(createDoorbell());
  const marker = towardMain(link);
  const taker = towardMain(link);
  assert.is(marker.pending(), false, 'nothing marked');
  marker.mark(3);
  marker.mark(MAX_SLOTS_PER_WORKER - 1); // another summary word
  assert.is(marker.pending(), true);
  const got: number[] = [];
  assert.is(
    taker.take((i) => got.push(i)),
    2,
  );
  assert.equal(got, [3, MAX_SLOTS_PER_WORKER - 1]);
  assert.is(marker.pending(), false, 'all taken: a deferred ring may be skipped');
  marker.mark(3);
  marker.mark(4); // same leaf, already non-zero: no summary store (invariant 3), still pending
  assert.is(marker.pending(), true);
  assert.is(
    taker.take(() => {}),
    2,
  );
  assert.is(marker.pending(), false);
});

test.run();
