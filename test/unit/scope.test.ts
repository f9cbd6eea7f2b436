// Guarantees of scope / openScope: waits for every child, first failure cancels the siblings and
// is rethrown after their cleanup, cancellation flows down, no spawning into an ended scope.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  spawn,
  scope,
  openScope,
  sleep,
  yieldNow,
  deferred,
  CancelledError,
  ClosedError,
  taskCount,
} from '../../src/index.js';
import { bounded, flush } from '../fixtures/fake-clock.js';

test('a scope waits for every child and resolves with the body’s value', async () => {
  const done: string[] = [];
  const gate = deferred<void>();
  const p = scope(async (s) => {
    s.spawn(async () => {
      await gate.promise;
      done.push('a');
    });
    s.spawn(async () => {
      await yieldNow();
      done.push('b');
    });
    return 'body';
  });
  let settled = false;
  void p.then(() => (settled = true));
  await flush(3);
  assert.not.ok(settled, 'still waiting for child a');
  gate.resolve();
  assert.is(await bounded(p), 'body');
  assert.equal(done.sort(), ['a', 'b']);
});

test('the first failure cancels the siblings, waits for their finally blocks, and is rethrown', async () => {
  const boom = new Error('boom');
  let cleaned = false;
  let siblingErr: unknown;
  const p = scope(async (s) => {
    s.spawn(async ({ signal }) => {
      try {
        await sleep(60_000, { signal });
      } catch (e) {
        siblingErr = e;
        throw e;
      } finally {
        await yieldNow(); // async cleanup: the scope must wait for it
        cleaned = true;
      }
    });
    s.spawn(async () => {
      await yieldNow();
      throw boom;
    });
  });
  const e = await bounded(
    p.catch((x: unknown) => x),
    2000,
    'failing scope',
  );
  assert.is(e, boom, 'the first failure itself is rethrown');
  assert.ok(cleaned, 'the sibling’s finally finished before the scope settled');
  assert.instance(siblingErr, CancelledError);
  assert.is((siblingErr as CancelledError).cause, boom, 'the sibling learns why it was cancelled');
});

test('further failures are attached to the first as `suppressed`', async () => {
  const first = new Error('first');
  const second = new Error('second');
  const e = (await bounded(
    scope((s) => {
      s.spawn(async () => {
        await yieldNow();
        throw first;
      });
      s.spawn(async ({ signal }) => {
        try {
          await sleep(60_000, { signal });
        } finally {
          throw second; // eslint-disable-line no-unsafe-finally
        }
      });
    }).catch((x: unknown) => x),
  )) as Error & { suppressed?: unknown[] };
  assert.is(e, first);
  assert.equal(e.suppressed, [second]);
  assert.not.ok(Object.keys(e).includes('suppressed'), 'non-enumerable');
});

test('a failing body cancels the children and is rethrown', async () => {
  const boom = new Error('body failed');
  let childCancelled = false;
  const e = await bounded(
    scope(async (s) => {
      s.spawn(async ({ signal }) => {
        try {
          await sleep(60_000, { signal });
        } catch (x) {
          childCancelled = x instanceof CancelledError;
          throw x;
        }
      });
      await yieldNow();
      throw boom;
    }).catch((x: unknown) => x),
  );
  assert.is(e, boom);
  assert.ok(childCancelled);
});

test('cancelling the scope through its signal cancels the children; the scope rejects with CancelledError', async () => {
  const ac = new AbortController();
  const states: string[] = [];
  const started = deferred<void>();
  const p = scope(
    (s) => {
      for (let i = 0; i < 3; i++) {
        s.spawn(async ({ signal }) => {
          started.resolve();
          try {
            await sleep(60_000, { signal });
          } finally {
            states.push('cleaned');
          }
        });
      }
    },
    { signal: ac.signal },
  );
  await started.promise;
  ac.abort('shutdown');
  const e = (await bounded(p.catch((x: unknown) => x))) as CancelledError;
  assert.instance(e, CancelledError);
  assert.is(e.cause, 'shutdown');
  assert.equal(states, ['cleaned', 'cleaned', 'cleaned']);
});

