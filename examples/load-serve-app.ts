/**
 * The app of examples/load-serve.ts: a fetch-style handler, loaded on each worker of the runtime
 * that serves it (`rt.serve({ handler })`, or `shoal serve dist/examples/load-serve-app.js`).
 * `GET /count` answers how many other requests this worker served.
 */
let served = 0;

export default {
  fetch(req: Request): Response {
    const url = new URL(req.url);
    if (url.pathname === '/count') return Response.json({ served });
    served++;
    return Response.json({ hello: url.searchParams.get('name') ?? 'world' });
  },
};
