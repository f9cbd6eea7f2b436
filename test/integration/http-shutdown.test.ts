/**
 * Graceful shutdown of rt.serve: idle keep-alive connections close at once, in-flight requests
 * finish (told `Connection: close`) within the timeout, new connections are refused, and
 * requests still running at the timeout have their connections closed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { Runtime } from '../../src/index.js';
import { APP } from '../fixtures/http-harness.js';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Send a request on `s`; resolves with everything read until the close. */
function untilClose(s: Socket, events: string[], name: string): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
      if (data.includes('slept') && !events.includes(`${name}: answered`)) events.push(`${name}: answered`);
    });
    s.on('close', () => {
      events.push(name);
      resolve(data);
    });
  });
}

test('close() ends idle keep-alive connections at once and lets a busy one finish', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const web = await rt.serve({ port: 0, handler: APP, onError: (e) => console.error(e) });
    const events: string[] = [];
    const idle = await open(web.port);
    const idleDone = untilClose(idle, events, 'idle closed');
    idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    for (let i = 0; i < 500 && web.stats().requests < 1; i++) await new Promise((r) => setTimeout(r, 10));
    const busy = await open(web.port);
    const busyDone = untilClose(busy, events, 'busy');
    busy.write('GET /slow?ms=1500 HTTP/1.1\r\nHost: a\r\n\r\n');
    for (let i = 0; i < 500 && web.stats().requests < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const closed = web.close({ timeout: 10_000 }).then(() => events.push('close resolved'));
    const idleData = await idleDone;
    assert.match(idleData, 'hello');
    const busyData = await busyDone;
    await closed;
    // the idle one went first; close() let the busy one answer in full (had it not waited, the
    // busy connection would have been cut with no answer). The client may read the answer just
    // before or just after close() resolves: both are in this process.
    assert.is(events[0], 'idle closed', events.join(', '));
    assert.ok(events.includes('busy: answered'), events.join(', '));
    assert.ok(events.includes('close resolved'), events.join(', '));
    assert.match(busyData, /^HTTP\/1\.1 200 OK/);
    assert.match(busyData, /connection: close/i);
    assert.match(busyData, 'slept 1500');
    // nothing listens any more
    const refused = await open(web.port).then(
      (s) => (s.destroy(), 'connected'),
      (e: NodeJS.ErrnoException) => e.code,
    );
    assert.is(refused, 'ECONNREFUSED');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('close({ timeout }) closes connections whose requests outlive it', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const web = await rt.serve({ port: 0, handler: APP, onError: () => {} });
    const events: string[] = [];
    const s = await open(web.port);
    const done = untilClose(s, events, 'hung closed');
    s.write('GET /hang?id=1 HTTP/1.1\r\nHost: a\r\n\r\n');
    for (let i = 0; i < 500 && web.stats().requests < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await web.close({ timeout: 200 });
    assert.is(await done, ''); // no answer: the connection was closed under the handler
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('rt.close() closes its HTTP servers too, idle keep-alive connections at once', async () => {
  const rt = await Runtime.start({ workers: 1 });
  const web = await rt.serve({ port: 0, handler: APP });
  assert.is(await (await fetch(web.url)).text(), 'hello');
  const idle = await open(web.port);
  const events: string[] = [];
  const idleDone = untilClose(idle, events, 'idle closed');
  idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  for (let i = 0; i < 500 && web.stats().requests < 2; i++) await new Promise((r) => setTimeout(r, 10));
  // a long timeout: only the at-once close of idle connections lets this finish quickly
  const closing = rt.close({ timeout: 60_000 });
  assert.match(await idleDone, 'hello');
  await closing;
  const r = await fetch(web.url).then(
    () => 'answered',
    () => 'refused',
  );
  assert.is(r, 'refused');
});

test.run();
