/**
 * User story: shoal as a dependency in plain JavaScript on Node 20 (no TypeScript, no `await using`):
 * start a runtime, run a CPU task and a batch on the workers, and always close the runtime.
 *
 * Run: `node examples/quickstart.mjs` (in your project: `node quickstart.mjs`)
 */
import { Runtime } from 'shoal';

// a task module is any ES module; each exported function is a task
const tasks = new URL('./quickstart-tasks.mjs', import.meta.url);

const rt = await Runtime.start(); // one worker per core
try {
  console.log('fib(30) =', await rt.run(tasks, 'fib', [30])); // computed on a worker
  const digests = [];
  for await (const d of rt.map(['a', 'b', 'c'], tasks, 'sha256', { concurrency: 2 })) digests.push(d);
  console.log('sha256:', digests.map((d) => d.slice(0, 12)).join(' '));
} finally {
  await rt.close(); // ends the worker threads
}
