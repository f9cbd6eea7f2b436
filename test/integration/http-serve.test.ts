/**
 * rt.serve with real clients: Node's fetch, curl (keep-alive, chunked upload, Expect:
 * 100-continue, HEAD), python3's http.client, raw HTTP/1.0 and pipelining; fetch-style and
 * node-style handlers; handler errors become 500s without details and reach onError; a module
 * that does not load fails rt.serve at the call.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime, TaskLoadError, type HttpHandlerError, type HttpServer, type ServeOptions } from '../../src/index.js';
import { APP, NODE_APP, hasTool, raw, run } from '../fixtures/http-harness.js';

let rt: Runtime;
let web: HttpServer;
let nodeWeb: HttpServer;
const errors: HttpHandlerError[] = [];
const errorWaiters: Array<() => void> = [];
function nextError(): Promise<void> {
  return new Promise((r) => errorWaiters.push(r));
}

test.before(async () => {
  rt = await Runtime.start({ workers: 2 });
  web = await rt.serve({
    port: 0,
    handler: APP,
    onError: (e) => {
      errors.push(e);
      errorWaiters.shift()?.();
    },
  });
  nodeWeb = await rt.serve({ port: 0, handler: NODE_APP, onError: (e) => errors.push(e) });
});

test.after(async () => {
  await rt.close({ timeout: 1000 });
});

test('a fetch-style handler answers Node fetch', async () => {
  assert.is(web.style, 'fetch');
  assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const r = await fetch(web.url);
  assert.is(r.status, 200);
  assert.is(await r.text(), 'hello');
  assert.is(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
  const j = await fetch(web.url + 'json', { method: 'POST', body: JSON.stringify({ a: [1, 2] }) });
  assert.equal(await j.json(), { got: { a: [1, 2] } });
  assert.is(j.headers.get('content-type'), 'application/json');
});

test('the request and ctx carry method, url, remote address; instanceof holds', async () => {
  const r = await fetch(web.url + 'info?q=1', { headers: { 'user-agent': 'shoal-test' } });
  const info = (await r.json()) as Record<string, unknown>;
  assert.is(info.method, 'GET');
  assert.is(info.url, `${web.url}info?q=1`);
  assert.is(info.remoteAddress, '127.0.0.1');
  assert.ok((info.remotePort as number) > 0);
  assert.is(info.isRequest, true);
  assert.is(info.isResponse, true);
  assert.is(info.ua, 'shoal-test');
});

test('native Responses (Response.redirect, a proxied fetch) are sent as they are', async () => {
  const r = await fetch(web.url + 'redirect', { redirect: 'manual' });
  assert.is(r.status, 302);
  assert.is(r.headers.get('location'), web.url);
  const p = await fetch(web.url + 'proxy');
  assert.is(p.status, 200);
  assert.is(await p.text(), 'hello');
});

test('an async-iterable body streams as chunked', async () => {
  const r = await fetch(web.url + 'iter');
  assert.is(r.headers.get('transfer-encoding'), 'chunked');
  assert.is(await r.text(), 'part0;part1;part2;');
});

test('a handler that throws gives a 500 without the stack and reaches onError', async () => {
  for (const path of ['throw', 'throw-async', 'not-a-response']) {
    const got = nextError();
    const r = await fetch(web.url + path);
    assert.is(r.status, 500);
    const body = await r.text();
    assert.is(body, 'Internal Server Error');
    assert.not.match(body, 'secret');
    await got;
    const e = errors.at(-1)!;
    assert.is(e.url, `/${path}`);
    assert.is(e.method, 'GET');
    assert.is(e.remoteAddress, '127.0.0.1'); // shoal serve logs the peer with the stack
    assert.ok(typeof e.remotePort === 'number' && e.remotePort > 0, `remotePort ${e.remotePort}`);
  }
  assert.match(errors.map((e) => e.message).join('\n'), 'boom: secret detail');
  // the connection stays usable
  assert.is(await (await fetch(web.url)).text(), 'hello');
});

test('a node-style (req, res) handler is served, and its throw is a 500', async () => {
  assert.is(nodeWeb.style, 'node');
  const r = await fetch(nodeWeb.url + 'x?y');
  assert.is(await r.text(), 'node GET /x?y from 127.0.0.1');
  const e = await fetch(nodeWeb.url + 'echo', { method: 'PUT', body: 'round trip' });
  assert.is(await e.text(), 'round trip');
  const t = await fetch(nodeWeb.url + 'throw');
  assert.is(t.status, 500);
  assert.not.match(await t.text(), 'secret');
});

test('an exception no request caught ends only that worker: onError hears of it and the server serves on', async () => {
  const seen: HttpHandlerError[] = [];
  let heard!: () => void;
  const got = new Promise<void>((r) => (heard = r));
  const web1 = await rt.serve({
    port: 0,
    handler: NODE_APP,
    onError: (e) => {
      seen.push(e);
      heard();
    },
  });
  try {
    await fetch(web1.url + 'throw-later').catch(() => undefined); // its connection is dropped
    await got;
    assert.is(seen[0]!.method, '');
    assert.match(seen[0]!.message, 'an uncaught exception ended a worker');
    assert.match(seen[0]!.message, 'node later: secret detail');
    for (let i = 0; i < 4; i++) assert.match(await (await fetch(web1.url + 'after')).text(), 'node GET /after');
  } finally {
    await web1.close({ timeout: 1000 });
  }
});

test('rt.serve on a closed runtime rejects with ClosedError naming rt.serve', async () => {
  const rt2 = await Runtime.start({ workers: 1 });
  await rt2.close();
  const e = await rt2.serve({ port: 0, handler: APP }).then(
    () => undefined,
    (err: Error & { code?: string }) => err,
  );
  assert.is(e?.code, 'ERR_SHOAL_CLOSED');
  assert.is(e?.message, 'runtime is closed: rt.serve did not start');
});

test('a handler module that does not load fails rt.serve at the call, naming it', async () => {
  for (const name of ['http-broken.js', 'http-neither.js', 'http-missing.js']) {
    const url = new URL(`../fixtures/${name}`, import.meta.url);
    try {
      await rt.serve({ port: 0, handler: url });
      assert.unreachable(`${name} should not serve`);
    } catch (e) {
      assert.instance(e, TaskLoadError);
      assert.is((e as TaskLoadError).code, 'ERR_SHOAL_TASK_LOAD');
      assert.match((e as Error).message, name);
    }
  }
  assert.throws(() => rt.serve({ port: 0, handler: APP, maxBodySize: -1 }), /maxBodySize/);
  assert.throws(() => rt.serve({ port: 70000, handler: APP }), /port/);
  assert.throws(() => rt.serve({ port: 0, handler: 42 as unknown as string }), /handler/);
});

test('bad options throw at the call with a code, naming the option and what was given', async () => {
  const bad = (o: unknown): (Error & { code?: string }) | undefined => {
    try {
      void rt.serve(o as ServeOptions).catch(() => {});
    } catch (e) {
      return e as Error & { code?: string };
    }
    return undefined;
  };
  // a misspelt limit would otherwise leave the default in force without a word
  const typo = bad({ port: 0, handler: APP, maxBodySise: 10 });
  assert.is(typo?.code, 'ERR_INVALID_ARG_VALUE');
  assert.match(typo!.message, 'options.maxBodySise');
  const port = bad({ port: '8080', handler: APP });
  assert.is(port?.code, 'ERR_OUT_OF_RANGE');
  assert.match(port!.message, "'8080' (a string)");
  const limit = bad({ port: 0, handler: APP, maxBodySize: '1mb' });
  assert.match(limit!.message, "options.maxBodySize must be an integer in [1, 2147483647], got '1mb' (a string)");
  const tls = bad({ port: 0, handler: APP, tls: { key: 'not a key', cert: 'not a cert' } });
  assert.ok(typeof tls?.code === 'string', 'a code');
  assert.match(tls!.message, 'options.tls');
  const web2 = await rt.serve({ port: 0, handler: APP });
  try {
    assert.throws(
      () => web2.close(null as unknown as {}),
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE',
    );
    assert.throws(
      () => web2.close({ timeout: -1 }),
      (e: Error & { code?: string }) => e.code === 'ERR_OUT_OF_RANGE' && /options\.timeout.*-1/.test(e.message),
    );
  } finally {
    await web2.close({ timeout: 1000 });
  }
});

test('curl: keep-alive reuses one connection; HEAD has headers and no body', async () => {
  if (!hasTool('curl')) return;
  const r = await run('curl', ['-sv', web.url, web.url + 'info']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /Re-using existing connection|Reusing existing connection/);
  assert.match(r.stdout, /^hello\{/);
  const h = await run('curl', ['-sI', web.url]);
  assert.match(h.stdout, /^HTTP\/1\.1 200 OK/);
  assert.match(h.stdout, /content-length: 5/i);
  assert.not.match(h.stdout, 'hello');
  const hs = await run('curl', ['-sI', web.url + 'download?blocks=1000']);
  assert.match(hs.stdout, /^HTTP\/1\.1 200 OK/);
  assert.match(hs.stdout, /content-type: application\/octet-stream/i);
});

test('curl: a chunked upload and Expect: 100-continue', async () => {
  if (!hasTool('curl')) return;
  const body = 'x'.repeat(100_000);
  const c = await run(
    'curl',
    [
      '-s',
      '-H',
      'Transfer-Encoding: chunked',
      '-H',
      'Content-Type: text/plain',
      '--data-binary',
      '@-',
      web.url + 'echo',
    ],
    { input: body },
  );
  assert.is(c.code, 0, c.stderr);
  assert.is(c.stdout, body);
  const e = await run('curl', ['-sv', '-H', 'Expect: 100-continue', '--data-binary', '@-', web.url + 'sha'], {
    input: body,
  });
  assert.is(e.code, 0, e.stderr);
  assert.match(e.stderr, 'HTTP/1.1 100 Continue');
  assert.is(JSON.parse(e.stdout).bytes, 100_000);
});

test("python3's http.client: GET, POST and keep-alive on one connection", async () => {
  if (!hasTool('python3')) return;
  const py = `
import http.client, json, sys
c = http.client.HTTPConnection('127.0.0.1', ${web.port}, timeout=10)
c.request('GET', '/'); r = c.getresponse(); a = r.read().decode()
c.request('POST', '/echo', body=b'from python'); r2 = c.getresponse(); b = r2.read().decode()
c.request('GET', '/info'); r3 = c.getresponse(); info = json.loads(r3.read())
print(json.dumps([r.status, a, b, info['remotePort'] == c.sock.getsockname()[1]]))
`;
  const r = await run('python3', ['-c', py]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [200, 'hello', 'from python', true]);
});

test('HTTP/1.0 closes after the response; pipelined requests are answered in order', async () => {
  const r10 = await raw(web.port, 'GET / HTTP/1.0\r\n\r\n');
  assert.ok(r10.closed);
  assert.match(r10.data, /^HTTP\/1\.[01] 200 OK/);
  assert.match(r10.data, /\r\n\r\nhello$/);
  const p = await raw(
    web.port,
    'GET /slow?ms=30 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  assert.ok(p.closed);
  const statuses = [...p.data.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
  assert.equal(statuses, ['200', '200', '404']);
  assert.ok(p.data.indexOf('slept 30') < p.data.indexOf('hello'));
});

test('stats count requests and connections', async () => {
  const before = web.stats();
  assert.ok(before.accepted > 0);
  assert.ok(before.handlerErrors >= 3);
  await fetch(web.url);
  // requests are reported by the workers within ~100 ms: wait for the count to move
  for (let i = 0; i < 100 && web.stats().requests <= before.requests; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(web.stats().requests > before.requests);
});

test.run();
