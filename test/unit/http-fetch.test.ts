/**
 * The fetch adapter without workers: LazyRequest over a real IncomingMessage and LazyResponse
 * through writeResponse, served by a plain node:http server in this thread. Checks that the lazy
 * objects behave like undici's where handlers look (instanceof, headers, body once, clone,
 * formData, set-cookie, Response.json, a Blob body's type).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpContext, LazyRequest } from '../../src/http/worker/request.js';
import { LazyResponse, writeResponse } from '../../src/http/worker/response.js';

type Handler = (req: Request) => Promise<Response> | Response;
let handler: Handler = () => new Response('unset');
let server: Server;
let base = '';

const host = {
  maxBodySize: 1 << 20,
  reject(res: ServerResponse, status: number, text: string) {
    if (!res.headersSent) res.writeHead(status).end(text);
  },
  background() {},
};

test.before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const x = new HttpContext(req, res, host);
    Promise.resolve()
      .then(() => handler(new LazyRequest(x, `http://${req.headers.host}`) as unknown as Request))
      .then((r) => writeResponse(res, r))
      .catch((e: Error) => {
        res.statusCode = 599;
        res.end(String(e.message));
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(() => {
  server.closeAllConnections();
  server.close();
});

test('a lazy request is a Request with method, url, headers and a body read once', async () => {
  handler = async (req) => {
    const first = await req.text();
    const second = await req.text().then(
      () => 'read twice',
      (e: Error) => e.constructor.name,
    );
    return Response.json({
      isRequest: req instanceof Request,
      method: req.method,
      url: req.url,
      ct: req.headers.get('Content-Type'),
      has: req.headers.has('x-missing'),
      entries: [...req.headers].filter(([k]) => k.startsWith('x-')),
      first,
      second,
      bodyUsed: req.bodyUsed,
    });
  };
  const r = await fetch(`${base}/p?q=1`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-a': '1' },
    body: 'payload',
  });
  assert.equal(await r.json(), {
    isRequest: true,
    method: 'POST',
    url: `${base}/p?q=1`,
    ct: 'text/plain',
    has: false,
    entries: [['x-a', '1']],
    first: 'payload',
    second: 'TypeError',
    bodyUsed: true,
  });
});

test('clone() and formData() go through a real Request', async () => {
  handler = async (req) => {
    const c = req.clone();
    const form = await req.formData();
    return new Response(`${form.get('a')} ${await c.text()}`);
  };
  const r = await fetch(base, { method: 'POST', body: new URLSearchParams({ a: 'x y' }) });
  assert.is(await r.text(), 'x y a=x+y');
});

test('a lazy request can be copied with new Request(req, init) and forwarded with fetch(req)', async () => {
  let upstream = '';
  handler = async (req) => {
    if (new URL(req.url).pathname === '/up') return new Response(`up ${req.method} ${await req.text()}`);
    const copy = new Request(req, { headers: { 'x-copied': '1' } });
    const seen = `${copy.method} ${new URL(copy.url).pathname} ${copy.headers.get('x-copied')} ${await copy.text()}`;
    const fwd = await fetch(new Request(`${base}/up`, { method: 'POST', body: 'fwd' }));
    upstream = await fwd.text();
    return new Response(seen);
  };
  const r = await fetch(`${base}/copy`, { method: 'POST', body: 'payload' });
  assert.is(r.status, 200, await r.clone().text());
  assert.is(await r.text(), 'POST /copy 1 payload');
  assert.is(upstream, 'up POST fwd');
  // a proxy: the incoming request, method, headers and body, sent on to another URL
  handler = async (req) => {
    if (new URL(req.url).pathname === '/up') return new Response(`up ${req.method} ${await req.text()}`);
    const res = await fetch(new Request(`${base}/up`, req));
    return new Response(await res.text());
  };
  const f = await fetch(`${base}/fwd`, { method: 'PUT', body: 'body-through' });
  assert.is(await f.text(), 'up PUT body-through');
});

test('a lazy response keeps status, headers (set-cookie too) and answers like a Response', async () => {
  handler = () => {
    const h = new Headers({ 'x-b': '2' });
    h.append('set-cookie', 'a=1');
    h.append('set-cookie', 'b=2');
    const res = new LazyResponse('made', { status: 201, statusText: 'Made', headers: h }) as unknown as Response;
    if (!(res instanceof Response) || res.status !== 201 || !res.ok) throw new Error('not response-like');
    return res;
  };
  const r = await fetch(base);
  assert.is(r.status, 201);
  assert.is(r.statusText, 'Made');
  assert.is(r.headers.get('x-b'), '2');
  assert.equal(r.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.is(await r.text(), 'made');
});

test('Response.json, a Blob body and a read-back body', async () => {
  handler = () => LazyResponse.json({ k: [1] }, { status: 202 });
  let r = await fetch(base);
  assert.is(r.status, 202);
  assert.is(r.headers.get('content-type'), 'application/json');
  assert.equal(await r.json(), { k: [1] });
  handler = () => new LazyResponse(new Blob(['<b>'], { type: 'text/html' })) as unknown as Response;
  r = await fetch(base);
  assert.is(r.headers.get('content-type'), 'text/html');
  assert.is(await r.text(), '<b>');
  handler = async () => {
    const inner = new LazyResponse('twice') as unknown as Response;
    const t = await inner.clone().text(); // builds the real one; the original still sends
    return new LazyResponse(`${t}:${await inner.text()}`) as unknown as Response;
  };
  r = await fetch(base);
  assert.is(await r.text(), 'twice:twice');
});

test('native Responses pass instanceof LazyResponse; a subclass checks its own prototype', () => {
  assert.ok(new Response('n') instanceof (LazyResponse as unknown as typeof Response));
  class Mine extends LazyResponse {}
  assert.ok(new Mine('m') instanceof Mine);
  assert.not.ok(new Response('n') instanceof Mine);
});

test('a handler that returns no Response is refused with a TypeError', async () => {
  handler = () => 'text' as unknown as Response;
  const r = await fetch(base);
  assert.is(r.status, 599);
  assert.match(await r.text(), 'not a Response');
});

test.run();
