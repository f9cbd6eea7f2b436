/**
 * `rt.repl()`: a TCP server that attaches a `node:repl` to the running runtime for each client
 * that proves it holds the token (repl-session.ts runs one client).
 *
 * Runs on the main thread of the service. Owns: one net.Server (loopback unless a host is given),
 * the token, and the set of live sessions. Its sockets are plain node:net sockets beside the
 * reactor's: the REPL never touches the reactor's connection slots.
 *
 * The wire: the client's first line is the token; a wrong or missing one gets one line
 * `shoal repl: refused: <why>` and the socket is closed. Then it is node:repl's own text: lines in,
 * output and the prompt `shoal> ` out. A line holding only "\x03" is Ctrl-C. `.json <view>` answers
 * with one line `@json <JSON>` for tools (`shoal top` polls `.json top`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ReplSession, type SessionEnd, type SessionLimits } from './repl-session.js';
import type { InspectSource } from './source.js';
import { REFUSED } from './wire.js';
import { formatHostPort, inspectRangeError, inspectTypeError } from './errors.js';
import { listenOn } from './listen.js';

/** Options of `rt.repl()`. */
export interface ReplOptions {
  /** Default 0: any free port (read it back from `.port`). */
  port?: number;
  /** Default '127.0.0.1' (loopback only). Anything else exposes the REPL to that network. */
  host?: string;
  /**
   * The secret a client sends as its first line (8 to 256 printable characters, no spaces).
   * Default: a random 24-character token, printed once on stderr with the command to connect.
   */
  token?: string;
  /** Clients connected at once; more are refused (default 8). */
  maxClients?: number;
  /** How long a client may take to send its token (default 10000 ms). */
  authTimeout?: number;
  /** How long a client may leave its output unread before it is dropped (default 30000 ms). */
  stallTimeout?: number;
  /** Do not print the generated token (read it from the returned `.token`). */
  quiet?: boolean;
  /** Close the REPL server (and its sessions) when this aborts. */
  signal?: AbortSignal;
}

/** Counters of a REPL server. */
export interface ReplServerStats {
  /** clients connected now (past the token or still sending it) */
  readonly clients: number;
  readonly accepted: number;
  /** clients refused: wrong or missing token, or too many clients */
  readonly refused: number;
}

/**
 * A listening REPL server: `{ port, host, token, close() }`.
 *
 * @example
 * const repl = await rt.repl({ port: 0 });
 * // elsewhere: shoal repl 127.0.0.1:<repl.port> --token <repl.token>
 * await repl.close();
 */
export interface ReplServer extends AsyncDisposable {
  readonly port: number;
  readonly host: string;
  readonly token: string;
  stats(): ReplServerStats;
  /** Stop listening and end every session (each client is told why). Idempotent. */
  close(): Promise<void>;
}

const TOKEN_RE = /^[\x21-\x7e]{8,256}$/;

function checkOptions(o: ReplOptions): Required<Omit<ReplOptions, 'signal' | 'token'>> & { token: string } {
  if (o === null || typeof o !== 'object') throw inspectTypeError('options must be an object');
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw inspectRangeError(`port must be an integer in [0, 65535], got ${String(port)}`);
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '')
    throw inspectTypeError(`host must be a non-empty string, got ${typeof host}`);
  let token = o.token;
  if (token === undefined) token = randomBytes(18).toString('base64url');
  else if (typeof token !== 'string' || !TOKEN_RE.test(token))
    throw inspectTypeError('token must be 8 to 256 printable ASCII characters without spaces');
  const maxClients = o.maxClients ?? 8;
  if (!Number.isInteger(maxClients) || maxClients < 1)
    throw inspectRangeError(`maxClients must be a positive integer, got ${String(maxClients)}`);
  const ms = (v: number | undefined, d: number, name: string): number => {
    const n = v ?? d;
    if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n))
      throw inspectRangeError(`${name} must be a positive finite number of ms, got ${String(v)}`);
    return n;
  };
  return {
    port,
    host,
    token,
    maxClients,
    authTimeout: ms(o.authTimeout, 10_000, 'authTimeout'),
    stallTimeout: ms(o.stallTimeout, 30_000, 'stallTimeout'),
    quiet: o.quiet === true,
  };
}

/**
 * Listen for REPL clients. The runtime calls this for `rt.repl()` with itself as the source.
 *
 * @example
 * const srv = await startRepl(source, { port: 0, quiet: true });
 */
export async function startRepl(
  src: InspectSource,
  options: ReplOptions = {},
  onClosed?: () => void,
): Promise<ReplServer> {
  const o = checkOptions(options);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw inspectTypeError('signal must be an AbortSignal');
  signal?.throwIfAborted();
  const limits: SessionLimits = { authTimeoutMs: o.authTimeout, stallTimeoutMs: o.stallTimeout };
  const sessions = new Set<ReplSession>();
  let accepted = 0;
  let refused = 0;
  // allowHalfOpen: a client that ends its input still gets the output of its last lines
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    accepted++;
    if (sessions.size >= o.maxClients) {
      refused++;
      socket.on('error', () => {});
      socket.end(`${REFUSED}too many clients (${o.maxClients})\n`);
      socket.resume(); // read (and drop) what it sends, so its FIN is seen and the socket closes
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session: ReplSession = new ReplSession(socket, src, o.token, limits, (how: SessionEnd) => {
      if (how === 'refused') refused++;
      sessions.delete(session);
    });
    sessions.add(session);
  });
  await listenOn(server, o);
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      signal?.removeEventListener('abort', onAbort);
      server.close(() => {
        onClosed?.();
        resolve();
      });
      for (const s of [...sessions]) s.close('the REPL server is closing');
      // a session whose client does not read is dropped by its end timer; do not wait on it
      setTimeout(() => {
        for (const s of [...sessions]) s.destroy();
      }, 1000).unref();
    });
    return closing;
  };
  const onAbort = (): void => void close();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (options.token === undefined && !o.quiet) {
    const where = formatHostPort(addr.address, addr.port);
    process.stderr.write(`shoal repl: listening on ${where}; connect with: shoal repl ${where} --token ${o.token}\n`);
  }
  return Object.freeze({
    port: addr.port,
    host: addr.address,
    token: o.token,
    stats: () => Object.freeze({ clients: sessions.size, accepted, refused }),
    close,
    [Symbol.asyncDispose]: close,
  });
}
