/**
 * Every rt.serve limit answers with its status code: 431 (header size, header count), 413 (body
 * by Content-Length, by Expect: 100-continue, and counted while a chunked body is read), 408
 * (headers timeout, slow upload), 503 over maxConnections; idle keep-alive connections close.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { Runtime, type HttpServer } from '../../src/index.js';
import { APP, hasTool, raw, run } from '../fixtures/http-harness.js';

let rt: Runtime;
let web: HttpServer;

test.before(async () => {
  rt = await Runtime.start({ workers: 2 });
  web = await rt.serve({
    port: 0,
    handler: APP,
    maxHeaderSize: 2048,
    maxHeaderCount: 20,
    maxBodySize: 1000,
    headersTimeout: 300,
    requestTimeout: 600,
    keepAliveTimeout: 200,
    maxConnections: 3,
    onError: () => {},
  });
});

test.after(async () => {
  await rt.close({ timeout: 1000 });
});

const status = (data: string): string | undefined => /^HTTP\/1\.1 (\d{3})/.exec(data)?.[1];

test('a head over maxHeaderSize gets 431', async () => {
  const r = await raw(web.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`);
  assert.is(status(r.data), '431');
  assert.ok(r.closed);
});

test('more header fields than maxHeaderCount get 431', async () => {
  let h = '';
  for (let i = 0; i < 30; i++) h += `X-H${i}: v\r\n`;
  const r = await raw(web.port, `GET / HTTP/1.1\r\nHost: a\r\n${h}\r\n`);
  assert.is(status(r.data), '431');
  const ok = await raw(web.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nConnection: close\r\n\r\n');
  assert.is(status(ok.data), '200');
});

test('a Content-Length over maxBodySize gets 413 before the handler runs', async () => {
  const r = await raw(web.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\nabc');
  assert.is(status(r.data), '413');
  assert.ok(r.closed);
});

test('a chunked body that grows past maxBodySize while read gets 413', async () => {
  const chunk = 'x'.repeat(600);
  const c = `${(600).toString(16)}\r\n${chunk}\r\n`;
  const r = await raw(
    web.port,
    `POST /sha HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${c}${c}${c}0\r\n\r\n`,
  );
  assert.is(status(r.data), '413');
  // under the limit it passes
  const ok = await fetch(web.url + 'echo', { method: 'POST', body: 'y'.repeat(900) });
  assert.is((await ok.text()).length, 900);
});

test('Expect: 100-continue with a body over the limit is refused with 413, no 100', async () => {
  const r = await raw(
    web.port,
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n',
  );
  assert.is(status(r.data), '413');
  assert.not.match(r.data, '100 Continue');
});

test('a head that does not arrive within headersTimeout gets 408', async () => {
  const r = await raw(web.port, 'GET / HTTP/1.1\r\nHost: a\r\n'); // never ends the head
  assert.ok(r.closed);
  assert.is(status(r.data), '408');
});

test('a slow upload that does not finish within requestTimeout gets 408', async () => {
  const r = await raw(web.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part of it');
  assert.ok(r.closed);
  assert.is(status(r.data), '408');
});

test('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
  const closed = await new Promise<{ data: string; closed: boolean }>((resolve) => {
    const s = connect(web.port, '127.0.0.1');
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('close', () => resolve({ data, closed: true }));
    s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    setTimeout(() => {
      s.destroy();
      resolve({ data, closed: false });
    }, 10_000).unref();
  });
  assert.is(status(closed.data), '200');
  assert.ok(closed.closed, 'the server closed the idle connection');
});

test('connections over maxConnections get 503', async () => {
  const held = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          // each waits on a handler that never answers: not idle, not subject to the timeouts
          const s = connect(web.port, '127.0.0.1', () => {
            s.write('GET /hang?id=held HTTP/1.1\r\nHost: a\r\n\r\n');
            resolve(s);
          });
          s.on('error', () => {});
        }),
    ),
  );
  // the three are accepted once the server has seen them: wait for it
  for (let i = 0; i < 200 && web.stats().open < 3; i++) await new Promise((r) => setTimeout(r, 10));
  const r = await raw(web.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.is(status(r.data), '503');
  assert.ok(web.stats().refused >= 1);
  for (const s of held) s.destroy();
});

test('curl sees the 413 for an oversized upload', async () => {
  if (!hasTool('curl')) return;
  for (let i = 0; i < 200 && web.stats().open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const r = await run(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', '@-', web.url + 'echo'],
    {
      input: 'z'.repeat(5000),
    },
  );
  assert.is(r.stdout, '413');
});

test.run();
