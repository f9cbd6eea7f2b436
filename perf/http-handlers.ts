/**
 * The request work of perf/http-serve.bench.ts, shared by every server under test so they all do
 * the same thing: /hello (a few bytes), /cpu200 (~200 µs of CPU), /hybrid (~1 ms of CPU and a
 * 4 KiB file read). The CPU part burns sha256 updates calibrated once
 * (HTTP_BENCH_ROUNDS_200 from the parent, so every server burns the same count).
 *
 * Loaded by the bench's server processes (perf/http-servers.ts), their workers and, as a
 * handler module, by shoal's rt.serve (fetch style as the default export; node style as `node`).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What one round of burn() hashes. */
const BLOCK = Buffer.alloc(1024, 1);

/** sha256 rounds for ~200 µs (set by the bench; measured here when missing). */
export const ROUNDS_200 = Number(process.env.HTTP_BENCH_ROUNDS_200 ?? 0) || calibrate(200);

/** The file /hybrid reads (this module's own source map or source, ~4 KiB and more). */
export const FILE = fileURLToPath(import.meta.url);

/** Rounds of burn() that take about `us` µs here. */
export function calibrate(us: number): number {
  burn(2000); // warm the JIT first: a cold first batch runs up to 10x slower
  // the fastest of 15 short trials: other load on a shared box only ever makes a trial slower
  // (the doubling search this replaces timed cold batches: docs/measurements.md, 2026-12-07 05:40)
  let per = Infinity;
  for (let k = 0; k < 15; k++) {
    const t0 = performance.now();
    burn(300);
    per = Math.min(per, ((performance.now() - t0) * 1000) / 300);
  }
  return Math.max(1, Math.round(us / per));
}

/**
 * Burn `rounds` sha256 updates over 1 KiB (one hash object, one digest): CPU without garbage, so
 * its cost per round is the same in every server and every heap. Returns the digest's first byte
 * (so nothing is elided).
 */
export function burn(rounds: number): number {
  const h = createHash('sha256');
  for (let i = 0; i < rounds; i++) h.update(BLOCK);
  return h.digest()[0]!;
}

/** The CPU part of a path, in sha256 rounds (0: none). */
export function roundsFor(path: string | undefined): number {
  if (path === '/cpu200') return ROUNDS_200;
  if (path === '/hybrid') return ROUNDS_200 * 5;
  return 0;
}

/** What each path answers once its CPU part is done. */
export async function answer(path: string | undefined, cpuResult: number): Promise<string> {
  if (path === '/hybrid') {
    const f = await readFile(FILE);
    return `hybrid ${cpuResult} ${f.length}`;
  }
  if (path === '/cpu200') return `cpu ${cpuResult}`;
  return 'hello world';
}

/** node style: the same work as (req, res). */
export function node(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url;
  if (path === '/hello') {
    res.setHeader('content-type', 'text/plain');
    res.end('hello world');
    return;
  }
  const r = roundsFor(path);
  answer(path, r > 0 ? burn(r) : 0).then((body) => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  });
}

/** fetch style: the default export. */
export default {
  fetch(req: Request): Response | Promise<Response> {
    const url = req.url;
    const path = url.slice(url.indexOf('/', 8));
    if (path === '/hello') return new Response('hello world', { headers: { 'content-type': 'text/plain' } });
    const r = roundsFor(path);
    return answer(path, r > 0 ? burn(r) : 0).then(
      (body) => new Response(body, { headers: { 'content-type': 'text/plain' } }),
    );
  },
};
