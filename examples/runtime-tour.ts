/**
 * User story: the runtime in one sitting (the README's "A short tour of the runtime"): run a task,
 * cancel one, call through a typed proxy, a long job on the blocking pool, a bounded-concurrency
 * map with progress, the stats snapshot, and shutdown.
 *
 * Runs on the main thread: `npm run build && node dist/examples/runtime-tour.js`
 */
import { fileURLToPath } from 'node:url';
import { Runtime } from 'shoal';

await using rt = await Runtime.start(); // workers = os.availableParallelism()
const url = new URL('./tasks.js', import.meta.url);
const n = await rt.run(url, 'fib', [30]); // runs export `fib` of tasks.js on a worker
console.log('fib(30) =', n);

const file = fileURLToPath(import.meta.url);
const ac = new AbortController();
const p = rt.run(url, 'fileSize', [file], { signal: ac.signal, timeout: 10_000 });
ac.abort(); // p rejects now with CancelledError; on the worker, the task's signal aborts
console.log(await p.catch((e) => e.code)); // 'ERR_SHOAL_CANCELLED'

const m = rt.load<typeof import('./tasks.js')>(url);
await m.fib(30); // every function export, returning a promise
console.log('size of this file:', await m.fileSize(file));

const buf = new TextEncoder().encode('hello');
const digest = await rt.blocking(url, 'hashHuge', [buf]); // piscina, created on first use
console.log('digest:', String(digest).slice(0, 16));

const numbers = Array.from({ length: 200 }, (_, i) => i % 20);
const results: number[] = [];
for await (const r of rt.map<number, number>(numbers, url, 'fib', {
  concurrency: 128, // tasks kept active; memory is bounded by this, not by the input
  ordered: false, // yield as they finish (default: input order)
  onProgress: ({ done, active, total }) => done % 100 === 0 && console.log(done, active, total),
}))
  results.push(r);
console.log('map:', results.length, 'results');

rt.stats(); // frozen snapshot: per worker running, queued, completed, failed, loop delay, ring use...
console.log('live tasks:', (await rt.tasks()).length);

await rt.close({ timeout: 5000 }); // stop accepting, let in-flight tasks finish for up to 5 s,
// then cancel the rest (ClosedError) and stop the threads
