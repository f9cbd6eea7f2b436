/**
 * User story: "load-test my HTTP server from every core and see its latency percentiles, also at a
 * constant rate (where a stall cannot hide)". The server here is a plain one-thread node:http
 * server in this process, to keep the example self-contained; an `rt.serve` app is loaded the
 * same way (point `url` at `web.url`). From a shell: `shoal load http://127.0.0.1:3000/ -c 50 -d 10s`.
 *
 * Runs on the main thread: `npm run build && node dist/examples/load-http.js`
 */
import { createServer } from 'node:http';
import { Runtime, formatLoadReport, runLoad } from 'shoal';

let served = 0;
const server = createServer((_req, res) => {
  served++;
  res.end('hello');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };

await using rt = await Runtime.start({ workers: 2 });
// closed loop: each of the 20 connections sends its next request when a response arrives
const closed = await runLoad(rt, { url: `http://127.0.0.1:${port}/`, connections: 20, durationMs: 1000, loaders: 2 });
console.log(formatLoadReport(closed));
// constant rate: 500 requests/s on a fixed schedule; latency counts from each request's due time
const steady = await runLoad(rt, {
  url: `http://127.0.0.1:${port}/`,
  connections: 10,
  rate: 500,
  durationMs: 1000,
  loaders: 2,
});
console.log(`at 500/s: p50 ${steady.latency.p50} ms, p99 ${steady.latency.p99} ms, ${steady.errors} errors`);
console.log(`the server counted ${served} requests; the loaders ${closed.requests + steady.requests}`);
server.close();
