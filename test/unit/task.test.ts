// Guarantees of spawn / Task: outcomes, cancellation (explicit, parent, ambient), join vs await,
// unobserved failures, scale, and call-site validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  spawn,
  sleep,
  yieldNow,
  deferred,
  CancelledError,
  taskCount,
  after,
  every,
  timeout,
  chan,
  select,
} from '../../src/index.js';
import { bounded, flush, installFakeClock } from '../fixtures/fake-clock.js';
import { ambientTask } from '../../src/core/context.js';
import { errorKind } from '../fixtures/errors.js';

test('a task is awaitable and reports its value, id, name and state', async () => {
  const t = spawn(
    async () => {
      await yieldNow();
      return 42;
    },
    { name: 'answer' },
  );
  assert.is(t.state, 'running');
  assert.is(t.name, 'answer');
  assert.is(await bounded(t), 42);
  assert.is(t.state, 'done');
  const u = spawn(() => 'sync');
  assert.ok(u.id > t.id, 'ids increase');
  assert.is(u.name, `task-${u.id}`);
  assert.is(u.state, 'done');
  assert.is(await u, 'sync');
});

test('a throwing fn fails the task with that error', async () => {
  const boom = new Error('boom');
  const t = spawn(() => {
    throw boom;
  });
  assert.is(t.state, 'failed');
  assert.is(await t.join().catch((e: unknown) => e), boom);
  const u = spawn(async () => {
    await yieldNow();
    throw boom;
  });
  assert.is(await bounded(u.join().catch((e: unknown) => e)), boom);
  assert.is(u.state, 'failed');
});

test('a cancelled sleeping task rejects promptly with CancelledError after its finally ran', async () => {
  let finallyRan = false;
  const t = spawn(async ({ signal }) => {
    try {
      await sleep(60_000, { signal });
    } finally {
      finallyRan = true;
    }
  });
  await flush();
  assert.ok(t.cancel('no longer needed'));
  assert.not.ok(t.cancel('twice'), 'a second cancel is a no-op');
  const e = await bounded(
    t.join().catch((x: unknown) => x),
    2000,
    'cancelled sleeper',
  );
  assert.instance(e, CancelledError);
  assert.is((e as CancelledError).code, 'ERR_SHOAL_CANCELLED');
  assert.is((e as CancelledError).cause, 'no longer needed');
  assert.ok(finallyRan);
  assert.is(t.state, 'cancelled');
  // The 60 s timer was cleared: this file would otherwise hang until the runner's limit.
});

test('a cancelled task that ignores its signal still ends cancelled, never done', async () => {
  const gate = deferred<void>();
  const t = spawn(async () => {
    await gate.promise;
    return 'finished anyway';
  });
  t.cancel();
  gate.resolve();
  assert.instance(await bounded(t.join().catch((e: unknown) => e)), CancelledError);
  assert.is(t.state, 'cancelled');
});

test('an error thrown during cancellation is reported as a failure, not hidden', async () => {
  const cleanup = new Error('cleanup failed');
  const t = spawn(async ({ signal }) => {
    try {
      await sleep(60_000, { signal });
    } finally {
      throw cleanup; // eslint-disable-line no-unsafe-finally
    }
  });
  t.cancel();
  assert.is(await bounded(t.join().catch((e: unknown) => e)), cleanup);
  assert.is(t.state, 'failed');
});

test('a parent signal cancels the task with its reason; an aborted one stops fn from running', async () => {
  const ac = new AbortController();
  const a = spawn(({ signal }) => sleep(60_000, { signal }), { signal: ac.signal });
  const b = spawn(({ signal }) => sleep(60_000, { signal }), { signal: ac.signal });
  ac.abort('parent gone');
  for (const t of [a, b]) {
    const e = (await bounded(t.join().catch((x: unknown) => x))) as CancelledError;
    assert.instance(e, CancelledError);
    assert.is(e.cause, 'parent gone');
  }
  let ran = false;
  const c = spawn(
    () => {
      ran = true;
    },
    { signal: ac.signal },
  );
  assert.is(c.state, 'cancelled');
  assert.not.ok(ran);
  assert.instance(await c.join().catch((x: unknown) => x), CancelledError);
});

test('ambient: once cancelled, a later sleep inside the task rejects without the signal', async () => {
  const clock = installFakeClock();
  try {
    const gate = deferred<void>();
    let sleepErr: unknown;
    const t = spawn(
      async () => {
        await gate.promise; // busy elsewhere while cancel() arrives
        try {
          await sleep(1000); // no signal threaded by hand
        } catch (e) {
          sleepErr = e;
          throw e;
        }
      },
      { ambient: true },
    );
    t.cancel('stop');
    gate.resolve();
    const e = await bounded(t.join().catch((x: unknown) => x));
    assert.instance(sleepErr, CancelledError, 'the sleep itself rejected');
    assert.instance(e, CancelledError);
    assert.is((e as CancelledError).cause, 'stop');
    assert.is(clock.now, 0, 'no virtual time had to pass');
    assert.is(clock.pending(), 0, 'no timer left behind');
  } finally {
    clock.uninstall();
  }
});

