/**
 * A baseline HTTP server process for the demo: `single` runs node:http on one thread, `cluster`
 * runs node:cluster with one process per core, both with the demo's hybrid handler. Prints one
 * JSON line `{ "port": N }` on stdout once listening, and exits when its parent goes away.
 *
 * usage: node http-server.js single|cluster <workers> <file> <rounds>
 *
 * Runs in its own process (and, for `cluster`, in the cluster's worker processes). Owns its server.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHandler } from './http-app.js';

const [mode = 'single', workersArg = '2', file = '', roundsArg = '1'] = process.argv.slice(2);
const workers = Number(workersArg);
const rounds = Number(roundsArg);

function serve(onListening: (port: number) => void): void {
  const srv = createServer({ keepAliveTimeout: 10_000 }, nodeHandler(file, rounds));
  srv.listen(0, '127.0.0.1', () => onListening((srv.address() as AddressInfo).port));
}

if (mode === 'cluster' && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on('message', (m: { port: number }) => {
      if (++ready === workers) console.log(JSON.stringify({ port: m.port }));
    });
  }
  process.stdin.on('end', () => process.exit(0)).resume(); // the parent closed our stdin: stop
} else if (mode === 'cluster') {
  serve((port) => process.send?.({ port })); // cluster workers share one port (round-robin)
} else {
  serve((port) => console.log(JSON.stringify({ port })));
  process.stdin.on('end', () => process.exit(0)).resume();
}
