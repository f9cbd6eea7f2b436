/**
 * User story: a TCP server whose sockets stay on the main thread (the reactor) while the handler
 * runs on the workers; a node:net client talks to it.
 *
 * Runs on the main thread: `npm run build && node dist/examples/tcp-echo.js`
 */
import { connect } from 'node:net';
import { Runtime } from 'shoal';

await using rt = await Runtime.start(); // closing rt closes its servers too
const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: new URL('./echo-upper.js', import.meta.url) });
const reply = await new Promise<string>((resolve, reject) => {
  let got = '';
  const s = connect(srv.port, '127.0.0.1', () => s.end('hello\n'));
  s.on('data', (b) => (got += b))
    .on('end', () => resolve(got))
    .on('error', reject);
});
console.log(reply); // HELLO
await srv.close();