test('ambient: the storage is switched off once no ambient task is live, and back on for the next', async () => {
  // A continuation that outlives its ambient task shows whether the storage (and so Node's
  // promise hook, the tax on every promise of the thread) is still on.
  const probe = async (keepAlive: boolean): Promise<unknown> => {
    const hold = deferred<void>();
    const keeper = keepAlive ? spawn(() => hold.promise, { ambient: true }) : undefined;
    const gate = deferred<void>();
    let later: Promise<{ task: unknown }> | undefined;
    const t = spawn(
      () => {
        // boxed: a Task is a thenable, and resolving with one would adopt its outcome
        later = gate.promise.then(() => ({ task: ambientTask() }));
      },
      { ambient: true },
    );
    await bounded(t);
    await flush(); // the switch-off waits for the next turn of the event loop
    gate.resolve();
    const seen = (await bounded(later!)).task;
    hold.resolve();
    if (keeper !== undefined) await bounded(keeper);
    return seen === t ? 'its task' : seen;
  };
  assert.is(await probe(true), 'its task', 'on while another ambient task is live');
  assert.is(await probe(false), undefined, 'off once the last one settled');
  // Back on for the next ambient task: level-triggered cancellation still works.
  const t = spawn(
    async () => {
      await yieldNow();
      await sleep(60_000);
    },
    { ambient: true },
  );
  t.cancel('again');
  const e = await bounded(t.join().catch((x: unknown) => x));
  assert.instance(e, CancelledError);
  assert.is((e as CancelledError).cause, 'again');
});

test('ambient: a cancel while parked wakes the sleep; timeout and every-wait honour it too', async () => {
  const clock = installFakeClock();
  try {
    const t = spawn(
      async () => {
        await sleep(1000);
      },
      { ambient: true },
    );
    const u = spawn(
      async () => {
        await timeout(new Promise(() => {}), 1000);
      },
      { ambient: true },
    );
    await flush();
    t.cancel();
    u.cancel();
    assert.instance(await bounded(t.join().catch((x: unknown) => x)), CancelledError);
    assert.instance(await bounded(u.join().catch((x: unknown) => x)), CancelledError);
    assert.is(clock.pending(), 0);
  } finally {
    clock.uninstall();
  }
});

test('without ambient (the default) a wait ignores the task cancellation unless given the signal', async () => {
  const clock = installFakeClock();
  try {
    let slept = false;
    const t = spawn(async () => {
      await sleep(10);
      slept = true;
    });
    t.cancel();
    await clock.tick(10);
    assert.ok(slept, 'the sleep ran to its end');
    assert.instance(await bounded(t.join().catch((x: unknown) => x)), CancelledError);
  } finally {
    clock.uninstall();
  }
});

test('join() does not pass the caller’s cancellation on; await does', async () => {
  const gate = deferred<string>();
  const inner = spawn(() => gate.promise, { name: 'inner' });
  const outer = spawn(() => inner.join(), { ambient: true });
  await flush();
  outer.cancel('caller gone');
  assert.instance(await bounded(outer.join().catch((x: unknown) => x)), CancelledError);
  assert.is(inner.state, 'running', 'the joined task runs on');
  gate.resolve('inner done');
  assert.is(await bounded(inner), 'inner done');

  const inner2 = spawn(({ signal }) => sleep(60_000, { signal }));
  const outer2 = spawn(async () => await inner2, { ambient: true });
  await flush();
  outer2.cancel('caller gone');
  const e = await bounded(inner2.join().catch((x: unknown) => x));
  assert.instance(e, CancelledError, 'awaiting passes the cancellation on');
  assert.is((e as CancelledError).cause, 'caller gone');
  assert.instance(await bounded(outer2.join().catch((x: unknown) => x)), CancelledError);
});

test('join({ signal }) gives up waiting when its signal aborts, the task runs on', async () => {
  const gate = deferred<number>();
  const t = spawn(() => gate.promise);
  const ac = new AbortController();
  const j = t.join({ signal: ac.signal });
  ac.abort();
  assert.instance(await bounded(j.catch((x: unknown) => x)), CancelledError);
  assert.is(t.state, 'running');
  gate.resolve(7);
  assert.is(await bounded(t), 7);
});

