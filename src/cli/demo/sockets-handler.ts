/**
 * The served-socket workload of `shoal demo`: a tiny request/response protocol whose handler burns
 * CPU per request, written once and run two ways — as a shoal TCP handler module (its default
 * export, on pool workers through the reactor) and on a plain single-thread node:net server
 * (`serveSocket`), so the comparison measures the runtime, not two different handlers.
 *
 * Runs on a pool worker (the default export) or on the main thread (`serveSocket`, `burn`). Owns
 * nothing beyond one connection's parse state.
 *
 * Protocol: the client sends REQUEST_BYTES-byte requests; for each whole request the server hashes
 * a 4 KiB block `rounds` times (sha256, chained through the request bytes so the work cannot be
 * skipped) and answers with the 32-byte digest. `rounds` comes from the module URL's `?rounds=`.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Conn } from '../../net/worker/conn.js';

/** Bytes of one request. */
export const REQUEST_BYTES = 64;
/** Bytes of one reply (a sha256 digest). */
export const REPLY_BYTES = 32;

const BLOCK = Buffer.alloc(4096, 0x5a);

/**
 * The CPU a request costs: `rounds` chained sha256 passes over a 4 KiB block, seeded by `seed`.
 *
 * @example
 * const digest = burn(40, Buffer.alloc(64)); // 32 bytes
 */
export function burn(rounds: number, seed: Uint8Array): Buffer {
  let d: Buffer = createHash('sha256').update(seed).digest();
  for (let i = 0; i < rounds; i++) d = createHash('sha256').update(d).update(BLOCK).digest();
  return d;
}

/** Cuts a byte stream into whole requests; keeps at most one partial request between chunks. */
class Requests {
  private carry: Buffer | undefined;

  /** Call `fn` for each whole request in `chunk` (plus what was carried over). */
  each(chunk: Buffer, fn: (req: Buffer) => void): void {
    let b = chunk;
    if (this.carry) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let off = 0;
    for (; off + REQUEST_BYTES <= b.length; off += REQUEST_BYTES) fn(b.subarray(off, off + REQUEST_BYTES));
    if (off < b.length) this.carry = Buffer.from(b.subarray(off));
  }
}

/**
 * Serve one node:net socket on the calling thread (the single-thread baseline of the demo).
 *
 * @example
 * createServer((s) => serveSocket(s, 40)).listen(0);
 */
export function serveSocket(socket: Socket, rounds: number): void {
  socket.setNoDelay(true);
  const reqs = new Requests();
  socket.on('data', (chunk: Buffer) => reqs.each(chunk, (req) => socket.write(burn(rounds, req))));
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.end());
}

/**
 * The shoal handler: the same protocol on a worker's green thread, one per connection.
 *
 * @example
 * await rt.listen({ port: 0, handler: new URL('./sockets-handler.js?rounds=40', import.meta.url) });
 */
export default async function demoNetHandler(conn: Conn): Promise<void> {
  const rounds = Number(new URL(import.meta.url).searchParams.get('rounds') ?? 0);
  const reqs = new Requests();
  for await (const chunk of conn) {
    const replies: Buffer[] = [];
    reqs.each(chunk, (req) => replies.push(burn(rounds, req)));
    if (replies.length > 0) await conn.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
  }
  await conn.end();
}
