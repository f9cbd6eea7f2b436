/**
 * The TCP handler of examples/tcp-echo.ts: its default export runs once per connection, in a
 * green thread on a pool worker.
 */
import type { Conn } from 'shoal';

export default async function (conn: Conn) {
  for await (const chunk of conn) await conn.write(chunk.toString().toUpperCase());
  await conn.end(); // half-close after the last write
}
