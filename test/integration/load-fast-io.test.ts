/**
 * The loader's handle-level socket I/O (src/harness/load/fast-io.ts) on real sockets: reads reach
 * the loader's callback with their byte count; writes the kernel cannot take at once are queued
 * in order, and the writes after them follow them; the end of the stream and errors still go
 * through node:net; a socket that is gone sends its writes back to node:net's path.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastIo } from '../../src/harness/load/fast-io.js';

async function pair(): Promise<{ server: Server; client: Socket; peer: Socket; scratch: Buffer }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const scratch = Buffer.alloc(64 * 1024);
  const client = connect({ host: '127.0.0.1', port, onread: { buffer: scratch, callback: () => true } });
  const [[peer]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, once(client, 'connect')]);
  return { server, client, peer: peer!, scratch };
}

test('load-fast-io: the binding is found on this Node', () => {
  assert.ok(fastIo(), `no fast path on Node ${process.version}`);
});

test('load-fast-io: reads reach the callback with their byte count, not node:net', async () => {
  const io = fastIo()!;
  const { server, client, peer, scratch } = await pair();
  const seen: string[] = [];
  let nodeData = 0;
  client.on('data', () => nodeData++);
  const h = io.takeReads(client, (n) => seen.push(scratch.subarray(0, n).toString()));
  assert.ok(h);
  peer.write('hello');
  while (seen.join('') !== 'hello') await new Promise((r) => setImmediate(r));
  assert.is(nodeData, 0);
  client.destroy();
  peer.destroy();
  server.close();
});

test('load-fast-io: writes the kernel takes in parts stay in order, and later writes follow them', async () => {
  const io = fastIo()!;
  const { server, client, peer } = await pair();
  const h = io.takeReads(client, () => undefined)!;
  // 4 x 8 MiB, each filled with its own byte: far past the socket buffers, so the first write
  // goes asynchronous (libuv holds its WriteWrap) and the next ones queue behind it
  const chunks = [1, 2, 3, 4].map((b) => Buffer.alloc(8 * 2 ** 20, b));
  peer.pause();
  for (const c of chunks) assert.is(io.write(client, h, c), true);
  const total = chunks.length * chunks[0]!.length;
  let at = 0;
  let bad = -1;
  peer.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i += 4096) {
      const want = 1 + Math.floor((at + i) / chunks[0]!.length);
      if (d[i] !== want && bad < 0) bad = at + i;
    }
    at += d.length;
  });
  peer.resume();
  while (at < total) await new Promise((r) => setTimeout(r, 5));
  assert.is(at, total);
  assert.is(bad, -1, `byte at ${bad} out of order`);
  client.destroy();
  peer.destroy();
  server.close();
});

test('load-fast-io: a write held by libuv when the peer resets: the socket closes with a named error', async () => {
  const io = fastIo()!;
  const { server, client, peer } = await pair();
  const h = io.takeReads(client, () => undefined)!;
  peer.pause();
  assert.is(io.write(client, h, Buffer.alloc(32 * 2 ** 20, 7)), true); // far past the buffers: held
  let code: unknown;
  client.on('error', (e: NodeJS.ErrnoException) => {
    code = e.code;
  });
  const closed = new Promise((r) => client.once('close', r)); // events.once would reject on 'error'
  peer.resetAndDestroy();
  await closed;
  assert.ok(typeof code === 'string' && /^E[A-Z]+$/.test(code), `error code ${String(code)}`);
  server.close();
});

test('load-fast-io: the end of the stream and errors still go through node:net', async () => {
  const io = fastIo()!;
  const { server, client, peer } = await pair();
  io.takeReads(client, () => undefined);
  const closed = once(client, 'close');
  const ended = once(client, 'end');
  peer.end();
  await ended;
  await closed;
  server.close();
});

test('load-fast-io: a socket that is gone sends its writes back to node:net (false)', async () => {
  const io = fastIo()!;
  const { server, client, peer } = await pair();
  const h = io.takeReads(client, () => undefined)!;
  client.destroy();
  assert.is(io.write(client, h, Buffer.from('x')), false);
  peer.destroy();
  server.close();
});

test.run();
