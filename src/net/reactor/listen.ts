/**
 * `rt.listen()`: a TCP server whose connections are accepted by the reactor and handled, one green
 * thread per connection, by the default export of a handler module on the pool's workers.
 *
 * Runs on the main thread only. Owns: one net.Server, the set of its live connections, and its
 * counters.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { checkPositiveInt, rangeError as rangeErr, typeError as typeErr } from '../../core/args.js';
import { toModuleURL } from '../../core/module-ref.js';
import { ClosedError } from '../../core/errors.js';
import { validateTimeout } from '../../core/op.js';
import { ERRNO_TIMEOUT, MAX_SLOT_RING, MIN_SLOT_RING } from '../conn-slot.js';
import { isPowerOfTwo } from '../../shm/layout.js';
import type { MainConn } from './connection.js';
import { DEFAULT_RING_BYTES, type FailedMessage } from '../protocol.js';
import type { AcceptingServer, Reactor } from './reactor.js';

/** Options of `rt.listen()`. */
export interface ListenOptions {
  /** Module whose default export `(conn: Conn) => Promise<void>` handles each connection. */
  handler: URL | string;
  /** Default 0: any free port (read it back from `server.port`). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** listen(2) backlog. Default 511 (Node's). */
  backlog?: number;
  /** Connections open at once; more are closed at accept (counted in `stats().refused`). */
  maxConnections?: number;
  /** Bytes of each per-connection ring (a power of two, 1 KiB .. 16 MiB). Default 32 KiB. */
  ringBytes?: number;
  /**
   * Called on the main thread each time a handler throws (not for resets and closes, which are
   * the peer's or the server's doing): `error` carries the worker's name, message, stack and code,
   * `conn` the peer's address. Without it, errors are only counted (`stats().handlerErrors`,
   * `lastHandlerError`). An exception thrown by `onError` itself is reported with
   * `process.emitWarning` and does not stop the server.
   */
  onError?: (error: HandlerError, conn: { remoteAddress: string; remotePort: number }) => void;
  /**
   * Close a connection after this many ms with no byte in either direction (like node:http's
   * `keepAliveTimeout`): its handler's next operation fails with ConnectionResetError 'ETIMEDOUT'
   * and the peer sees the socket closed. Checked a few times per period, so a connection goes
   * between `idleTimeout` and 1.25 x `idleTimeout` after its last byte. Default 0: no idle timeout
   * (as node:net; a handler may still use `conn.readable(ms)`).
   */
  idleTimeout?: number;
  /**
   * Written to a connection refused over `maxConnections` before it is closed (rt.serve sends an
   * HTTP 503 this way). Default: closed without a word.
   */
  refuseWith?: Uint8Array;
}

/**
 * What a handler threw, rebuilt on the main thread: the worker's `name`, `message`, `stack` and
 * `code`, plus the connection's address.
 *
 * @example
 * await rt.listen({ handler, onError: (e, c) => console.error(`${c.remoteAddress}:${c.remotePort}`, e.stack) });
 */
export class HandlerError extends Error {
  readonly code: string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  constructor(m: FailedMessage) {
    const text = m.name && m.message.startsWith(`${m.name}: `) ? m.message.slice(m.name.length + 2) : m.message;
    super(text);
    this.name = m.name ?? 'Error';
    this.code = m.code;
    this.remoteAddress = m.remoteAddress ?? '';
    this.remotePort = m.remotePort ?? 0;
    if (m.stack) this.stack = m.stack;
  }
}

/** How often a closing server looks for connections that became idle (ms). */
const IDLE_POLL_MS = 20;

/** Options of `server.close()`. */
export interface ServerCloseOptions {
  /**
   * How long busy handlers may keep running before their connections are closed. Default 30000 ms.
   * Idle connections (the handler waits in `read()` and every byte has gone through) are closed at
   * once, and busy ones as soon as they become idle.
   */
  timeout?: number;
  /**
   * Close idle connections at once (default true). A protocol layer that knows better when a
   * connection is between requests (HTTP over `conn.toDuplex()`, where a slow upload also waits
   * in read()) passes false and closes its connections itself.
   */
  closeIdle?: boolean;
}

/** Counters of one server. */
export interface TcpServerStats {
  readonly open: number;
  readonly accepted: number;
  readonly refused: number;
  readonly handlerErrors: number;
  /** connections closed by `idleTimeout` */
  readonly idleClosed: number;
}

/** A module reference as the worker imports it (src/core/module-ref.ts). */
export function handlerURL(ref: unknown): string {
  return toModuleURL(ref, 'handler');
}

