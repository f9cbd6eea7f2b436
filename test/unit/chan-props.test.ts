/**
 * Property tests (fast-check, seeded): fixed, rendezvous and unbounded channels lose, duplicate
 * or reorder nothing under random interleavings of puts, takes, closes and cancellations.
 *
 * fc.scheduler() decides the interleaving: every task yields to it before each operation, and
 * every abort and the early close are scheduled events too, so the scheduler chooses whether a
 * cancellation lands before or after its operation commits. A failure prints fast-check's seed
 * and path; rerun with SHOAL_SEED=<seed>.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { chan } from '../../src/core/chan.js';
import { CancelledError } from '../../src/core/errors.js';
import { fixedSeed } from '../fixtures/seed.js';

const seed = fixedSeed(20261122);
const numRuns = Number(process.env.SHOAL_RUNS ?? 300);

function within<T>(p: Promise<T>, ms = 2000): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`wait took over ${ms} ms`)), ms)));
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

type Outcome = 'pending' | 'delivered' | 'refused' | 'cancelled';

test('fixed, rendezvous and unbounded channels lose, duplicate or reorder nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 3 })),
      // producers: one entry per put, true = that put gets a (randomly timed) abort
      fc.array(fc.array(fc.boolean(), { maxLength: 6 }), { minLength: 1, maxLength: 3 }),
      // consumers: cancel flags for their first takes; they keep taking until closed and drained
      fc.array(fc.array(fc.boolean(), { maxLength: 6 }), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      async (s, buf, producers, consumers, closeEarly) => {
        const c = chan<number>(buf);
        const tick = () => s.schedule(Promise.resolve());
        const abortLater = (ac: AbortController) => void tick().then(() => ac.abort());
        const outcome = new Map<number, Outcome>();

        const producing = producers.map(async (cancels, p) => {
          for (let k = 0; k < cancels.length; k++) {
            const v = p * 100 + k + 1;
            await tick();
            let signal: AbortSignal | undefined;
            if (cancels[k]) {
              const ac = new AbortController();
              signal = ac.signal;
              abortLater(ac);
            }
            outcome.set(v, 'pending');
            try {
              outcome.set(v, (await c.put(v, { signal })) ? 'delivered' : 'refused');
            } catch (e) {
              if (!(e instanceof CancelledError)) throw e;
              outcome.set(v, 'cancelled');
            }
          }
        });
        const consuming = consumers.map(async (cancels) => {
          const got: number[] = [];
          for (let k = 0; ; k++) {
            await tick();
            let signal: AbortSignal | undefined;
            if (cancels[k]) {
              const ac = new AbortController();
              signal = ac.signal;
              abortLater(ac);
            }
            try {
              const v = await c.take({ signal });
              if (v === undefined) return got;
              got.push(v);
            } catch (e) {
              if (!(e instanceof CancelledError)) throw e;
            }
          }
        });
        if (closeEarly) void tick().then(() => c.close());
        const closer = Promise.all(producing).then(() => c.close());
        const [, ...takenBy] = await within(s.waitFor(Promise.all([closer, ...consuming])));

        const taken = takenBy.flat();
        assert.is(new Set(taken).size, taken.length, 'no value taken twice');
        for (const v of taken) assert.is(outcome.get(v), 'delivered', `value ${v} was taken`);
        for (const [v, o] of outcome) {
          assert.not.equal(o, 'pending', `put ${v} settled`);
          if (o === 'delivered') assert.ok(taken.includes(v), `delivered value ${v} was taken`);
        }
        // FIFO: each consumer sees each producer's values in the order they were put.
        for (const got of takenBy) {
          const last = new Map<number, number>();
          for (const v of got) {
            const p = Math.floor(v / 100);
            assert.ok((last.get(p) ?? 0) < v, `order of producer ${p}: ${got.join(',')}`);
            last.set(p, v);
          }
        }
        assert.equal(c.stats(), {
          buffered: 0,
          capacity: buf ?? Infinity,
          pendingPuts: 0,
          pendingTakes: 0,
          closed: true,
        });
      },
    ),
    { seed, numRuns },
  );
});

// ---- model-based: every operation's outcome equals a reference model's, step by step ----

type Cmd = { op: 'put' | 'tryPut' | 'take' | 'tryTake' | 'close' } | { op: 'cancel'; pick: number };
type Result = number | boolean | undefined | 'cancelled';

/** The reference: a direct transcription of the documented semantics, with plain arrays. */
class Model {
  buf: number[] = [];
  putters: { id: number; v: number }[] = [];
  takers: number[] = [];
  closed = false;
  results = new Map<number, Result>();
  constructor(
    readonly kind: 'fixed' | 'dropping' | 'sliding',
    readonly size: number,
  ) {}
  put(id: number, v: number, wait: boolean): void {
    if (this.closed) return void this.results.set(id, false);
    const t = this.takers.shift();
    if (t !== undefined) {
      this.results.set(t, v);
      return void this.results.set(id, true);
    }
    if (this.buf.length < this.size) this.buf.push(v);
    else if (this.kind === 'dropping') {
      /* dropped */
    } else if (this.kind === 'sliding') {
      this.buf.shift();
      this.buf.push(v);
    } else if (wait) return void this.putters.push({ id, v });
    else return void this.results.set(id, false);
    this.results.set(id, true);
  }
  take(id: number, wait: boolean): void {
    if (this.buf.length > 0) {
      this.results.set(id, this.buf.shift());
      const p = this.putters.shift();
      if (p) {
        this.buf.push(p.v);
        this.results.set(p.id, true);
      }
      return;
    }
    const p = this.putters.shift();
    if (p) {
      this.results.set(p.id, true);
      return void this.results.set(id, p.v);
    }
    if (this.closed || !wait) return void this.results.set(id, undefined);
    this.takers.push(id);
  }
  pending(): number[] {
    return [...this.putters.map((p) => p.id), ...this.takers].sort((a, b) => a - b);
  }
  cancel(id: number): void {
    this.putters = this.putters.filter((p) => p.id !== id);
    this.takers = this.takers.filter((t) => t !== id);
    this.results.set(id, 'cancelled');
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.takers) this.results.set(t, undefined);
    for (const p of this.putters) this.results.set(p.id, false);
    this.takers = [];
    this.putters = [];
  }
}

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Cmd>({ op: 'put' }, { op: 'take' }) },
  { weight: 2, arbitrary: fc.constantFrom<Cmd>({ op: 'tryPut' }, { op: 'tryTake' }) },
  { weight: 2, arbitrary: fc.nat(20).map((pick): Cmd => ({ op: 'cancel', pick })) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'close' }) },
);

