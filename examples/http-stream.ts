/**
 * User story: a streaming download. The handler returns a ReadableStream that makes 1 MiB pieces
 * only as fast as the client reads them (backpressure from the client's socket to `pull`).
 *
 * Run: `npm run build && node dist/examples/http-stream.js`
 */
import { isMainThread } from 'node:worker_threads';
import { Runtime } from 'shoal';

export default {
  fetch(req: Request): Response {
    const mib = Number(new URL(req.url).searchParams.get('mib') ?? 16);
    let sent = 0;
    const piece = new Uint8Array(1 << 20).fill(120);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < mib) controller.enqueue(piece);
        else controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
  },
};

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  const res = await fetch(`${web.url}?mib=32`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += chunk.length;
  console.log(`downloaded ${bytes} bytes, transfer-encoding: ${res.headers.get('transfer-encoding')}`);
  await web.close({ timeout: 1000 });
}
