/**
 * User story: the single-thread core in one sitting — a cancelled green thread, a scope whose
 * first failure cancels its sibling, a fixed channel with backpressure feeding a consumer, a
 * sliding channel that keeps only the latest, and a select with a timeout.
 *
 * Runs on any thread: `npm run build && node dist/examples/core-tour.js`
 */
import { afterOp, chan, scope, select, sleep, sliding, spawn } from 'shoal';

// 1. A green thread, cancelled cooperatively: its finally block runs, it rejects with a code.
const sleeper = spawn(
  async ({ signal }) => {
    try {
      await sleep(60_000, { signal });
    } finally {
      console.log('sleeper: cleaned up');
    }
  },
  { name: 'sleeper' },
);
sleeper.cancel('not needed');
console.log('sleeper:', await sleeper.join().catch((e: { code: string }) => e.code));

// 2. A scope: the first failure cancels the sibling and is rethrown once both have settled.
try {
  await scope(async (s) => {
    s.spawn(async () => {
      await sleep(5);
      throw new Error('download failed');
    });
    s.spawn(async ({ signal }) => {
      try {
        await sleep(60_000, { signal });
      } finally {
        console.log('scope: sibling cleaned up before the scope settled');
      }
    });
  });
} catch (e) {
  console.log('scope rethrew:', (e as Error).message);
}

// 3. Backpressure: the producer can run at most 4 values ahead of the consumer.
const jobs = chan<number>(4);
let produced = 0;
const producer = spawn(async () => {
  for (let i = 1; i <= 20; i++) {
    await jobs.put(i);
    produced = i;
  }
  jobs.close();
});
let sum = 0;
for await (const v of jobs) {
  if (produced - v > 5) throw new Error(`producer ran ${produced - v} ahead`);
  sum += v;
}
await producer;
console.log('channel: consumed sum', sum); // 210

// 4. A sliding buffer keeps the latest values; select takes the first ready op or times out.
const latest = chan<string>(sliding(2));
for (const s of ['a', 'b', 'c', 'd']) await latest.put(s);
const first = await select([latest.takeOp(), afterOp(1000)], { priority: true });
console.log('select:', first); // { index: 0, value: 'c' }
const empty = chan<string>();
const timedOut = await select([empty.takeOp(), afterOp(10)]);
console.log('select timed out through op', timedOut.index); // 1
