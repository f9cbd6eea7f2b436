// Guarantees of tasks(), tracing and slow-slice reporting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  spawn,
  deferred,
  tasks,
  taskCount,
  setTracing,
  isTracing,
  loopDelay,
  watchSlowSlices,
  type SlowSlice,
} from '../../src/index.js';
import { bounded, installFakeClock } from '../fixtures/fake-clock.js';

test('tasks() lists live tasks as frozen snapshots and forgets settled ones', async () => {
  const clock = installFakeClock();
  try {
    const gate = deferred<void>();
    const a = spawn(() => gate.promise, { name: 'alpha' });
    clock.now += 5;
    const b = spawn(() => gate.promise, { name: 'beta' });
    clock.now += 7;
    const snap = tasks();
    assert.ok(Object.isFrozen(snap));
    assert.equal(
      snap.map((t) => [t.id, t.name, t.state, t.ageMs]),
      [
        [b.id, 'beta', 'running', 7],
        [a.id, 'alpha', 'running', 12],
      ],
    );
    assert.ok(Object.isFrozen(snap[0]));
    assert.is(snap[0]!.stack, undefined, 'no stack without tracing');
    assert.is(taskCount(), 2);
    assert.is(tasks({ limit: 1 }).length, 1);
    gate.resolve();
    await bounded(Promise.all([a, b]));
    assert.equal(tasks(), []);
  } finally {
    clock.uninstall();
  }
});

test('with tracing on, each task carries the stack where it was spawned', async () => {
  const gate = deferred<void>();
  setTracing(true);
  assert.ok(isTracing());
  let t;
  try {
    t = spawn(() => gate.promise, { name: 'traced' });
  } finally {
    setTracing(false);
  }
  const untraced = spawn(() => gate.promise);
  const [info] = tasks().filter((x) => x.name === 'traced');
  assert.ok(info?.stack, 'has a stack');
  assert.match(info!.stack!, /introspect\.test\.(js|ts)/, 'points at the spawning file');
  assert.not.match(info!.stack!, /core[/\\]task\.js/, 'shoal internals trimmed');
  assert.is(tasks().find((x) => x.id === untraced.id)?.stack, undefined);
  gate.resolve();
  await bounded(Promise.all([t, untraced]));
});

test('watchSlowSlices reports a slice that held the thread past the threshold', async () => {
  const clock = installFakeClock();
  try {
    const seen: SlowSlice[] = [];
    const w = watchSlowSlices({ thresholdMs: 50, intervalMs: 10, onSlow: (s) => seen.push(s) });
    await clock.tick(10); // on time: nothing to report
    assert.is(seen.length, 0);
    clock.now += 120; // a synchronous slice holds the thread for 120 ms
    await clock.tick(0);
    assert.is(seen.length, 1);
    // The sampler was due 10 ms after its last run, so it came round 110 ms late.
    assert.is(seen[0]!.blockedMs, 110);
    assert.ok(Object.isFrozen(seen[0]));
    w.stop();
    assert.is(clock.pending(), 0);
  } finally {
    clock.uninstall();
  }
});

test('loopDelay returns frozen millisecond stats and can reset', () => {
  const s = loopDelay();
  assert.ok(Object.isFrozen(s));
  for (const k of ['min', 'max', 'mean', 'p50', 'p99', 'count'] as const) assert.type(s[k], 'number');
  const r = loopDelay({ reset: true });
  assert.ok(r.max >= 0);
});

test('bad inputs throw at the call site', () => {
  assert.throws(
    () => setTracing('yes' as never),
    (e: unknown) => e instanceof TypeError,
  );
  assert.throws(
    () => tasks({ limit: -1 }),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => watchSlowSlices({ thresholdMs: 0, onSlow: () => {} }),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => watchSlowSlices({ thresholdMs: 10, onSlow: 1 as never }),
    (e: unknown) => e instanceof TypeError,
  );
});

test.run();
