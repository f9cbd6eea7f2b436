/**
 * Doorbell between real threads: no lost wake-up over >= 100k park/wake cycles. Both sides park
 * on every turn (spinIterations 0), so each cycle exercises the PARKED / re-check / notify
 * interleaving (doorbell.ts invariants 1-2). Every wait is bounded: a lost wake-up fails the test
 * with the cycle it stalled in instead of hanging.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDoorbell, Doorbell } from '../../src/shm/doorbell.js';
import { testSeed } from '../fixtures/seed.js';
import { LONG, STALL_MS, all, start } from '../fixtures/shm-harness.js';

test('no wake-up is lost over 100k park/wake cycles between two parked workers', async () => {
  const cycles = LONG ? 1_000_000 : 100_000;
  const words = new Int32Array(new SharedArrayBuffer(64));
  const a = createDoorbell();
  const b = createDoorbell();
  const common = { role: 'pingpong', seed: testSeed(), stallMs: STALL_MS, slow: false, cycles, words, spin: 0 };
  const t0 = performance.now();
  const [ra, rb] = await all([
    start({ ...common, parity: 0, bell: a, peer: b }, 600_000),
    start({ ...common, parity: 1, bell: b, peer: a }, 600_000),
  ]);
  const ms = performance.now() - t0;
  assert.is(Atomics.load(words, 0), 2 * cycles);
  console.log(
    `  ${cycles} cycles in ${(ms / 1000).toFixed(1)} s (${((ms * 1000) / cycles).toFixed(1)} µs per round trip); parks ${ra!.parks} + ${rb!.parks}, notifies ${ra!.notifies} + ${rb!.notifies}`,
  );
});

test('no wake-up is lost between the main thread (async waits) and a parked worker', async () => {
  const cycles = LONG ? 100_000 : 20_000;
  const words = new Int32Array(new SharedArrayBuffer(64));
  const mainDesc = createDoorbell();
  const workerDesc = createDoorbell();
  const bell = new Doorbell(mainDesc, { spinIterations: 0 });
  const peer = new Doorbell(workerDesc);
  const w = start(
    {
      role: 'pingpong',
      seed: 0,
      stallMs: STALL_MS,
      slow: false,
      cycles,
      parity: 1,
      words,
      bell: workerDesc,
      peer: mainDesc,
      spin: 0,
    },
    600_000,
  );
  try {
    for (let c = 0; c < cycles; c++) {
      for (;;) {
        const s = bell.seq();
        const v = Atomics.load(words, 0);
        if (v === 2 * c) break;
        if ((await bell.wait(s, { timeoutMs: STALL_MS })) === 'timed-out' && Atomics.load(words, 0) !== 2 * c) {
          assert.unreachable(`main: cycle ${c} not rung within ${STALL_MS} ms (lost wake-up)`);
        }
      }
      Atomics.store(words, 0, 2 * c + 1);
      peer.ring();
    }
    const [r] = await all([w]);
    assert.is(r!.frames, cycles);
    console.log(
      `  main<->worker: ${cycles} cycles; main parks ${bell.stats().parks}, worker parks ${r!.parks}, notifies ${peer.stats().notifies} + ${r!.notifies}`,
    );
  } finally {
    await w.stop();
  }
});

test.run();
