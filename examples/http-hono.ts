/**
 * User story: an existing Hono app, unchanged, served on every core. A Hono app is a fetch-style
 * handler (it has `fetch(req)`), so `export default app` is all rt.serve needs.
 *
 * Run: `npm run build && node dist/examples/http-hono.js`
 */
import { Hono } from 'hono';
import { isMainThread } from 'node:worker_threads';
import { Runtime } from 'shoal';

const app = new Hono();
app.get('/', (c) => c.text('hello from hono'));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), agent: c.req.header('user-agent') ?? null }));
app.post('/echo', async (c) => c.json(await c.req.json()));
export default app;

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  console.log(await (await fetch(web.url)).text());
  console.log(await (await fetch(`${web.url}users/42`)).json());
  const echo = await fetch(`${web.url}echo`, { method: 'POST', body: JSON.stringify({ ok: true }) });
  console.log(echo.status, await echo.json());
  await web.close({ timeout: 1000 });
}
