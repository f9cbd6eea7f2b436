// Guarantees of deferred(): first delivery wins, holds an error for many awaiters, no stray
// unhandled rejection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deferred } from '../../src/index.js';
import { bounded, flush } from '../fixtures/fake-clock.js';

test('the first delivery wins; later ones report false', async () => {
  const d = deferred<string>();
  assert.not.ok(d.settled);
  assert.ok(d.resolve('first'));
  assert.ok(d.settled);
  assert.not.ok(d.resolve('second'));
  assert.not.ok(d.reject(new Error('late')));
  assert.is(await d.promise, 'first');
});

test('a rejection is held for any number of awaiters, early or late', async () => {
  const d = deferred<number>();
  const boom = new Error('boom');
  const early = d.promise.catch((e: unknown) => e);
  assert.ok(d.reject(boom));
  assert.not.ok(d.resolve(1));
  assert.is(await early, boom);
  await flush();
  assert.is(await d.promise.catch((e: unknown) => e), boom);
  assert.is(await d.promise.catch((e: unknown) => e), boom);
});

test('a rejected deferred nobody awaits raises no unhandled rejection', async () => {
  const seen: unknown[] = [];
  const on = (e: unknown): void => void seen.push(e);
  process.on('unhandledRejection', on);
  try {
    deferred().reject(new Error('held'));
    const d = deferred<number>();
    d.resolve(Promise.reject(new Error('adopted')));
    await flush(3);
    assert.equal(seen, []);
  } finally {
    process.off('unhandledRejection', on);
  }
});

test('resolving with a promise adopts it; settled is true at once', async () => {
  const inner = deferred<string>();
  const d = deferred<string>();
  d.resolve(inner.promise);
  assert.ok(d.settled);
  assert.not.ok(d.resolve('other'), 'the adopted promise was the first delivery');
  inner.resolve('adopted');
  assert.is(await bounded(d.promise), 'adopted');
});

test.run();
