/**
 * TCP through the Runtime: rt.listen() serves handlers on pool workers, pool tasks connect()
 * out through the reactor, handler errors show in rt.stats(), a replaced worker takes new
 * connections, and rt.close() closes servers.
 */
import { createServer } from 'node:net';
import { constants as osConstants } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { collect, dial, fixture, within } from '../fixtures/tcp-harness.js';

const TASKS = new URL('../fixtures/tcp-tasks.js', import.meta.url);

test('rt.listen serves echo on the pool and rt.close closes the server', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const srv = await rt.listen({ port: 0, handler: fixture('echo') });
    assert.is(srv.address().address, '127.0.0.1');
    const outs = await within(
      Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const s = await dial(srv.port);
          const got = collect(s);
          s.end(`message ${k}`);
          return (await got).toString() === `message ${k}`;
        }),
      ),
      20_000,
      '50 echoes',
    );
    assert.ok(outs.every(Boolean));
    const net = rt.stats().net!;
    assert.is(net.accepted, 50);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('a pool task connects out through the reactor and reads the reply', async () => {
  const peer = createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b));
    s.on('end', () => s.end(`echo:${Buffer.concat(parts).toString()}`));
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const port = (peer.address() as { port: number }).port;
  const rt = await Runtime.start({ workers: 2 });
  try {
    const got = await within(rt.run<string>(TASKS, 'roundTrip', [port, 'hi']), 10_000, 'roundTrip');
    assert.is(got, 'true:echo:hi');
    assert.is(rt.stats().net!.connected, 1);
  } finally {
    await rt.close({ timeout: 1000 });
    await new Promise((r) => peer.close(r));
  }
});

test('connect() to a closed port rejects with ConnectError whose code is ECONNREFUSED, as node:net', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r)); // now nobody listens there
  const rt = await Runtime.start({ workers: 1 });
  try {
    assert.is(
      await within(rt.run<string>(TASKS, 'failingConnect', [port]), 10_000, 'refused'),
      `ECONNREFUSED:${-osConstants.errno.ECONNREFUSED}:connect:true`,
    );
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('the Duplex adapter carries a pipeline both ways', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const srv = await rt.listen({ port: 0, handler: fixture('duplex') });
    const s = await dial(srv.port);
    const got = collect(s);
    s.end('hello streams');
    assert.is((await within(got, 10_000, 'duplex echo')).toString(), 'HELLO STREAMS');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('handler errors are counted in rt.stats(); a dead pool worker is replaced and serves again', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const srv = await rt.listen({ port: 0, handler: fixture('probe') });
    const a = await dial(srv.port);
    const aDone = collect(a);
    a.write('throw 0\n');
    await within(aDone, 10_000, 'thrower closes');
    await within(
      (async () => {
        while (rt.stats().net!.handlerErrors < 1) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      'counted',
    );
    const b = await dial(srv.port);
    const bDone = collect(b).then(
      () => 'closed',
      () => 'closed',
    );
    b.write('die 0\n');
    await within(bDone, 10_000, 'dead worker closes its connection');
    await within(
      (async () => {
        while (!rt.stats().workers.some((w) => w.restarts > 0)) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'restart',
    );
    for (let k = 0; k < 6; k++) {
      const s = await dial(srv.port);
      const got = collect(s);
      s.end('peer-half-close 0\nabcd');
      assert.is((await within(got, 10_000, `served after restart (${k})`)).toString(), 'got 4\n');
    }
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
