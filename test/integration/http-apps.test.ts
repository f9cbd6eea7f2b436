/**
 * Existing apps served unchanged by rt.serve: the Hono example (fetch style) and the Express
 * example (node style), plus task-side fetch following the task's cancellation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime, TimeoutError } from '../../src/index.js';

const HONO = new URL('../../examples/http-hono.js', import.meta.url);
const EXPRESS = new URL('../../examples/http-express.js', import.meta.url);
const CLIENT = new URL('../../examples/http-client.js', import.meta.url);

let rt: Runtime;
test.before(async () => {
  rt = await Runtime.start({ workers: 2 });
});
test.after(async () => {
  await rt.close({ timeout: 1000 });
});

test('the Hono app answers routes, params, JSON bodies and 404 through rt.serve', async () => {
  const web = await rt.serve({ port: 0, handler: HONO });
  assert.is(web.style, 'fetch');
  assert.is(await (await fetch(web.url)).text(), 'hello from hono');
  assert.equal(await (await fetch(`${web.url}users/9`, { headers: { 'user-agent': 'ua1' } })).json(), {
    id: '9',
    agent: 'ua1',
  });
  const e = await fetch(`${web.url}echo`, { method: 'POST', body: JSON.stringify({ a: 1 }) });
  assert.equal(await e.json(), { a: 1 });
  assert.is((await fetch(`${web.url}missing`)).status, 404);
  await web.close({ timeout: 1000 });
});

test('the Express app answers routes, params, JSON bodies and 404 through rt.serve', async () => {
  const web = await rt.serve({ port: 0, handler: EXPRESS });
  assert.is(web.style, 'node');
  const r = await fetch(web.url);
  assert.is(await r.text(), 'hello from express');
  assert.match(r.headers.get('x-powered-by') ?? '', 'Express');
  assert.equal(await (await fetch(`${web.url}users/3`)).json(), { id: '3', ip: '127.0.0.1' });
  const e = await fetch(`${web.url}echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ b: [2] }),
  });
  assert.equal(await e.json(), { b: [2] });
  assert.is((await fetch(`${web.url}missing`)).status, 404);
  await web.close({ timeout: 1000 });
});

test("a task's timeout aborts the fetch it is waiting on (no signal passed)", async () => {
  // a server on the main thread that never answers and tells us when the client hangs up
  let hungUp!: () => void;
  const gone = new Promise<void>((r) => (hungUp = r));
  let arrived!: () => void;
  const came = new Promise<void>((r) => (arrived = r));
  const srv = createServer((req) => {
    arrived();
    req.socket.on('close', () => hungUp());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  const t = rt.run(CLIENT, 'get', [url], { timeout: 300 }).catch((e: unknown) => e);
  await came;
  const err = await t;
  assert.instance(err, TimeoutError);
  await gone; // the task's fetch let go of its connection
  srv.close();
});

test.run();
