/**
 * Buffer specs and the ring deque: FIFO across wrap and growth, compaction, validation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Ring, dropping, fixed, isBufferSpec, sliding, MAX_BUFFER_SIZE } from '../../src/core/buffers.js';

const seed = Number(process.env.SHOAL_SEED ?? 20261122);

test('buffer specs are frozen plain data', () => {
  assert.equal(fixed(3), { kind: 'fixed', size: 3 });
  assert.equal(dropping(2), { kind: 'dropping', size: 2 });
  assert.equal(sliding(1), { kind: 'sliding', size: 1 });
  assert.ok(Object.isFrozen(sliding(1)));
  assert.ok(isBufferSpec(fixed(0)));
  assert.not.ok(isBufferSpec({ kind: 'fixed' }));
  assert.not.ok(isBufferSpec(null));
  assert.throws(
    () => fixed(MAX_BUFFER_SIZE + 1),
    (e: Error & { code?: string }) => e instanceof RangeError && e.code === 'ERR_OUT_OF_RANGE',
  );
});

test('a ring behaves like an array queue under random pushes and shifts (across wrap and growth)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.nat(1000), fc.constant(-1)), { maxLength: 300 }), (ops) => {
      const r = new Ring<number>(4);
      const model: number[] = [];
      for (const op of ops) {
        if (op === -1) assert.is(r.shift(), model.shift());
        else {
          r.push(op);
          model.push(op);
        }
        assert.is(r.length, model.length);
        assert.is(r.peek(), model[0]);
      }
      assert.equal(r.toArray(), model);
    }),
    { seed },
  );
});

test('retain keeps the chosen items in order, from any head position', () => {
  fc.assert(
    fc.property(fc.nat(20), fc.array(fc.nat(100), { maxLength: 40 }), (skew, items) => {
      const r = new Ring<number>(8);
      for (let i = 0; i < skew; i++) {
        r.push(-1);
        r.shift();
      }
      for (const x of items) r.push(x);
      r.retain((x) => x % 3 !== 0);
      const want = items.filter((x) => x % 3 !== 0);
      assert.equal(r.toArray(), want);
      r.push(999);
      assert.equal(r.toArray(), [...want, 999]);
    }),
    { seed },
  );
});

test.run();
