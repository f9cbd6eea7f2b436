/**
 * The demo's hybrid HTTP handler: each request reads a file and hashes it (about 1 ms of CPU),
 * then answers with the digest. One logic, three shapes: the fetch-style default export that
 * `rt.serve` loads on every worker, and the node-style handler that the one-thread node:http and
 * node:cluster servers run (src/cli/demo/http-server.ts).
 *
 * Runs on shoal's workers, or in the node:http / node:cluster server processes. Owns nothing.
 * The file and the hash rounds come in the module URL's query (`?file=...&rounds=...`) for
 * `rt.serve`, and as arguments for the node servers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Read `file` and hash it `rounds` times; the hex digest's first 16 characters. */
export async function work(file: string, rounds: number): Promise<string> {
  const data = await readFile(file);
  let h = createHash('sha256').update(data).digest();
  for (let i = 1; i < rounds; i++) h = createHash('sha256').update(h).update(data).digest();
  return h.toString('hex').slice(0, 16);
}

const q = new URL(import.meta.url).searchParams;
const FILE = q.get('file') ?? '';
const ROUNDS = Number(q.get('rounds') ?? 1);

/** A node-style handler doing the same work (for node:http and node:cluster). */
export function nodeHandler(file: string, rounds: number) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    work(file, rounds).then(
      (d) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${d}\n`);
      },
      (e: Error) => {
        res.writeHead(500);
        res.end(`${e.message}\n`);
      },
    );
  };
}

export default {
  async fetch(): Promise<Response> {
    return new Response(`${await work(FILE, ROUNDS)}\n`, { headers: { 'content-type': 'text/plain' } });
  },
};