const settle = () => new Promise<void>((r) => setImmediate(r));

test('every put, take, cancel and close has the outcome the reference model predicts (all kinds)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('unbounded', 'fixed', 'dropping', 'sliding'),
      fc.integer({ min: 0, max: 3 }),
      fc.array(cmdArb, { maxLength: 60 }),
      async (kind, n, cmds) => {
        const size = kind === 'unbounded' ? Infinity : kind === 'fixed' ? n : Math.max(1, n);
        const c = kind === 'unbounded' ? chan<number>() : chan<number>({ kind, size } as const);
        const model = new Model(kind === 'unbounded' ? 'fixed' : kind, size);
        const real = new Map<number, Result>();
        const aborts = new Map<number, AbortController>();
        let nextId = 0;
        let nextValue = 1;
        for (const cmd of cmds) {
          const id = nextId++;
          if (cmd.op === 'put' || cmd.op === 'take') {
            const ac = new AbortController();
            aborts.set(id, ac);
            const p: Promise<Result> =
              cmd.op === 'put' ? c.put(nextValue, { signal: ac.signal }) : c.take({ signal: ac.signal });
            p.then(
              (r) => real.set(id, r),
              (e: unknown) => real.set(id, e instanceof CancelledError ? 'cancelled' : (String(e) as never)),
            );
            if (cmd.op === 'put') model.put(id, nextValue++, true);
            else model.take(id, true);
          } else if (cmd.op === 'tryPut') {
            real.set(id, c.tryPut(nextValue));
            model.put(id, nextValue++, false);
          } else if (cmd.op === 'tryTake') {
            real.set(id, c.tryTake());
            model.take(id, false);
          } else if (cmd.op === 'close') {
            c.close();
            model.close();
          } else if (cmd.op === 'cancel') {
            const pending = model.pending();
            if (pending.length === 0) continue;
            const victim = pending[cmd.pick % pending.length]!;
            aborts.get(victim)!.abort();
            model.cancel(victim);
          }
          await settle();
          assert.equal(real, model.results, `after ${cmd.op} #${id}`);
          const st = c.stats();
          assert.equal(
            [st.buffered, st.pendingPuts, st.pendingTakes, st.closed],
            [model.buf.length, model.putters.length, model.takers.length, model.closed],
            `stats after ${cmd.op} #${id}`,
          );
        }
        // leave nothing pending
        c.close();
        model.close();
        await settle();
        assert.equal(real, model.results, 'after the final close');
      },
    ),
    { seed: seed + 1, numRuns },
  );
});

test.run();
