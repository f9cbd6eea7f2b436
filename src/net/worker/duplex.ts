/**
 * The node:stream Duplex adapter of a Conn (`conn.toDuplex()`), for code written against streams:
 * `pipeline`, parsers, TLS-less protocol libraries.
 *
 * Runs on the worker that owns the Conn. Owns nothing beyond the stream object: reads pull from
 * `conn.read()` only when the stream asks (so stream backpressure becomes ring backpressure),
 * writes go through `conn.write()` (their callback waits for ring room), `end()` half-closes,
 * `destroy()` closes the Conn.
 */
import { Duplex } from 'node:stream';

/**
 * What the adapter needs of a Conn (conn.ts); structural, so this file does not import conn.ts,
 * which imports it.
 */
export interface DuplexConn {
  read(): Promise<Buffer | null>;
  write(data: Uint8Array): Promise<void>;
  end(): Promise<void>;
  close(): void;
}

/**
 * Wrap `conn` in a Duplex (allowHalfOpen: ending our side does not end the peer's).
 *
 * @example
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(conn.toDuplex(), zlib.createGzip(), fs.createWriteStream('in.gz'));
 */
export function connDuplex(conn: DuplexConn): Duplex {
  let pulling = false;
  const d: Duplex = new Duplex({
    allowHalfOpen: true,
    read(): void {
      if (pulling) return;
      pulling = true;
      conn.read().then(
        (b) => {
          pulling = false;
          d.push(b); // null ends the readable side; true asks for more through read() again
        },
        (e: unknown) => {
          pulling = false;
          d.destroy(e as Error);
        },
      );
    },
    write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
      conn.write(chunk).then(() => cb(), cb);
    },
    final(cb: (e?: Error | null) => void): void {
      conn.end().then(() => cb(), cb);
    },
    destroy(err: Error | null, cb: (e: Error | null) => void): void {
      conn.close();
      cb(err);
    },
  });
  return d;
}
