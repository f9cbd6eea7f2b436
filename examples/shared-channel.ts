/**
 * User story: a producer on the main thread feeds a consumer task on a worker through a channel in
 * shared memory, with backpressure.
 *
 * Runs on the main thread: `npm run build && node dist/examples/shared-channel.js`
 */
import { Runtime } from 'shoal';

await using rt = await Runtime.start({ workers: 2 });
const url = new URL('./tasks.js', import.meta.url);
const list = Array.from({ length: 10_000 }, (_, i) => i);

const jobs = rt.channel<number>(1024); // also dropping(n), sliding(n)
const done = rt.run(url, 'consume', [jobs]); // consume(jobs) { for await (const j of jobs) ... }
for (const j of list) await jobs.put(j); // waits while 1024 are queued (backpressure)
jobs.close();
console.log('sum:', await done); // 49995000
