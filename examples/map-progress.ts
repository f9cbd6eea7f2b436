/**
 * User story: "keep N jobs active and print progress" over a large input, with memory bounded by
 * the concurrency, as one call.
 *
 * Runs on the main thread: `npm run build && node dist/examples/map-progress.js`
 */
import { Runtime } from 'shoal';

const url = new URL('./tasks.js', import.meta.url);
await using rt = await Runtime.start();

function* inputs(): Generator<number> {
  for (let i = 0; i < 2000; i++) yield 15 + (i % 10);
}

let sum = 0;
let last = 0;
for await (const r of rt.map<number, number>(inputs(), url, 'fib', {
  concurrency: 64,
  onProgress: ({ done, active }) => {
    if (done - last >= 500) {
      last = done;
      console.log(`${done} done, ${active} active`);
    }
  },
}))
  sum += r;
console.log('sum of results:', sum);
