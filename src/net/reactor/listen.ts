/**
 * `rt.listen()`: a TCP server whose connections are accepted by the reactor and handled, one green
 * thread per connection, by the default export of a handler module on the pool's workers.
 *
 * Runs on the main thread only. Owns: one net.Server, the set of its live connections, and its
 * counters.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClosedError } from '../../core/errors.js';
import { MAX_SLOT_RING, MIN_SLOT_RING } from '../conn-slot.js';
import { isPowerOfTwo } from '../../shm/layout.js';
import type { MainConn } from './connection.js';
import { DEFAULT_RING_BYTES } from '../protocol.js';
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
   * Written to a connection refused over `maxConnections` before it is closed (rt.serve sends an
   * HTTP 503 this way). Default: closed without a word.
   */
  refuseWith?: Uint8Array;
}

/** Options of `server.close()`. */
export interface ServerCloseOptions {
  /** How long handlers may keep running before their connections are closed. Default 30000 ms. */
  timeout?: number;
}

/** Counters of one server. */
export interface TcpServerStats {
  readonly open: number;
  readonly accepted: number;
  readonly refused: number;
  readonly handlerErrors: number;
}

function rangeErr(msg: string): RangeError {
  return Object.assign(new RangeError(msg), { code: 'ERR_OUT_OF_RANGE' });
}
function typeErr(msg: string): TypeError {
  return Object.assign(new TypeError(msg), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A module reference as the worker imports it. */
export function handlerURL(ref: unknown): string {
  if (ref instanceof URL) return ref.href;
  if (typeof ref !== 'string' || ref === '')
    throw typeErr(`handler must be a URL or a module path, got ${ref === null ? 'null' : typeof ref}`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return ref;
  if (isAbsolute(ref) || ref.startsWith('.')) return pathToFileURL(resolve(ref)).href;
  return ref;
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
  private readonly reactor: Reactor;
  private readonly server: Server;
  private accepted = 0;
  private refused = 0;
  private handlerErrors = 0;
  private lastError: string | undefined;
  private closing: Promise<void> | undefined;
  private emptyWaiters: Array<() => void> = [];

  /** @internal use `listen()` / `rt.listen()` */
  constructor(
    reactor: Reactor,
    server: Server,
    handler: string,
    ringBytes: number,
    refuse?: { max: number; bytes: Uint8Array },
  ) {
    this.reactor = reactor;
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
    const timeout = options.timeout ?? 30_000;
    if (typeof timeout !== 'number' || !(timeout >= 0) || timeout === Infinity)
      throw rangeErr(`timeout must be a non-negative finite number of ms, got ${String(timeout)}`);
    this.closing ??= (async () => {
      this.onClosing?.();
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      if (this.conns.size > 0) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, timeout);
          this.emptyWaiters.push(() => {
            clearTimeout(timer);
            r();
          });
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

  /** @internal */
  connGone(c: MainConn): void {
    this.conns.delete(c);
    if (this.conns.size === 0 && this.emptyWaiters.length > 0) for (const f of this.emptyWaiters.splice(0)) f();
  }

  /** @internal */
  handlerFailed(message: string): void {
    this.handlerErrors++;
    this.lastError = message;
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
  if (max !== undefined && (!Number.isInteger(max) || max < 1))
    throw rangeErr(`maxConnections must be a positive integer, got ${String(max)}`);
  if (reactor.closed) throw new ClosedError('runtime is closed: cannot listen');
  // allowHalfOpen: a peer's FIN ends the handler's reads only; its writes go on until it ends.
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  const refuseWith = options.refuseWith;
  if (refuseWith !== undefined && !(refuseWith instanceof Uint8Array))
    throw typeErr(`refuseWith must be a Uint8Array, got ${typeof refuseWith}`);
  if (max !== undefined && refuseWith === undefined) server.maxConnections = max;
  const refuse = max !== undefined && refuseWith !== undefined ? { max, bytes: refuseWith } : undefined;
  const srv = new TcpServer(reactor, server, handler, ringBytes, refuse);
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
