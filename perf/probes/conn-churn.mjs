// Probe (issue 20): connection churn against rt.serve (or node:http), one request per connection
// (Connection: close), N clients at once in this same process; prints connections/s and the
// process's CPU per connection (client included).
//
// usage: npm run build && node perf/probes/conn-churn.mjs [clients=200] [shoal|node]

import { Runtime } from '../../dist/src/index.js';
import { connect } from 'node:net';
const mode = process.argv[3] ?? 'shoal';
let rt, web;
if (mode === 'shoal') {
  rt = await Runtime.start({ workers: 2 });
  web = await rt.serve({ handler: new URL('../../dist/perf/http-handlers.js', import.meta.url) });
} else {
  const { createServer } = await import('node:http');
  const s = createServer((q, r) => r.end('hello world'));
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  web = { port: s.address().port };
  rt = { close: () => s.close() };
}
const req = Buffer.from('GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
function one() {
  return new Promise((resolve, reject) => {
    const s = connect(web.port, '127.0.0.1', () => s.write(req));
    let n = 0;
    s.on('data', (b) => (n += b.length)).on('close', () => resolve(n)).on('error', reject);
  });
}
async function burst(total, par) {
  let next = 0;
  await Promise.all(Array.from({ length: par }, async () => { while (next++ < total) await one(); }));
}
await burst(500, 50);
for (let r = 0; r < 4; r++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await burst(3000, +(process.argv[2] ?? 200));
  const c = process.cpuUsage(c0); const ms = performance.now() - t0;
  console.log(`${(3000 / ms * 1000).toFixed(0)} conns/s, process CPU ${((c.user + c.system) / 3000).toFixed(1)} µs/conn (client included)`);
}
await rt.close();
