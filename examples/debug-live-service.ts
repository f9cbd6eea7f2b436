/**
 * User story: look inside a running service. Open a REPL into the runtime (as an operator would
 * with `shoal repl`), ask it a few questions over its socket, and serve Prometheus metrics.
 *
 * Runs on the main thread: `npm run build && node dist/examples/debug-live-service.js`
 */
import { connect } from 'node:net';
import { Runtime } from 'shoal';

await using rt = await Runtime.start({ workers: 2, tracing: true });

// Loopback only; with no token given, a random one is printed once on stderr:
//   shoal repl: listening on 127.0.0.1:7070; connect with: shoal repl 127.0.0.1:7070 --token ...
await using repl = await rt.repl({ port: 0 });
await using metrics = await rt.serveMetrics({ port: 0 }); // GET /metrics on its own port

// What `shoal repl` does: the first line is the token, then node:repl with `rt` in scope.
const tasks = new URL('./tasks.js', import.meta.url).href;
const answer = await new Promise<string>((resolve, reject) => {
  let out = '';
  const s = connect(repl.port, repl.host, () => {
    s.end(`${repl.token}\nawait rt.run('${tasks}', 'fib', [20])\n.agents\n`);
  });
  s.on('data', (b) => (out += b))
    .on('end', () => resolve(out))
    .on('error', reject);
});
console.log(answer.replaceAll('shoal> ', ''));

const text = await (await fetch(metrics.url)).text();
console.log(text.split('\n').filter((l) => l.startsWith('shoal_worker_tasks_completed_total')));
