/**
 * The pool's task table (src/pool/task-table.ts) and overflow FIFO (src/pool/shared/overflow-queue.ts):
 * model-checked against a Map and an array with fast-check (seeded; rerun a failure with
 * SHOAL_SEED=<seed>), plus the cases the random runs reach too rarely: ids wrapping past 2^32,
 * a straggler outliving millions of ids, and a FIFO that never empties.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TaskTable } from '../../src/pool/task-table.js';
import { OverflowQueue } from '../../src/pool/shared/overflow-queue.js';
import { FrameWriter } from '../../src/codec/index.js';

const seed = Number(process.env.SHOAL_SEED ?? 20261122);
const numRuns = Number(process.env.SHOAL_RUNS ?? 200);

type Op =
  | { kind: 'add' }
  | { kind: 'delete'; pick: number }
  | { kind: 'get'; pick: number }
  | { kind: 'burst'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'add' as const }) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ kind: 'delete' as const, pick })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'get' as const, pick })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => ({ kind: 'burst' as const, n })) },
);

test('the table agrees with a Map: unique non-zero u32 ids, get, delete, values, size', () => {
  fc.assert(
    fc.property(fc.constantFrom(1, 2 ** 32 - 700, 2 ** 31 - 5), fc.array(op, { maxLength: 300 }), (first, ops) => {
      const table = new TaskTable<{ id: number }>(first);
      const model = new Map<number, { id: number }>();
      const everUsed = new Set<number>();
      const add = (): void => {
        const id = table.nextId();
        assert.ok(Number.isInteger(id) && id > 0 && id < 2 ** 32, `id ${id} is a non-zero u32`);
        assert.not.ok(model.has(id), `id ${id} is not live already`);
        const rec = { id };
        table.set(id, rec);
        model.set(id, rec);
        everUsed.add(id);
      };
      for (const o of ops) {
        if (o.kind === 'add') add();
        else if (o.kind === 'burst') {
          // many quick tasks: added and settled in order, past whatever is still live
          for (let i = 0; i < o.n; i++) {
            add();
            const id = [...model.keys()].at(-1)!;
            table.delete(id);
            model.delete(id);
          }
        } else {
          const keys = [...everUsed];
          const id = keys.length > 0 && o.pick % 4 !== 0 ? keys[o.pick % keys.length]! : (o.pick * 2654435761) >>> 0;
          if (o.kind === 'delete') {
            table.delete(id);
            model.delete(id);
          }
          assert.is(table.get(id), model.get(id), `get(${id})`);
        }
        assert.is(table.size, model.size);
      }
      const got = table
        .values()
        .map((r) => r.id)
        .sort((a, b) => a - b);
      assert.equal(
        got,
        [...model.keys()].sort((a, b) => a - b),
      );
      for (const [id, rec] of model) assert.is(table.get(id), rec);
    }),
    { seed, numRuns },
  );
});

test('ids wrap past 2^32 - 1 to 1, skipping 0 and every id still live', () => {
  const table = new TaskTable<number>(2 ** 32 - 3);
  const a = table.nextId();
  table.set(a, a);
  const ids = [a];
  for (let i = 0; i < 4; i++) {
    const id = table.nextId();
    table.set(id, id);
    ids.push(id);
  }
  assert.equal(ids, [2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1, 1, 2]);
  for (const id of ids) assert.is(table.get(id), id);
  assert.is(table.get(0), undefined);
});

test('a long-lived task among millions of quick ones: the ring stays small and the task is found', () => {
  const table = new TaskTable<string>();
  const old = table.nextId();
  table.set(old, 'old');
  // 2M quick tasks, 100 in flight at a time, settled in order
  const inFlight: number[] = [];
  for (let i = 0; i < 2_000_000; i++) {
    const id = table.nextId();
    table.set(id, 'quick');
    inFlight.push(id);
    if (inFlight.length > 100) table.delete(inFlight.shift()!);
  }
  assert.ok(table.capacity <= 1 << 17, `ring holds ${table.capacity} entries for 101 live tasks`);
  assert.is(table.size, 101);
  assert.is(table.get(old), 'old');
  table.delete(old);
  assert.is(table.get(old), undefined);
  assert.is(table.size, 100);
});

test('100k tasks in flight, settled out of order: all found, size exact, ring bounded', () => {
  const table = new TaskTable<number>();
  const ids: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const id = table.nextId();
    table.set(id, i);
    ids.push(id);
  }
  assert.ok(table.capacity <= 1 << 18);
  for (let i = 0; i < ids.length; i += 2) table.delete(ids[i]!);
  for (let i = 0; i < ids.length; i++) assert.is(table.get(ids[i]!), i % 2 === 0 ? undefined : i);
  assert.is(table.size, 50_000);
  table.clear();
  assert.is(table.size, 0);
  assert.is(table.get(ids[1]!), undefined);
});

function frame(id: number, payload: string): FrameWriter {
  return new FrameWriter().reset().u32(id).value(payload);
}

test('the overflow FIFO hands frames out in order, byte for byte, skipping dropped ones', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.string({ maxLength: 300 }).map((s) => ({ push: s })),
          fc.nat(40).map((room) => ({ room })),
          fc.nat().map((drop) => ({ drop })),
        ),
        { maxLength: 200 },
      ),
      (steps) => {
        const q = new OverflowQueue();
        const model: Array<{ id: number; bytes: number[] }> = [];
        let nextId = 1;
        for (const s of steps) {
          if ('push' in s) {
            const f = frame(nextId, s.push);
            q.push(nextId, f);
            model.push({ id: nextId, bytes: [...f.bytes()] });
            nextId++;
          } else if ('drop' in s) {
            if (model.length === 0) continue;
            const victim = model[s.drop % model.length]!;
            q.drop(victim.id);
            model.splice(model.indexOf(victim), 1);
          } else {
            let room = s.room;
            const got: number[][] = [];
            const n = q.drainInto((bytes, off, len) => {
              if (room === 0) return false;
              room--;
              got.push([...bytes.subarray(off, off + len)]);
              return true;
            });
            const want = model.splice(0, n).map((m) => m.bytes);
            assert.equal(got, want);
          }
          assert.is(q.length >= model.length, true);
        }
        const rest: number[][] = [];
        q.drainInto((bytes, off, len) => (rest.push([...bytes.subarray(off, off + len)]), true));
        assert.equal(
          rest,
          model.map((m) => m.bytes),
        );
        assert.is(q.length, 0);
      },
    ),
    { seed, numRuns },
  );
});

test('an overflow FIFO that never empties stays bounded by what waits in it', () => {
  const q = new OverflowQueue();
  let next = 1;
  let expect = 1;
  for (let round = 0; round < 2000; round++) {
    for (let i = 0; i < 100; i++) q.push(next, frame(next++, 'x'.repeat(50)));
    let taken = 0;
    q.drainInto((bytes, off) => {
      if (taken === 99) return false;
      const id = bytes[off]! | (bytes[off + 1]! << 8) | (bytes[off + 2]! << 16);
      assert.is(id, expect++);
      taken++;
      return true;
    });
  }
  assert.is(q.length, 2000);
  assert.ok(q.arenaBytes() <= 1 << 20, `arena grew to ${q.arenaBytes()} bytes for 2000 frames of ~60 B`);
});

test.run();
