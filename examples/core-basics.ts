/**
 * User story: the core primitives in a few lines each (the README's first code block): a cancelled
 * green thread, a scope whose first failure cancels its sibling, channels, select, timeout,
 * deferred, a periodic timer and the live-task snapshot.
 *
 * Runs on any thread: `npm run build && node dist/examples/core-basics.js`
 */
import { afterOp, chan, deferred, every, scope, select, sleep, sliding, spawn, tasks, timeout } from 'shoal';

// green threads: cheap, named, cancellable, awaitable
const t = spawn(
  async ({ signal }) => {
    await sleep(1000, { signal });
    return 42;
  },
  { name: 'fetch-42' },
);
t.cancel('not needed'); // cooperative: aborts t.signal; t rejects with CancelledError
console.log(await t.join().catch((e) => e.code)); // 'ERR_SHOAL_CANCELLED'; join() never passes our own cancellation on

// structured concurrency: waits for all; the first failure cancels the siblings (their finally
// blocks run) and is rethrown, with any later failures on `err.suppressed`
const download = async ({ signal }: { signal: AbortSignal }) => sleep(1000, { signal });
const index = async () => {
  throw new Error('index failed');
};
await scope(async (s) => {
  s.spawn(download);
  s.spawn(index);
}).catch((e) => console.log(e.message)); // 'index failed'; download was cancelled

// channels (core.async / Fennel): unbounded, fixed (backpressure), dropping, sliding, rendezvous
const jobs = chan<number>(16); // put waits while 16 are buffered
const latest = chan<string>(sliding(1)); // keeps only the newest value
await jobs.put(1); // false once the channel is closed
await jobs.take({ timeout: 100, default: 'none' });
jobs.tryPut(2);
jobs.tryTake();
jobs.tryPut(3);

// select: the first ready op commits, the others leave no trace
const r = await select([jobs.takeOp(), latest.putOp('x'), afterOp(100)], { priority: true });
console.log(r); // { index: 0, value: 3 }
jobs.close();
for await (const v of jobs) console.log(v); // ends when closed and drained

// a function gets a signal that aborts when the race is lost, so the slow work stops too
await timeout((signal) => sleep(10_000, { signal }), 50).catch((e) => console.log(e.code)); // 'ERR_SHOAL_TIMEOUT'
const d = deferred<number>();
d.resolve(1); // first delivery wins; can hold an error
console.log(await d.promise);
const tick = every(10, ({ n }) => {
  if (n >= 3) tick.cancel(); // >=: a late beat is skipped, not run twice, so n may jump past 3
});
console.log(tasks().length); // live tasks: id, name, state, age (+ spawn stack with SHOAL_TRACE=1)