test('a task that fails before anyone awaits it raises no unhandled rejection; a late await gets the error', async () => {
  const seen: unknown[] = [];
  const onUnhandled = (e: unknown): void => void seen.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const boom = new Error('early');
    const t = spawn(async () => {
      throw boom;
    });
    await flush(3);
    assert.is(t.state, 'failed');
    assert.equal(seen, []);
    assert.is(await t.then(undefined, (e: unknown) => e), boom);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a failed task nobody ever observes is reported as an unhandled rejection once collected', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const seen: unknown[] = [];
  const onUnhandled = (e: unknown): void => void seen.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const boom = new Error('never observed');
    (() => {
      spawn(() => {
        throw boom;
      });
    })();
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      gc();
      await flush(2);
    }
    assert.equal(seen, [boom]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('100k spawned tasks all complete and leave the registry empty', async () => {
  const before = taskCount();
  const n = 100_000;
  const gate = deferred<void>();
  let sum = 0;
  const ts = [];
  for (let i = 0; i < n; i++) {
    ts.push(
      spawn(async () => {
        await gate.promise;
        sum += i;
        return i;
      }),
    );
  }
  assert.is(taskCount(), before + n);
  gate.resolve();
  const vals = await bounded(Promise.all(ts), 60_000, '100k tasks');
  assert.is(vals.length, n);
  assert.is(sum, (n * (n - 1)) / 2);
  assert.is(taskCount(), before);
});

test('yieldNow lets the event loop in (an already queued setImmediate runs first)', async () => {
  const order: string[] = [];
  setImmediate(() => order.push('immediate'));
  await yieldNow();
  order.push('after yield');
  assert.equal(order, ['immediate', 'after yield']);
  const ac = new AbortController();
  ac.abort();
  assert.instance(await yieldNow({ signal: ac.signal }).catch((e: unknown) => e), CancelledError);
});

test('bad inputs throw at the call site with Node-style codes', () => {
  const fn = (): void => {};
  assert.is(
    errorKind(() => spawn(123 as never)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => spawn(fn, { name: 5 as never })),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => spawn(fn, { signal: {} as never })),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => spawn(fn, 'x' as never)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  for (const bad of [-1, NaN, Infinity, 1.5, 2 ** 31]) {
    // sleep takes fractions as setTimeout does (timers.test.ts); after and every do not
    if (bad !== 1.5)
      assert.is(
        errorKind(() => sleep(bad)),
        'RangeError:ERR_OUT_OF_RANGE',
        `sleep(${bad})`,
      );
    assert.is(
      errorKind(() => after(bad, fn)),
      'RangeError:ERR_OUT_OF_RANGE',
      `after(${bad})`,
    );
    assert.is(
      errorKind(() => every(bad, fn)),
      'RangeError:ERR_OUT_OF_RANGE',
      `every(${bad})`,
    );
    assert.is(
      errorKind(() => timeout(Promise.resolve(), bad)),
      'RangeError:ERR_OUT_OF_RANGE',
      `timeout(${bad})`,
    );
  }
  assert.is(
    errorKind(() => every(0, fn)),
    'RangeError:ERR_OUT_OF_RANGE',
  );
  assert.is(
    errorKind(() => sleep('5' as never)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => sleep(1, { signal: 'no' as never })),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => after(1, 'fn' as never)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => every(1, null as never)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    errorKind(() => timeout(42 as never, 1)),
    'TypeError:ERR_INVALID_ARG_TYPE',
  );
});

test('ambient: a task parked on a channel take or a select wakes with CancelledError', async () => {
  const c = chan<number>();
  const t = spawn(() => c.take(), { ambient: true });
  const u = spawn(() => select([c.takeOp()]), { ambient: true });
  await flush();
  t.cancel('stop');
  u.cancel('stop');
  assert.instance(await bounded(t.join().catch((x: unknown) => x)), CancelledError);
  assert.instance(await bounded(u.join().catch((x: unknown) => x)), CancelledError);
  assert.ok(c.tryPut(1), 'no stale taker was left parked on the channel');
  assert.is(c.tryTake(), 1, 'the value was not consumed by a cancelled taker');
});

test('an ambient task awaiting many tasks cancels them all, with one listener (no leak warning)', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    const kids = Array.from({ length: 50 }, () => spawn(({ signal }) => sleep(60_000, { signal })));
    const outer = spawn(() => Promise.all(kids), { ambient: true });
    await flush();
    outer.cancel('enough');
    await bounded(outer.join().catch(() => {}));
    const outcomes = await bounded(Promise.all(kids.map((k) => k.join().catch((e: unknown) => e))));
    assert.ok(outcomes.every((e) => e instanceof CancelledError && e.cause === 'enough'));
    await flush();
    assert.equal(
      warnings.map((w) => w.name),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

test.run();