test('a child cancelled on its own does not fail the scope', async () => {
  const v = await bounded(
    scope(async (s) => {
      const t = s.spawn(({ signal }) => sleep(60_000, { signal }));
      t.cancel();
      return 'fine';
    }),
  );
  assert.is(v, 'fine');
});

test('spawning into an ended scope throws ClosedError; into a cancelled one starts cancelled', async () => {
  let saved: Parameters<Parameters<typeof scope>[0]>[0] | undefined;
  await scope((s) => {
    saved = s;
  });
  assert.throws(
    () => saved!.spawn(() => 1),
    (e: unknown) => e instanceof ClosedError && e.code === 'ERR_SHOAL_CLOSED',
  );

  const s = openScope();
  s.cancel('stop');
  let ran = false;
  const t = s.spawn(() => {
    ran = true;
  });
  assert.not.ok(ran);
  assert.is(t.state, 'cancelled');
  assert.instance(await bounded(s.close().catch((x: unknown) => x)), CancelledError);
});

test('await using an openScope waits for its children at the end of the block', async () => {
  const log: string[] = [];
  const gate = deferred<void>();
  const body = async (): Promise<void> => {
    await using s = openScope();
    s.spawn(async () => {
      await gate.promise;
      log.push('child');
    });
    log.push('block end');
  };
  const p = body();
  await flush(2);
  assert.equal(log, ['block end']);
  gate.resolve();
  await bounded(p);
  assert.equal(log, ['block end', 'child']);
});

test('children can spawn siblings while the scope is closing; all are awaited', async () => {
  let count = 0;
  await bounded(
    scope((s) => {
      const grow = (depth: number): void => {
        s.spawn(async () => {
          await yieldNow();
          count++;
          if (depth < 5) grow(depth + 1);
        });
      };
      grow(0);
    }),
  );
  assert.is(count, 6);
  assert.is(taskCount(), 0);
});

test('ambient children: a sibling failure wakes a signal-less sleep', async () => {
  const boom = new Error('boom');
  let woke: unknown;
  const e = await bounded(
    scope((s) => {
      s.spawn(
        async () => {
          try {
            await sleep(60_000);
          } catch (x) {
            woke = x;
            throw x;
          }
        },
        { ambient: true },
      );
      s.spawn(async () => {
        await yieldNow();
        throw boom;
      });
    }).catch((x: unknown) => x),
  );
  assert.is(e, boom);
  assert.instance(woke, CancelledError);
});

test('bad inputs throw at the call site', () => {
  assert.throws(
    () => scope(42 as never),
    (e: unknown) => e instanceof TypeError && (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE',
  );
  assert.throws(
    () => openScope({ signal: 1 as never }),
    (e: unknown) => e instanceof TypeError,
  );
  const s = openScope();
  assert.throws(
    () => s.spawn('x' as never),
    (e: unknown) => e instanceof TypeError,
  );
  void s.close();
});

test('a scope opened inside an ambient task is cancelled with that task', async () => {
  let childErr: unknown;
  const started = deferred<void>();
  const outer = spawn(
    () =>
      scope((s) => {
        s.spawn(async ({ signal }) => {
          started.resolve();
          try {
            await sleep(60_000, { signal });
          } catch (e) {
            childErr = e;
            throw e;
          }
        });
      }),
    { ambient: true },
  );
  await started.promise;
  outer.cancel('outer gone');
  const e = (await bounded(outer.join().catch((x: unknown) => x))) as CancelledError;
  assert.instance(e, CancelledError);
  assert.instance(childErr, CancelledError);
  assert.is((childErr as CancelledError).cause, 'outer gone');
});

test.run();
