/**
 * User story: an existing Express app, unchanged, served on every core. An Express app is a
 * node-style `(req, res)` function, so `export default app` is all rt.serve needs.
 *
 * Run: `npm run build && node dist/examples/http-express.js`
 */
import express from 'express';
import { isMainThread } from 'node:worker_threads';
import { Runtime } from 'shoal';

const app = express();
app.use(express.json());
app.get('/', (_req, res) => {
  res.send('hello from express');
});
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, ip: req.ip });
});
app.post('/echo', (req, res) => {
  res.json(req.body);
});
export default app;

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  console.log(await (await fetch(web.url)).text());
  console.log(await (await fetch(`${web.url}users/7`)).json());
  const echo = await fetch(`${web.url}echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ok: true }),
  });
  console.log(echo.status, await echo.json());
  await web.close({ timeout: 1000 });
}
