/**
 * Start a node:net or node:http server listening and wait for it: the shared first step of the
 * REPL server and the metrics server.
 *
 * Runs on the main thread. Owns nothing (the caller owns the server).
 */
import type { Server } from 'node:net';

/**
 * Listen on `port`/`host`; resolves once listening, rejects with the listen error (EADDRINUSE...).
 *
 * @example
 * await listenOn(server, { port: 0, host: '127.0.0.1' });
 */
export function listenOn(server: Server, where: { port: number; host: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: where.port, host: where.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
