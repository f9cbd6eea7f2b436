/**
 * User story: a fetch-style HTTP handler served on every core. This one file is both the handler
 * module (its default export, loaded on each worker) and the program that serves it.
 *
 * Run: `npm run build && node dist/examples/http-hello.js`
 */
import { isMainThread } from 'node:worker_threads';
import { Runtime, type HttpContext } from 'shoal';

export default {
  fetch(req: Request, ctx: HttpContext): Response {
    const name = new URL(req.url).searchParams.get('name') ?? 'world';
    return new Response(`hello, ${name} (from ${ctx.remoteAddress})\n`);
  },
};

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  console.log(`serving on ${web.url}`);
  const res = await fetch(`${web.url}?name=shoal`);
  console.log(res.status, await res.text());
  await web.close({ timeout: 1000 });
}
