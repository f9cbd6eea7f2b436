/**
 * The message transport's dispatch rule (src/pool/message/main.ts, rules 1, 2 and 2a) with
 * fake workers: a burst is split by the fair share across every live worker, also one that is
 * not pulling at that moment; a worker at its share gets the rest only once the others have been
 * silent for the stall time; nothing is sent without a pull. Deterministic: the stall time is
 * injected (an hour where it must not pass, 0 where it must).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker } from 'node:worker_threads';
import { MessageTransport } from '../../src/pool/message/main.js';
import { OK, PULL, SUBMIT, type FromWorker, type ToWorker } from '../../src/pool/protocol.js';
import type { TransportSink } from '../../src/pool/transport.js';

/** A stand-in for a pool worker: records what main posts, and lets the test answer. */
class FakeWorker {
  readonly batches: ToWorker[][] = [];
  /** task ids whose frames the platform refuses to post (as it would a value it cannot clone) */
  readonly refuse = new Set<number>();
  private listener: ((batch: FromWorker[]) => void) | undefined;
  postMessage(batch: ToWorker[]): void {
    if (batch.some((f) => f[0] === SUBMIT && this.refuse.has(f[1] as number))) throw new Error('could not be cloned');
    this.batches.push(batch);
  }
  on(_event: 'message', fn: (batch: FromWorker[]) => void): this {
    this.listener = fn;
    return this;
  }
  send(...frames: FromWorker[]): void {
    this.listener!(frames);
  }
  /** Ids of every task posted to this worker so far. */
  taskIds(): number[] {
    return this.batches
      .flat()
      .filter((f) => f[0] === SUBMIT)
      .map((f) => f[1] as number);
  }
}

/** The pool's side, as far as the transport sees it: who holds which task until it settles. */
function sink(): TransportSink & { assignedTo: Map<number, number>; failed: number[] } {
  const assignedTo = new Map<number, number>();
  const failed: number[] = [];
  return {
    assignedTo,
    failed,
    assigned: (slot, id) => void assignedTo.set(id, slot),
    settled: (_slot, id) => void assignedTo.delete(id),
    sendFailed: (id) => {
      assignedTo.delete(id);
      failed.push(id);
    },
    running: (slot) => [...assignedTo.values()].filter((s) => s === slot).length,
    load: () => {},
    active: () => true,
    pending: () => 0,
    tasks: () => {},
    retiring: () => {},
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(stallMs: number): { t: MessageTransport; a: FakeWorker; b: FakeWorker; s: ReturnType<typeof sink> } {
  const s = sink();
  const t = new MessageTransport(s, stallMs);
  const a = new FakeWorker();
  const b = new FakeWorker();
  t.attach(0, a as unknown as Worker);
  t.attach(1, b as unknown as Worker);
  return { t, a, b, s };
}

test('a burst submitted while only one worker pulls is split by the fair share, not all handed to it', async () => {
  const { t, a, b } = setup(3_600_000);
  a.send([PULL, 1024]);
  for (let id = 1; id <= 64; id++) t.submit(id, 'file:///m.js', 'f', [id]);
  await tick();
  assert.equal(
    a.taskIds(),
    Array.from({ length: 32 }, (_, i) => i + 1),
    'the pulling worker gets its half, in order',
  );
  assert.equal(b.taskIds(), [], 'nothing is sent without a pull');
  assert.is(t.queued(), 32);
  // it pulls again at once, still holding its 32: nothing more for it while the other may come
  a.send([PULL, 1024]);
  await tick();
  assert.is(a.taskIds().length, 32);
  // the other worker pulls: it gets the rest
  b.send([PULL, 1024]);
  await tick();
  assert.equal(
    b.taskIds(),
    Array.from({ length: 32 }, (_, i) => i + 33),
  );
  assert.is(t.queued(), 0);
  t.close();
});

test("results free a worker's share: settled tasks no longer count against it", async () => {
  const { t, a, b } = setup(3_600_000);
  a.send([PULL, 1024]);
  for (let id = 1; id <= 8; id++) t.submit(id, 'file:///m.js', 'f', []);
  await tick();
  assert.is(a.taskIds().length, 4);
  a.send([OK, 1, null], [OK, 2, null], [OK, 3, null], [OK, 4, null], [PULL, 1024]);
  await tick();
  // queued 4, nothing out anywhere: its share is 2 of them, the other worker's 2 wait for it
  assert.equal(a.taskIds(), [1, 2, 3, 4, 5, 6]);
  assert.equal(b.taskIds(), []);
  t.close();
});

test('no hostages: once the other worker has been silent for the stall time, a worker at its share takes the rest', async () => {
  const { t, a, b, s } = setup(0);
  // worker b is busy (it never pulls nor answers); worker a keeps pulling
  a.send([PULL, 1024]);
  for (let id = 1; id <= 10; id++) t.submit(id, 'file:///m.js', 'f', []);
  await tick();
  for (let i = 0; i < 10 && t.queued() > 0; i++) {
    a.send([PULL, 1024]);
    await tick();
  }
  assert.is(t.queued(), 0);
  assert.is(a.taskIds().length, 10);
  assert.equal(b.taskIds(), []);
  for (let id = 1; id <= 10; id++) assert.is(s.assignedTo.get(id), 0);
  t.close();
});

test('a worker held at its share is re-checked by a timer, without any further message', async () => {
  const { t, a } = setup(250);
  a.send([PULL, 1024]);
  for (let id = 1; id <= 6; id++) t.submit(id, 'file:///m.js', 'f', []);
  await tick();
  assert.is(a.taskIds().length, 3);
  a.send([PULL, 1024]); // held: the other worker was heard less than 250 ms ago (at attach)
  await tick();
  // the re-check timer fires after the stall time; a bounded wait for it (fails, not hangs)
  const deadline = Date.now() + 5000;
  while (a.taskIds().length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.is(a.taskIds().length, 6);
  t.close();
});

test("a task the platform refused to post does not count against its worker's share", async () => {
  const { t, a, s } = setup(3_600_000);
  a.refuse.add(1).add(2);
  a.send([PULL, 1024]);
  for (let id = 1; id <= 4; id++) t.submit(id, 'file:///m.js', 'f', []);
  await tick();
  assert.equal(s.failed, [1, 2], 'both refused tasks failed at once');
  assert.equal(a.taskIds(), []);
  a.send([PULL, 1024]);
  await tick();
  // nothing is outstanding on it: its share of the 2 queued is 1 (not 0, as if 1 and 2 were out)
  assert.equal(a.taskIds(), [3]);
  t.close();
});

test.run();
