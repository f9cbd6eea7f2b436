/**
 * The load target's name is resolved once, to an address that accepts connections: a server on
 * only one of a name's addresses (Node binds `localhost` to ::1 where the system lists it first)
 * is still found. Real sockets on the loopback addresses.
 */
import { createServer, type Server } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstAccepting, resolveTarget } from '../../src/harness/load/resolve.js';

function listen(host: string): Promise<{ server: Server; port: number } | undefined> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.destroy());
    server.once('error', () => resolve(undefined)); // no IPv6 loopback on this machine
    server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('of several addresses, the one the server listens on is chosen, whatever the order', async () => {
  const v6 = await listen('::1');
  if (!v6) {
    console.log('  (skipped: no ::1 on this machine)');
    return;
  }
  try {
    assert.is(await firstAccepting(['127.0.0.1', '::1'], v6.port), '::1');
    assert.is(await firstAccepting(['::1', '127.0.0.1'], v6.port), '::1');
  } finally {
    v6.server.close();
  }
});

test('an IP address is kept as it is; a name resolves to an address', async () => {
  assert.is(await resolveTarget('127.0.0.1', 1), '127.0.0.1');
  assert.is(await resolveTarget('::1', 1), '::1');
  const v4 = await listen('127.0.0.1');
  try {
    assert.ok(['127.0.0.1', '::1'].includes(await resolveTarget('localhost', v4!.port)));
  } finally {
    v4!.server.close();
  }
});

test('when no address accepts, the first one is used (the run reports the errors)', async () => {
  assert.is(await firstAccepting(['127.0.0.1', '::1'], 1), '127.0.0.1');
});

test.run();
