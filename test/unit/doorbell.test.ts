/**
 * Doorbell guarantees on the main thread: no syscall for a running owner, async waits woken by a
 * ring, bounded by their timeout, cancellable (explicit and ambient signal), holding a ref'd
 * handle only while parked; waitSync refused on the main thread. Ordering by event-loop turns
 * (setImmediate), never by sleeps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDoorbell, initDoorbell, Doorbell, DOORBELL_BYTES } from '../../src/shm/doorbell.js';
import { CancelledError, RingCorruptError } from '../../src/core/errors.js';
import { runInTask } from '../../src/core/context.js';
import { code } from '../fixtures/errors.js';

const turn = () => new Promise<void>((r) => setImmediate(r));
const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;

test('ringing a running owner bumps SEQ and makes no notify', () => {
  const bell = new Doorbell(createDoorbell());
  const s = bell.seq();
  assert.is(bell.ring(), false);
  assert.is(bell.seq(), s + 1);
  assert.is(bell.state(), 'running');
  assert.is(bell.stats().notifies, 0);
});

test('a wait on a SEQ that already moved resolves rung without parking', async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  const s = bell.seq();
  bell.ring();
  assert.is(await bell.wait(s, { timeoutMs: 1000 }), 'rung');
  assert.is(bell.stats().parks, 0);
});

test('a parked async wait is woken by ring, which notifies exactly once', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc, { spinIterations: 0 });
  const ringer = new Doorbell(desc);
  const s = owner.seq();
  const p = owner.wait(s, { timeoutMs: 5000 });
  assert.is(owner.state(), 'parked');
  await turn();
  assert.is(ringer.ring(), true);
  assert.is(ringer.ring(), false, 'the first ring already took STATE back to RUNNING');
  assert.is(await p, 'rung');
  assert.is(owner.state(), 'running');
});

test('ringIfParked leaves a running owner alone (SEQ unmoved) and wakes a parked one', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc, { spinIterations: 0 });
  const ringer = new Doorbell(desc);
  const s = owner.seq();
  assert.is(ringer.ringIfParked(), false);
  assert.is(owner.seq(), s, 'no store while the owner runs (invariant 8)');
  let data = false;
  const p = owner.wait(s, { timeoutMs: 5000, recheck: () => data });
  assert.is(owner.state(), 'parked');
  await turn();
  data = true;
  assert.is(ringer.ringIfParked(), true);
  assert.is(await p, 'rung');
  assert.is(owner.state(), 'running');
});

test('a wait whose recheck finds data after publishing PARKED resolves rung without sleeping', async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  const s = bell.seq();
  let asked = 0;
  const r = await bell.wait(s, {
    timeoutMs: 5000,
    recheck: () => {
      asked++;
      assert.is(bell.state(), 'parked', 'asked after STATE=PARKED is published');
      return true;
    },
  });
  assert.is(r, 'rung');
  assert.is(asked, 1);
  assert.is(bell.state(), 'running');
});

test('a notify records when it woke the owner (msSinceNotify); before any, or when stale, -1', async () => {
  const desc = createDoorbell();
  const owner = new Doorbell(desc, { spinIterations: 0 });
  const ringer = new Doorbell(desc);
  assert.is(owner.msSinceNotify(1000), -1, 'no notify yet');
  ringer.ring(); // the owner runs: no notify, nothing recorded
  assert.is(owner.msSinceNotify(1000), -1);
  const p = owner.wait(owner.seq(), { timeoutMs: 5000 });
  await turn();
  const before = performance.now();
  assert.is(ringer.ring(), true);
  assert.is(await p, 'rung');
  const lag = owner.msSinceNotify(1000);
  assert.ok(lag >= 0 && lag <= performance.now() - before + 0.01, `lag ${lag} ms lies between the notify and now`);
  assert.is(owner.msSinceNotify(-1), -1, 'older than the limit counts as unknown');
});

test("a parked async wait holds a ref'd timer only while parked", async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  const before = timers();
  const p = bell.wait(bell.seq());
  assert.is(timers(), before + 1, 'a wait without a timeout still keeps the loop alive');
  bell.ring();
  await p;
  await turn();
  assert.is(timers(), before);
});

test('an async wait resolves timed-out after its timeout and leaves the bell usable', async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  assert.is(await bell.wait(bell.seq(), { timeoutMs: 5 }), 'timed-out');
  assert.is(bell.state(), 'running');
  const s = bell.seq();
  const p = bell.wait(s, { timeoutMs: 5000 });
  bell.ring();
  assert.is(await p, 'rung');
});

test('an async wait rejects with CancelledError on its signal and on the ambient task signal', async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  const ac = new AbortController();
  const p = bell.wait(bell.seq(), { signal: ac.signal });
  await turn();
  ac.abort('stop');
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  assert.ok(e instanceof CancelledError);
  assert.is((e as CancelledError).cause, 'stop');
  assert.is(bell.state(), 'running');

  const task = new AbortController();
  const q = runInTask({ signal: task.signal }, () => bell.wait(bell.seq()));
  await turn();
  task.abort();
  assert.ok(
    (await q.then(
      () => null,
      (x: unknown) => x,
    )) instanceof CancelledError,
  );
  const aborted = AbortSignal.abort();
  await bell.wait(bell.seq(), { signal: aborted }).then(
    () => assert.unreachable('must reject'),
    (x: unknown) => assert.ok(x instanceof CancelledError),
  );
});

test('misuse fails at the call site: waitSync on the main thread, two waits at once, bad descriptors', async () => {
  const bell = new Doorbell(createDoorbell(), { spinIterations: 0 });
  assert.is(
    code(() => bell.waitSync(bell.seq(), 1)),
    'ERR_INVALID_STATE',
  );
  const p = bell.wait(bell.seq(), { timeoutMs: 5000 });
  assert.is(
    code(() => bell.wait(bell.seq())),
    'ERR_INVALID_STATE',
  );
  bell.ring();
  await p;
  assert.is(
    code(() => bell.wait(bell.seq(), { timeoutMs: -1 })),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => new Doorbell({ kind: 'x' } as never)),
    'ERR_INVALID_ARG_TYPE',
  );
  assert.is(
    code(() => new Doorbell({ kind: 'shoal:doorbell', sab: new SharedArrayBuffer(64), byteOffset: 0 })),
    RingCorruptError.code,
  );
  assert.is(
    code(() => initDoorbell(new SharedArrayBuffer(DOORBELL_BYTES), 8)),
    'ERR_OUT_OF_RANGE',
  );
  assert.is(
    code(() => new Doorbell(createDoorbell(), { spinIterations: -1 })),
    'ERR_OUT_OF_RANGE',
  );
});

test.run();
