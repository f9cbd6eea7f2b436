/**
 * User story: "load-test my `rt.serve` app and see its rate and latency percentiles, also at a
 * constant rate, where a stall cannot hide". From a shell, the same with two commands:
 * `shoal serve dist/examples/load-serve-app.js --port 3000` and
 * `shoal load http://127.0.0.1:3000/?name=load -c 64 -d 10s` (add `-R 5000` for a constant rate).
 *
 * Runs on the main thread: `npm run build && node dist/examples/load-serve.js`
 */
import { Runtime, formatLoadReport, runLoad } from 'shoal';

const app = new URL('./load-serve-app.js', import.meta.url);

// the service: a runtime serving the app on its worker
await using service = await Runtime.start({ workers: 1 });
const web = await service.serve({ port: 0, host: '127.0.0.1', handler: app });

// the load: a runtime of its own, whose workers each open their own connections to the service
await using load = await Runtime.start({ workers: 1 });
const url = `${web.url}?name=load`;
const closed = await runLoad(load, { url, connections: 16, durationMs: 1000, loaders: 1 });
console.log(formatLoadReport(closed));
// constant rate: 1,000 requests/s on a fixed schedule; latency counts from each request's due time
const steady = await runLoad(load, { url, connections: 8, rate: 1000, durationMs: 1000, loaders: 1 });
console.log(`at 1000/s: p50 ${steady.latency.p50} ms, p99 ${steady.latency.p99} ms, ${steady.errors} errors`);

// one worker serves, so its own count is the service's
const { served } = (await (await fetch(`${web.url}count`)).json()) as { served: number };
console.log(`the service answered ${served} requests; the loader counted ${closed.requests + steady.requests}`);
await web.close({ timeout: 1000 });
