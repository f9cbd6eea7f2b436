/**
 * User story: the HTTP GET client. Tasks on the pool fetch many URLs with bounded concurrency;
 * `fetch` inside a task follows the task's cancellation and timeout without being passed a
 * signal (pass `taskSignal()` yourself to be explicit, as `getExplicit` does). The URLs are
 * served by a local rt.serve so the example runs offline.
 *
 * Run: `npm run build && node dist/examples/http-client.js`
 */
import { isMainThread } from 'node:worker_threads';
import { Runtime, TimeoutError, taskSignal } from 'shoal';

/** The task: GET one URL, return its status and size. */
export async function get(url: string): Promise<{ url: string; status: number; bytes: number }> {
  const res = await fetch(url); // aborted with the task (cancel or timeout)
  return { url, status: res.status, bytes: (await res.arrayBuffer()).byteLength };
}

/** The same with the task's signal passed explicitly. */
export async function getExplicit(url: string): Promise<number> {
  const res = await fetch(url, { signal: taskSignal() });
  return res.status;
}

/** The server the client talks to: /page/N answers, /slow never does. */
export default {
  async fetch(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === '/slow') await new Promise((r) => req.signal.addEventListener('abort', r));
    return new Response(`page ${path}\n`.repeat(100));
  },
};

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  const urls = Array.from({ length: 50 }, (_, i) => `${web.url}page/${i}`);
  let total = 0;
  for await (const r of rt.map<string, { bytes: number }>(urls, import.meta.url, 'get', { concurrency: 8 }))
    total += r.bytes;
  console.log(`fetched ${urls.length} pages, ${total} bytes`);
  console.log('explicit signal:', await rt.run(import.meta.url, 'getExplicit', [`${web.url}page/x`]));
  try {
    await rt.run(import.meta.url, 'get', [`${web.url}slow`], { timeout: 200 });
  } catch (e) {
    console.log('slow GET timed out and its fetch was aborted:', e instanceof TimeoutError);
  }
  await web.close({ timeout: 1000 });
}
