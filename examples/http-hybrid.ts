/**
 * User story: the CPU-plus-IO hybrid service. Each request reads a file and burns ~1 ms of CPU
 * (hashing); the handlers run on the workers, so the CPU part uses every core and one slow
 * request never stalls the other connections.
 *
 * Run: `npm run build && node dist/examples/http-hybrid.js`
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { Runtime } from 'shoal';

const file = fileURLToPath(import.meta.url);

export default {
  async fetch(req: Request): Promise<Response> {
    const rounds = Number(new URL(req.url).searchParams.get('rounds') ?? 2000);
    let digest = await readFile(file); // the IO part
    for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest(); // the CPU part
    return Response.json({ bytes: (await readFile(file)).length, digest: digest.toString('hex').slice(0, 16) });
  },
};

if (isMainThread) {
  await using rt = await Runtime.start({ workers: 2 });
  const web = await rt.serve({ port: 0, handler: import.meta.url });
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(web.url).then((r) => r.json())));
  console.log(`40 hybrid requests in ${(performance.now() - t0).toFixed(0)} ms:`, answers[0]);
  console.log(web.stats());
  await web.close({ timeout: 1000 });
}
