/**
 * User story: run tasks on the pool, call them through a typed proxy, time one out, and see that
 * the worker is still healthy afterwards.
 *
 * Runs on the main thread: `npm run build && node dist/examples/run-and-cancel.js`
 */
import { Runtime, TimeoutError } from 'shoal';

const url = new URL('./tasks.js', import.meta.url);
await using rt = await Runtime.start({ workers: 2 });

console.log('fib(25) =', await rt.run(url, 'fib', [25]));

const tasks = rt.load<typeof import('./tasks.js')>(url);
console.log('via proxy:', await tasks.slowEcho('hello', 10));

try {
  await rt.run(url, 'slowEcho', ['never', 60_000], { timeout: 50 });
} catch (e) {
  console.log('timed out as asked:', e instanceof TimeoutError, (e as Error).message);
}
console.log('worker still fine:', await tasks.fib(20));
console.log(rt.stats().workers.map((w) => ({ slot: w.slot, completed: w.completed, failed: w.failed })));
