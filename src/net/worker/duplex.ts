/**
 * The node:stream Duplex adapter of a Conn (`conn.toDuplex()`), for code written against streams:
 * `pipeline`, parsers, node:http and node:tls servers fed with `server.emit('connection', duplex)`.
 *
 * Runs on the worker that owns the Conn. Owns nothing beyond the stream object and its idle timer:
 * reads pull from `conn.read()` only when the stream asks (so stream backpressure becomes ring
 * backpressure), writes go through `conn.write()` (their callback waits for ring room), `end()`
 * half-closes, `destroy()` closes the Conn.
 *
 * The net.Socket surface node:http and node:tls use is filled in: `remoteAddress`, `remotePort`,
 * `remoteFamily`, `localAddress`, `localPort`, `address()`, `setTimeout(ms, cb)` (an idle timer
 * that emits 'timeout'; node:http's keepAliveTimeout and server.timeout rely on it),
 * `setNoDelay()` / `setKeepAlive()` (no-ops: the reactor already set TCP_NODELAY on the real
 * socket), `ref()` / `unref()`, `bytesWritten`.
 */
import { Duplex } from 'node:stream';

/**
 * What the adapter needs of a Conn (conn.ts); structural, so this file does not import conn.ts,
 * which imports it.
 */
export interface DuplexConn {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  read(): Promise<Buffer | null>;
  write(data: Uint8Array): Promise<void>;
  end(): Promise<void>;
  close(): void;
}

/** A Duplex over a Conn, shaped like a net.Socket where node:http and node:tls look. */
export class ConnDuplex extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  /** bytes handed to the Conn so far */
  bytesWritten = 0;
  /** bytes read from the Conn so far */
  bytesRead = 0;
  readonly connecting = false;
  private readonly conn: DuplexConn;
  private pulling = false;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** the delay idleTimer was made with (it stays armed while idleMs is 0: onIdle ignores it) */
  private idleTimerMs = 0;

  constructor(conn: DuplexConn) {
    super({ allowHalfOpen: true });
    this.conn = conn;
    this.remoteAddress = conn.remoteAddress;
    this.remotePort = conn.remotePort;
    this.remoteFamily = conn.remoteFamily;
    this.localAddress = conn.localAddress;
    this.localPort = conn.localPort;
  }

  override _read(): void {
    if (this.pulling) return;
    this.pulling = true;
    this.conn.read().then(
      (b) => {
        this.pulling = false;
        if (b !== null) {
          this.bytesRead += b.length;
          if (this.idleMs > 0) this.idleTimer?.refresh();
        }
        this.push(b); // null ends the readable side; true asks for more through _read() again
      },
      (e: unknown) => {
        this.pulling = false;
        this.destroy(e as Error);
      },
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    if (this.idleMs > 0) this.idleTimer?.refresh();
    this.conn.write(chunk).then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    // node:http corks the head and the body of a response: one ring write instead of two
    const bytes = Buffer.concat(chunks.map((c) => c.chunk));
    this._write(bytes, 'latin1', cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.conn.end().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.conn.close();
    cb(err);
  }

  /**
   * Like net.Socket#setTimeout: emit 'timeout' after `ms` without reads or writes (0 turns it
   * off). The stream is not closed; the listener decides (node:http destroys idle keep-alive
   * connections this way).
   */
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) {
      if (ms === 0) this.off('timeout', cb);
      else this.once('timeout', cb);
    }
    // node:http turns the timeout off and on around every request: keep one timer and re-arm it
    // (refresh) rather than making a new one each time
    this.idleMs = ms;
    if (ms > 0 && !this.destroyed) {
      if (this.idleTimer !== undefined && this.idleTimerMs === ms) this.idleTimer.refresh();
      else {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(this.onIdle, ms);
        this.idleTimer.unref();
        this.idleTimerMs = ms;
      }
    }
    return this;
  }

  /** The idle timeout set by setTimeout (ms, 0 = none). */
  get timeout(): number {
    return this.idleMs;
  }

  private readonly onIdle = (): void => {
    this.idleTimer = undefined;
    if (!this.destroyed && this.idleMs > 0) this.emit('timeout');
  };

  /** A no-op: the reactor set TCP_NODELAY on the real socket at accept. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** A no-op: keep-alive probes belong to the real socket on the main thread. */
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  /** Like net.Socket#address(): the local end. */
  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: this.localPort, family: this.remoteFamily };
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

/**
 * Wrap `conn` in a Duplex (allowHalfOpen: ending our side does not end the peer's).
 *
 * @example
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(conn.toDuplex(), zlib.createGzip(), fs.createWriteStream('in.gz'));
 */
export function connDuplex(conn: DuplexConn): ConnDuplex {
  return new ConnDuplex(conn);
}
