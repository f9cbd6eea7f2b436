// Guarantees of sleep, after, every and timeout, on the fake clock (no real time passes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sleep, after, every, timeout, deferred, CancelledError, TimeoutError, type Tick } from '../../src/index.js';
import { bounded, flush, installFakeClock, type FakeClock } from '../fixtures/fake-clock.js';

/** Run a test body with a fake clock installed, always uninstalled after. */
const withClock = (body: (clock: FakeClock) => Promise<void>) => async (): Promise<void> => {
  const clock = installFakeClock();
  try {
    await body(clock);
  } finally {
    clock.uninstall();
  }
};

test(
  'sleep resolves when its time has come, not before',
  withClock(async (clock) => {
    let woke = false;
    const p = sleep(100).then(() => (woke = true));
    await clock.tick(99);
    assert.not.ok(woke);
    await clock.tick(1);
    assert.ok(woke);
    await p;
  }),
);

test(
  'a sleep cancelled through its signal rejects at once and clears its timer',
  withClock(async (clock) => {
    const ac = new AbortController();
    const p = sleep(1000, { signal: ac.signal });
    assert.is(clock.pending(), 1);
    ac.abort('why');
    const e = (await bounded(p.catch((x: unknown) => x))) as CancelledError;
    assert.instance(e, CancelledError);
    assert.is(e.cause, 'why');
    assert.is(clock.pending(), 0);
    assert.instance(await sleep(1, { signal: ac.signal }).catch((x: unknown) => x), CancelledError, 'already aborted');
  }),
);

test(
  'after fires once, at its time',
  withClock(async (clock) => {
    let fired = 0;
    const h = after(100, () => fired++);
    assert.ok(h.active);
    await clock.tick(99);
    assert.is(fired, 0);
    await clock.tick(1);
    assert.is(fired, 1);
    assert.not.ok(h.active);
    await clock.tick(1000);
    assert.is(fired, 1);
    assert.not.ok(h.cancel(), 'cancel after firing is a no-op');
  }),
);

test(
  'a cancelled after never fires and leaves no timer; so does a disposed or signalled one',
  withClock(async (clock) => {
    let fired = 0;
    const a = after(100, () => fired++);
    assert.ok(a.cancel());
    {
      using _b = after(100, () => fired++);
    }
    const ac = new AbortController();
    after(100, () => fired++, { signal: ac.signal });
    ac.abort();
    assert.is(clock.pending(), 0);
    await clock.tick(500);
    assert.is(fired, 0);
  }),
);

test(
  'unref/ref/hasRef reach the underlying timer and survive re-arming',
  withClock(async (clock) => {
    const h = every(10, () => {}).unref();
    assert.not.ok(h.hasRef());
    assert.is(clock.pendingRefed(), 0);
    await clock.tick(25);
    assert.is(clock.pendingRefed(), 0, 'the re-armed timer is unref’d too');
    h.ref();
    assert.ok(h.hasRef());
    assert.is(clock.pendingRefed(), 1);
    h.cancel();
    assert.not.ok(h.hasRef());
    assert.is(clock.pending(), 0);
  }),
);

test(
  'every runs at a fixed rate: slow runs do not push later ticks (no drift)',
  withClock(async (clock) => {
    const at: number[] = [];
    const h = every(100, () => {
      at.push(clock.now);
      clock.now += 30; // the run itself takes 30 ms of (virtual) CPU
    });
    await clock.tick(450);
    h.cancel();
    assert.equal(at, [100, 200, 300, 400]);
  }),
);

test(
  'every never overlaps an async run; ticks missed meanwhile are skipped, not replayed',
  withClock(async (clock) => {
    const runs: Tick[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = deferred<void>();
    const h = every(100, async (tick) => {
      runs.push(tick);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (tick.n === 1) await slow.promise;
      inFlight--;
    });
    await clock.tick(350); // the first run is still in flight at 200 and 300
    assert.is(runs.length, 1);
    slow.resolve();
    await flush();
    await clock.tick(50); // 400: next due time after the run ended
    h.cancel();
    assert.equal(
      runs.map((r) => [r.n, r.missed]),
      [
        [1, 0],
        [4, 2],
      ],
    );
    assert.is(maxInFlight, 1);
    assert.is(clock.pending(), 0);
  }),
);

test(
  'every stops when its fn throws, and the error surfaces like a timer callback’s',
  withClock(async (clock) => {
    const boom = new Error('tick failed');
    let runs = 0;
    const h = every(10, () => {
      runs++;
      throw boom;
    });
    let caught: unknown;
    try {
      await clock.tick(10);
    } catch (e) {
      caught = e; // the fake clock calls the callback directly, so the throw lands here
    }
    assert.is(caught, boom);
    assert.not.ok(h.active);
    await clock.tick(100);
    assert.is(runs, 1);
    assert.is(clock.pending(), 0);
  }),
);

test(
  'timeout rejects with TimeoutError when time runs out, and clears its timer',
  withClock(async (clock) => {
    const p = timeout(new Promise(() => {}), 100).catch((x: unknown) => x);
    await clock.tick(99);
    assert.is(clock.pending(), 1, 'not yet');
    await clock.tick(1);
    const e = (await bounded(p)) as TimeoutError;
    assert.instance(e, TimeoutError);
    assert.is(e.code, 'ERR_SHOAL_TIMEOUT');
    assert.is(clock.pending(), 0);
  }),
);

test(
  'timeout passes the outcome through and clears its timer when the work wins',
  withClock(async (clock) => {
    assert.is(await bounded(timeout(Promise.resolve('fast'), 100)), 'fast');
    const boom = new Error('work failed');
    assert.is(await bounded(timeout(Promise.reject(boom), 100).catch((x: unknown) => x)), boom);
    assert.is(clock.pending(), 0);
  }),
);

test(
  'timeout of a function aborts the work’s signal when time runs out; a signal cancels the wait',
  withClock(async (clock) => {
    let workSignal: AbortSignal | undefined;
    const p = timeout((signal) => {
      workSignal = signal;
      return new Promise(() => {});
    }, 50).catch((x: unknown) => x);
    await clock.tick(50);
    assert.instance(await bounded(p), TimeoutError);
    assert.ok(workSignal?.aborted);
    assert.instance(workSignal?.reason, TimeoutError);

    const ac = new AbortController();
    const q = timeout(new Promise(() => {}), 1000, { signal: ac.signal });
    ac.abort();
    assert.instance(await bounded(q.catch((x: unknown) => x)), CancelledError);
    assert.is(clock.pending(), 0);
  }),
);

test('sleep accepts fractions of a millisecond as setTimeout does, and still refuses NaN, negatives and Infinity', async () => {
  // real timers on purpose: the fraction goes to the platform's setTimeout
  await sleep(1.5);
  await sleep(0.25);
  await sleep(Math.random() * 3);
  for (const bad of [Number.NaN, -1, -0.5, Number.POSITIVE_INFINITY, 2 ** 31]) {
    let err: unknown;
    try {
      void sleep(bad);
    } catch (e) {
      err = e;
    }
    assert.instance(err, RangeError, String(bad));
    assert.is((err as { code?: string }).code, 'ERR_OUT_OF_RANGE');
  }
  assert.throws(
    () => sleep('5' as unknown as number),
    (e: unknown) => e instanceof TypeError,
  );
});

test.run();
