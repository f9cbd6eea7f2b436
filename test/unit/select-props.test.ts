/**
 * Property test (fast-check, seeded): select commits exactly one op under random interleavings.
 *
 * Several tasks run selects over random mixes of take and put ops on a few channels (rendezvous,
 * fixed and unbounded), some with a randomly timed abort. fc.scheduler() picks the interleaving.
 * When the scheduler runs dry the channels are closed (releasing selects parked for good), and
 * the leftovers are drained. Conservation then says exactly one op of each select committed: the
 * values that left each channel are exactly the values committed into it, each once; a losing or
 * cancelled put never delivers; a losing or cancelled take never consumes. A failure prints
 * fast-check's seed and path; rerun with SHOAL_SEED=<seed>.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { chan, type Chan } from '../../src/core/chan.js';
import { seedSelect, select } from '../../src/core/select.js';
import { CancelledError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { fixedSeed } from '../fixtures/seed.js';

const seed = fixedSeed(20261122);
const numRuns = Number(process.env.SHOAL_RUNS ?? 300);

function within<T>(p: Promise<T>, ms = 2000): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`wait took over ${ms} ms`)), ms)));
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

interface OpSpec {
  put: boolean;
  ch: number;
}
interface Step {
  ops: OpSpec[];
  cancel: boolean;
  priority: boolean;
}

const stepArb = (channels: number): fc.Arbitrary<Step> =>
  fc.record({
    ops: fc.array(fc.record({ put: fc.boolean(), ch: fc.nat(channels - 1) }), { minLength: 1, maxLength: 4 }),
    cancel: fc.boolean(),
    priority: fc.boolean(),
  });

test('select commits exactly one op: values are conserved across all channels', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 3 }),
      fc.integer(),
      fc
        .integer({ min: 1, max: 3 })
        .chain((nch) => fc.array(fc.array(stepArb(nch), { maxLength: 5 }), { minLength: 2, maxLength: 4 })),
      async (s, bufs, prngSeed, tasks) => {
        seedSelect(prngSeed);
        const chans: Chan<number>[] = bufs.map((b) => chan<number>(b));
        const ch = (i: number) => chans[i % chans.length]!;
        const tick = () => s.schedule(Promise.resolve());
        const committedInto = new Map<number, number>(); // value -> channel index
        const takenFrom: { v: number; ch: number }[] = [];
        let selects = 0;
        let settled = 0;

        const running = tasks.map(async (steps, t) => {
          for (let k = 0; k < steps.length; k++) {
            const step = steps[k]!;
            await tick();
            const ops: Op<unknown>[] = step.ops.map((o, j) =>
              o.put ? ch(o.ch).putOp(t * 10_000 + k * 10 + j + 1) : ch(o.ch).takeOp(),
            );
            let signal: AbortSignal | undefined;
            if (step.cancel) {
              const ac = new AbortController();
              signal = ac.signal;
              void tick().then(() => ac.abort());
            }
            selects++;
            try {
              const r = await select(ops, { signal, priority: step.priority });
              const o = step.ops[r.index]!;
              const chIndex = o.ch % chans.length;
              if (o.put) {
                const v = t * 10_000 + k * 10 + r.index + 1;
                assert.type(r.value, 'boolean');
                if (r.value === true) committedInto.set(v, chIndex);
                else assert.ok(chans[chIndex]!.closed, 'a put op commits false only on a closed channel');
              } else if (r.value !== undefined) {
                takenFrom.push({ v: r.value as number, ch: chIndex });
              } else {
                assert.ok(chans[chIndex]!.closed, 'a take op commits undefined only on a closed channel');
              }
            } catch (e) {
              if (!(e instanceof CancelledError)) throw e;
            }
            settled++;
          }
        });
        const all = Promise.all(running);
        await within(s.waitIdle());
        // Whatever is still parked waits for a counterpart that will never come: close to release it.
        for (const c of chans) c.close();
        await within(s.waitFor(all));
        assert.is(settled, selects, 'every select settled');
        chans.forEach((c, i) => {
          for (let v = c.tryTake(); v !== undefined; v = c.tryTake()) takenFrom.push({ v, ch: i });
        });

        const seen = new Set<number>();
        for (const { v, ch: from } of takenFrom) {
          assert.not.ok(seen.has(v), `value ${v} left a channel twice`);
          seen.add(v);
          assert.is(
            committedInto.get(v),
            from,
            `value ${v} left channel ${from}: it was committed into ${committedInto.get(v)}`,
          );
        }
        assert.is(seen.size, committedInto.size, 'every committed value left its channel exactly once');
        for (const c of chans) assert.equal([c.stats().pendingPuts, c.stats().pendingTakes], [0, 0]);
      },
    ),
    { seed, numRuns },
  );
});

test.run();