/**
 * A listening TCP server served by the reactor.
 *
 * @example
 * const srv = await rt.listen({ port: 0, handler: new URL('../../reactor/echo.js', import.meta.url) });
 * console.log(srv.port);
 * await srv.close({ timeout: 1000 });
 */
export class TcpServer implements AcceptingServer, AsyncDisposable {
  readonly id: number;
  readonly handler: string;
  readonly ringBytes: number;
  conns = new Set<MainConn>();
  /**
   * @internal called once when close() starts, before the wait (rt.serve tells its workers to
   * stop keep-alive and close idle connections at once, whoever closes: server or runtime)
   */
  onClosing: (() => void) | undefined;
  /**
   * Whether close() closes idle connections when its caller does not say (`closeIdle`). A protocol
   * that knows better when a connection is between requests (rt.serve: node:http on the workers)
   * sets false, so that rt.close() leaves that decision to it too. Main thread only.
   */
  closeIdleByDefault = true;
  /**
   * @internal how inspection (the REPL's `.conns`, `shoal top`, metrics) shows a server built on
   * this one: rt.serve sets kind 'http' / 'https', the user's handler module (rather than its
   * own host module's URL) and its request and handler-error counts.
   */
  shownAs: { kind: string; handler: string; counts(): { requests: number; handlerErrors: number } } | undefined;
  private readonly reactor: Reactor;
  private readonly server: Server;
  private accepted = 0;
  private refused = 0;
  private handlerErrors = 0;
  private lastError: string | undefined;
  private readonly onError: ListenOptions['onError'];
  private closing: Promise<void> | undefined;
  private emptyWaiters: Array<() => void> = [];
  private idleTimer: NodeJS.Timeout | undefined;
  /** per connection: its byte count at the last sweep, and since when it has not changed */
  private readonly idle = new WeakMap<MainConn, { bytes: number; since: number }>();
  /** connections closed for idling (stats().idleClosed) */
  private idleClosed = 0;

