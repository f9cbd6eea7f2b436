/**
 * The agent hub's id table (src/agent/id-table.ts): it answers like a Map for ids handed out in
 * increasing order, including ids far apart (the table grows; colliding entries go to its
 * overflow map), and iterates in id order while the caller deletes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdTable } from '../../src/agent/id-table.js';

test('get, set and delete agree with a Map over a seeded mix of ids', () => {
  const t = new IdTable<number>(8);
  const m = new Map<number, number>();
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed;
  };
  let next = 1;
  for (let i = 0; i < 20_000; i++) {
    const r = rnd() % 10;
    if (r < 5) {
      const k = next++;
      t.set(k, i);
      m.set(k, i);
    } else if (r < 8 && m.size > 0) {
      const k = 1 + (rnd() % (next - 1));
      assert.is(t.delete(k), m.delete(k), `delete ${k} (seed 12345, step ${i})`);
    } else {
      const k = 1 + (rnd() % next);
      assert.is(t.get(k), m.get(k), `get ${k} (seed 12345, step ${i})`);
    }
    assert.is(t.size, m.size);
  }
  assert.equal(
    t.entries(),
    [...m].sort((a, b) => a[0] - b[0]),
  );
});

test('ids that collide in the window (far apart) are all kept, and replaced in place', () => {
  const t = new IdTable<string>(4);
  const ids = [1, 5, 9, 1 + 4096, 3, 1 + 1024 * 1024, 7];
  for (const k of ids) t.set(k, `v${k}`);
  for (const k of ids) assert.is(t.get(k), `v${k}`);
  t.set(5, 'again');
  assert.is(t.get(5), 'again');
  assert.is(t.size, ids.length);
  assert.equal(
    t.values(),
    [...ids].sort((a, b) => a - b).map((k) => (k === 5 ? 'again' : `v${k}`)),
  );
});

test('iteration is a snapshot: deleting while walking still visits every entry once', () => {
  const t = new IdTable<number>(16);
  for (let k = 1; k <= 100; k++) t.set(k, k);
  const seen: number[] = [];
  for (const [k] of t.entries()) {
    seen.push(k);
    t.delete(k);
    t.delete(k + 1);
  }
  assert.equal(
    seen,
    Array.from({ length: 100 }, (_, i) => i + 1),
  ); // the snapshot was taken before the deletes
  assert.is(t.size, 0);
  t.set(3, 3);
  t.clear();
  assert.is(t.get(3), undefined);
  assert.is(t.size, 0);
});

test.run();
