/**
 * LoopParker and BellLoop guarantees (src/shm/loop-parker.ts, src/net/bell-loop.ts): a ring
 * after the owner's SEQ read always wakes it, however its parks and un-parks interleave with the
 * rings (seeded, across a real worker thread); un-parking makes later rings free; the waiter is
 * registered once and reused; a loop with nothing expected parks at once and leaves its awake
 * window alone. Ordering by event-loop turns and handshakes, never by sleeps.
 */
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDoorbell, Doorbell } from '../../src/shm/doorbell.js';
import { LoopParker } from '../../src/shm/loop-parker.js';
import { BellLoop } from '../../src/net/bell-loop.js';
import { rng, testSeed } from '../fixtures/seed.js';

const RINGER = new URL('../fixtures/loop-parker-ringer.js', import.meta.url);
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Turn the event loop until `cond()` holds; a bounded number of turns, then fail (no hang). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let k = 0; k < 100_000; k++) {
    if (cond()) return;
    await turn();
  }
  assert.unreachable(`never happened: ${what}`);
}

test('a parked owner is woken by a ring and the bell is RUNNING again', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc);
  let wakes = 0;
  const parker = new LoopParker(desc, (slept) => {
    assert.ok(slept);
    wakes++;
  });
  assert.ok(parker.park(owner.seq()));
  assert.is(owner.state(), 'parked');
  assert.is(new Doorbell(desc).ring(), true, 'a ring of a parked owner notifies');
  await until(() => wakes > 0, 'the parked owner woke');
  assert.is(owner.state(), 'running');
  assert.is(parker.parked, false);
});

test('park refuses to sleep when SEQ moved since the owner read it', () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc);
  const parker = new LoopParker(desc, () => assert.unreachable('no waiter was registered'));
  const s = owner.seq();
  new Doorbell(desc).ring();
  assert.is(parker.park(s), false);
  assert.is(owner.state(), 'running');
  assert.is(parker.registrations, 0);
});

test('unpark makes rings free, and the one registered waiter serves the next park', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc);
  const ringer = new Doorbell(desc);
  let wakes = 0;
  const parker = new LoopParker(desc, () => wakes++);
  assert.ok(parker.park(owner.seq()));
  parker.unpark();
  assert.is(ringer.ring(), false, 'an un-parked owner costs the ringer no notify');
  assert.ok(parker.park(owner.seq()), 'parks again from the new SEQ');
  assert.is(parker.registrations, 1, 'the waiter registered by the first park is reused');
  assert.is(ringer.ring(), true);
  await until(() => wakes > 0, 'the re-parked owner woke');
  assert.is(wakes, 1);
  parker.dispose();
});

test('dispose wakes a lingering waiter so none outlives the loop', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc);
  let fired: boolean | undefined;
  const parker = new LoopParker(desc, (slept) => (fired = slept));
  assert.ok(parker.park(owner.seq()));
  parker.unpark();
  parker.dispose();
  await until(() => fired !== undefined, 'dispose woke the lingering waiter');
  assert.is(fired, false, 'the loop was awake: not a wake from a park');
});

test('no ring is lost whatever the park / unpark interleaving (seeded, 2 threads)', async () => {
  const seed = testSeed();
  const total = 20_000;
  const desc = createDoorbell();
  const owner = new Doorbell(desc);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const rnd = rng(seed ^ 0x2468ace);
  let consumed = 0;
  let turns = 0;
  let queued = false;
  let finish!: () => void;
  const allSeen = new Promise<void>((r) => (finish = r));
  // The owner's loop: read SEQ, consume what was published, then (seeded) stay awake, or park;
  // now and then another event runs a turn while parked and un-parks (as a socket event does).
  const parker = new LoopParker(desc, () => step());
  const queue = (): void => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      step();
    });
  };
  const step = (): void => {
    turns++;
    const s = owner.seq();
    consumed = Atomics.load(counter, 0); // pairs with: loop-parker-ringer.ts (Atomics.add)
    if (consumed === total) return finish();
    const r = rnd();
    if (r < 0.3) {
      parker.unpark();
      queue();
    } else if (!parker.park(s)) queue();
    else if (r > 0.9)
      setImmediate(() => {
        if (parker.parked && rnd() < 0.5) {
          parker.unpark();
          queue();
        }
      });
  };
  const keepAlive = setInterval(() => {}, 1000); // waitAsync alone keeps no loop alive
  const worker = new Worker(RINGER, { workerData: { bell: desc, counter: counter.buffer, seed, total } });
  const done = new Promise<{ notifies: number }>((r) => worker.once('message', r));
  step();
  let stall: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((r) => (stall = setTimeout(() => r('stalled'), 60_000)));
  try {
    const got = await Promise.race([allSeen.then(() => 'ok' as const), stalled]);
    assert.is(got, 'ok', `seed ${seed}: the owner saw ${consumed} of ${total} published items (a lost wake-up)`);
    await done;
    // the interleaving must have put the owner to sleep, or the test proved nothing about parks
    assert.ok(parker.parks > 0, `seed ${seed}: the owner never slept (${turns} turns)`);
  } finally {
    clearTimeout(stall);
    clearInterval(keepAlive);
    parker.dispose();
    await worker.terminate();
  }
});

test('a turn that finds work un-parks the loop: the answering ring costs no notify', async () => {
  const desc = createDoorbell();
  const bell = new Doorbell(desc);
  let work = 0;
  const loop = new BellLoop(bell, 0, () => (work > 0 ? work-- : 0));
  loop.start();
  assert.is(bell.state(), 'parked');
  work = 1;
  loop.queueTurn(); // another event (a socket's data) found work while parked
  await turn();
  assert.is.not(bell.state(), 'parked');
  assert.is(new Doorbell(desc).ring(), false, 'the ring finds the loop awake');
  await until(() => bell.state() === 'parked', 'the loop parked again'); // nothing more to do
  loop.stop();
});

test('with nothing expected the loop parks at once and leaves its window alone', async () => {
  const desc = createDoorbell();
  const bell = new Doorbell(desc);
  let expecting = true;
  let work = 0;
  const loop = new BellLoop(bell, 10, () => (work > 0 ? work-- : 0), { expecting: () => expecting });
  loop.start();
  // a turn with work, then a park that ends the (closed) window; a quick answer to that park
  // opens the window (net/awake-window.ts rule 2)
  work = 1;
  loop.queueTurn();
  await turn();
  await until(() => bell.state() === 'parked', 'the loop parked after its work');
  new Doorbell(desc).ring();
  await until(() => loop.awake.windowMsNow > 0, 'the quick answer opened the window');
  const open = loop.awake.windowMsNow;
  expecting = false;
  work = 1;
  loop.queueTurn();
  await turn(); // the turn finds work and stays awake
  await turn(); // finds nothing, expects nothing: parks without waiting out the window
  assert.is(bell.state(), 'parked');
  assert.is(loop.awake.windowMsNow, open, 'a park with nothing expected does not halve the window');
  loop.stop();
});

test('the hold applies with a few connections open and not with many', () => {
  const bell = new Doorbell(createDoorbell());
  const loop = new BellLoop(bell, 0.2, () => 0, { holdMs: 5 });
  for (let k = 0; k <= 40; k++) loop.awake.work(k * 0.05); // a busy peer, without starting the loop
  loop.fitToConnections(1);
  assert.is(loop.awake.awake(2 + 3), true, 'one connection: held 3 ms after the last work');
  loop.fitToConnections(100);
  assert.is(loop.awake.awake(2 + 3), false, 'many connections: no hold');
  loop.stop();
});

test.run();