  /** @internal use `listen()` / `rt.listen()` */
  constructor(
    reactor: Reactor,
    server: Server,
    handler: string,
    ringBytes: number,
    onError?: ListenOptions['onError'],
    idleTimeout = 0,
    refuse?: { max: number; bytes: Uint8Array },
  ) {
    this.reactor = reactor;
    this.onError = onError;
    this.server = server;
    this.handler = handler;
    this.ringBytes = ringBytes;
    this.id = reactor.newServerId();
    reactor.servers.set(this.id, this);
    server.on('connection', (s: Socket) => {
      if (refuse !== undefined && this.conns.size >= refuse.max) {
        this.refused++;
        s.on('error', () => {}); // a peer gone already: nothing to tell
        s.end(refuse.bytes);
        // read (and drop) until the peer's FIN, so closing cannot reset the refusal away; a peer
        // that never ends gets 5 s
        s.resume();
        s.once('end', () => s.destroy());
        setTimeout(() => s.destroy(), 5000).unref();
        return;
      }
      this.accepted++;
      reactor.accept(this, s);
    });
    server.on('drop', () => this.refused++);
    // An accept that fails (EMFILE: out of file descriptors) emits 'error' on the server; with no
    // listener that would crash the process. libuv has already closed the connection it could not
    // take: count it as refused.
    server.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EMFILE' || e.code === 'ENFILE' || e.code === 'ECONNABORTED' || e.syscall === 'accept') {
        this.refused++;
        this.lastError = `accept failed: ${e.code ?? e.message}`;
      }
    });
    if (idleTimeout > 0) {
      // One sweep timer per server, not one per connection: a connection's activity is its byte
      // count, compared between sweeps (no clock read on the data path).
      this.idleTimer = setInterval(() => this.sweepIdle(idleTimeout), Math.max(1, Math.floor(idleTimeout / 4)));
      this.idleTimer.unref(); // open sockets keep the process alive, not this timer
    }
  }

  private sweepIdle(limit: number): void {
    const now = performance.now();
    for (const c of this.conns) {
      const bytes = c.bytesIn + c.bytesOut;
      const seen = this.idle.get(c);
      if (!seen || seen.bytes !== bytes) this.idle.set(c, { bytes, since: now });
      else if (now - seen.since >= limit) {
        this.idleClosed++;
        c.forceClose(ERRNO_TIMEOUT);
      }
    }
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Like net.Server#address(). */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Counters: open, accepted, refused (maxConnections or no worker), handler errors. */
  stats(): TcpServerStats {
    return Object.freeze({
      open: this.conns.size,
      accepted: this.accepted,
      refused: this.refused,
      handlerErrors: this.handlerErrors,
      idleClosed: this.idleClosed,
    });
  }

  /** The message of the last handler that threw, if any (for logs). */
  get lastHandlerError(): string | undefined {
    return this.lastError;
  }

  /**
   * Stop accepting, let running handlers finish for up to `timeout` ms, then close the
   * connections still open (their handlers' next operation fails, their signals abort). Idempotent.
   *
   * @example
   * await srv.close({ timeout: 5000 });
   */
  close(options: ServerCloseOptions = {}): Promise<void> {
    const timeout = validateTimeout(options.timeout ?? 30_000, 'options.timeout'); // the core API's rule
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.closing ??= (async () => {
      this.onClosing?.();
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      // idle connections (the handler waits in read() and every byte has gone through) are closed
      // at once, and the rest as soon as they become idle, as node:http's server.close() does
      const closeIdle = options.closeIdle ?? this.closeIdleByDefault;
      if (closeIdle) this.closeIdleNow();
      if (this.conns.size > 0) {
        await new Promise<void>((r) => {
          const done = (): void => {
            clearTimeout(timer);
            clearInterval(poll);
            r();
          };
          const timer = setTimeout(done, timeout);
          const poll = closeIdle ? setInterval(() => this.closeIdleNow(), IDLE_POLL_MS) : undefined;
          this.emptyWaiters.push(done);
        });
      }
      for (const c of [...this.conns]) c.forceClose();
      await closed;
      this.reactor.servers.delete(this.id);
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Close the connections that are idle now (MainConn.idle). */
  private closeIdleNow(): void {
    for (const c of [...this.conns]) if (c.idle()) c.forceClose();
  }

  /** @internal */
  connGone(c: MainConn): void {
    this.conns.delete(c);
    if (this.conns.size === 0 && this.emptyWaiters.length > 0) for (const f of this.emptyWaiters.splice(0)) f();
  }

  /** @internal */
  handlerFailed(m: FailedMessage): void {
    this.handlerErrors++;
    this.lastError = m.message;
    if (!this.onError) return;
    const e = new HandlerError(m);
    try {
      this.onError(e, { remoteAddress: e.remoteAddress, remotePort: e.remotePort });
    } catch (hookError) {
      process.emitWarning(`rt.listen onError threw: ${String((hookError as Error)?.stack ?? hookError)}`);
    }
  }

  /** @internal no worker could take it */
  refuse(socket: Socket): void {
    this.refused++;
    socket.destroy();
  }
}

/**
 * Listen on `port` and serve each connection with the handler module's default export.
 *
 * @example
 * const srv = await listen(reactor, { port: 0, handler: './echo.js', maxConnections: 1000 });
 */
export async function listen(reactor: Reactor, options: ListenOptions): Promise<TcpServer> {
  if (options === null || typeof options !== 'object') throw typeErr('options must be an object');
  const handler = handlerURL(options.handler);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw rangeErr(`port must be an integer in [0, 65535], got ${String(port)}`);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw typeErr(`host must be a string, got ${typeof host}`);
  const ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
  if (!isPowerOfTwo(ringBytes) || ringBytes < MIN_SLOT_RING || ringBytes > MAX_SLOT_RING) {
    throw rangeErr(
      `ringBytes must be a power of two in [${MIN_SLOT_RING}, ${MAX_SLOT_RING}], got ${String(ringBytes)}`,
    );
  }
  const backlog = options.backlog ?? 511;
  if (!Number.isInteger(backlog) || backlog < 0)
    throw rangeErr(`backlog must be a non-negative integer, got ${String(backlog)}`);
  const max = options.maxConnections;
  if (max !== undefined) checkPositiveInt('maxConnections', max);
  if (reactor.closed) throw new ClosedError('runtime is closed: cannot listen');
  // allowHalfOpen: a peer's FIN ends the handler's reads only; its writes go on until it ends.
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function')
    throw typeErr(`onError must be a function, got ${onError === null ? 'null' : typeof onError}`);
  const idleTimeout = validateTimeout(options.idleTimeout ?? 0, 'options.idleTimeout');
  const refuseWith = options.refuseWith;
  if (refuseWith !== undefined && !(refuseWith instanceof Uint8Array))
    throw typeErr(`refuseWith must be a Uint8Array, got ${typeof refuseWith}`);
  if (max !== undefined && refuseWith === undefined) server.maxConnections = max;
  const refuse = max !== undefined && refuseWith !== undefined ? { max, bytes: refuseWith } : undefined;
  const srv = new TcpServer(reactor, server, handler, ringBytes, onError, idleTimeout, refuse);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog }, () => {
      server.off('error', reject);
      resolveListen();
    });
  }).catch((e: unknown) => {
    reactor.servers.delete(srv.id);
    throw e;
  });
  return srv;
}
