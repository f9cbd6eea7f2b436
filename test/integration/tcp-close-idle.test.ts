/**
 * Shutdown closes idle connections at once (a handler waiting in read() with everything handed
 * over both ways), as node:http's closeIdleConnections does, instead of waiting out the default
 * 30 s grace; a busy handler still finishes its work first.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'node:net';
import { Runtime } from '../../src/runtime/runtime.js';
import { dial, fixture, within } from '../fixtures/tcp-harness.js';

function nextData(s: Socket, want: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const on = (b: Buffer): void => {
      got += b.toString();
      if (got.includes(want)) {
        s.off('data', on);
        resolve(got);
      }
    };
    s.on('data', on);
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<string> {
  let rest = '';
  s.on('data', (b: Buffer) => (rest += b.toString()));
  // the client dials with allowHalfOpen: the server's FIN (or a reset) shows as 'end' or 'close'
  return new Promise((resolve) => {
    s.once('end', () => resolve(rest));
    s.once('close', () => resolve(rest));
  });
}

test('server.close() with its default grace closes an idle connection at once', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: fixture('echo') });
    const s = await dial(srv.port);
    s.on('error', () => {});
    const answer = nextData(s, 'ping');
    s.write('ping');
    await within(answer, 10_000, 'echo');
    const gone = closed(s);
    await within(srv.close(), 10_000, 'server.close() of an idle connection (default grace 30 s)');
    await within(gone, 10_000, 'client sees the close');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('rt.close() with its default grace closes idle connections at once', async () => {
  const rt = await Runtime.start({ workers: 2 });
  const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: fixture('echo') });
  const socks = await Promise.all([dial(srv.port), dial(srv.port), dial(srv.port)]);
  for (const s of socks) s.on('error', () => {});
  await Promise.all(
    socks.map((s) => {
      const p = nextData(s, 'hi');
      s.write('hi');
      return within(p, 10_000, 'echo');
    }),
  );
  const gone = socks.map(closed);
  await within(rt.close(), 10_000, 'rt.close() with idle connections');
  await within(Promise.all(gone), 10_000, 'clients see the close');
});

test('a busy handler finishes its work before its connection is closed', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: fixture('busy') });
    const s = await dial(srv.port);
    s.on('error', () => {});
    const got = nextData(s, 'got\n');
    s.write('work\n');
    await within(got, 10_000, 'got');
    const rest = closed(s); // the handler is in its 200 ms of work now, not reading
    await within(srv.close({ timeout: 30_000 }), 10_000, 'close once the handler is idle again');
    assert.match(await within(rest, 10_000, 'close'), 'done\n');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('closeIdle: false leaves idle connections to their handlers until the grace ends', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: fixture('echo') });
    const s = await dial(srv.port);
    s.on('error', () => {});
    const first = nextData(s, 'one');
    s.write('one');
    await within(first, 10_000, 'echo');
    const closing = srv.close({ timeout: 60_000, closeIdle: false });
    const second = nextData(s, 'two');
    s.write('two'); // the idle connection is still served while the server closes
    await within(second, 10_000, 'echo during close');
    const gone = closed(s);
    s.end(); // the handler's read returns null, it ends, and the close completes
    await within(closing, 10_000, 'close after the handler ended');
    await within(gone, 10_000, 'client sees the end');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
