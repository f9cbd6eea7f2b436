/**
 * The client side of `rt.repl()`: connect, send the token, and wait for the server's verdict; then
 * either talk to the REPL (`shoal repl`) or poll machine-readable views (`shoal top`, `.json`).
 *
 * Runs in the CLI process (any thread with sockets). Owns: the socket it opens.
 */
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { ReplRefusedError, inspectTypeError } from './errors.js';
import { CONNECTED, JSON_MARK, REFUSED } from './wire.js';

/** Options of `connectRepl`. */
export interface ReplConnectOptions {
  host: string;
  port: number;
  token: string;
  /** Give up connecting (and waiting for the verdict) after this many ms (default 10000). */
  timeout?: number;
  signal?: AbortSignal;
}

/** An authenticated connection: the socket, the server's greeting, and output that followed it. */
export interface ReplConnection {
  readonly socket: Socket;
  /** the server's first line ("shoal repl: connected to pid ...") */
  readonly banner: string;
  /** output received after the banner, not yet handed out (usually the first prompt) */
  readonly rest: string;
}

/**
 * Connect and authenticate. Rejects with ReplRefusedError (ERR_SHOAL_REPL_REFUSED) when the
 * server refuses the token, with the socket error when there is no server.
 *
 * @example
 * const { socket, banner } = await connectRepl({ host: '127.0.0.1', port: 7070, token });
 */
export function connectRepl(o: ReplConnectOptions): Promise<ReplConnection> {
  if (typeof o.token !== 'string' || o.token === '') throw inspectTypeError('token must be a non-empty string');
  const timeout = o.timeout ?? 10_000;
  return new Promise<ReplConnection>((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port, noDelay: true });
    const decoder = new StringDecoder('utf8');
    let text = '';
    const fail = (e: Error): void => {
      done();
      socket.destroy();
      reject(e);
    };
    const onError = (e: Error): void => fail(e);
    const onAbort = (): void => fail(o.signal?.reason instanceof Error ? o.signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => fail(new Error(`no answer from the REPL at ${o.host}:${o.port} within ${timeout} ms`)),
      timeout,
    );
    const onData = (b: Buffer): void => {
      text += decoder.write(b);
      const nl = text.indexOf('\n');
      if (nl < 0) {
        if (text.length > 4096) fail(new Error('not a shoal REPL: no greeting line'));
        return;
      }
      const first = text.slice(0, nl);
      if (first.startsWith(REFUSED)) {
        fail(new ReplRefusedError(first.slice(REFUSED.length)));
        return;
      }
      if (!first.startsWith(CONNECTED)) {
        fail(new Error(`not a shoal REPL: it said '${first.slice(0, 200)}'`));
        return;
      }
      done();
      resolve({ socket, banner: first, rest: text.slice(nl + 1) });
    };
    const onClose = (): void =>
      fail(new ReplRefusedError(text ? text.trim() : 'the server closed the connection without a greeting'));
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      o.signal?.removeEventListener('abort', onAbort);
    };
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(`${o.token}\n`);
  });
}

/**
 * Machine-readable views over an authenticated connection: `await q.view('top')` sends
 * `.json top` and resolves with the parsed answer. One request at a time, in order.
 *
 * @example
 * const q = new ReplQuery(await connectRepl({ host, port, token }));
 * const frame = await q.view('top');
 */
export class ReplQuery {
  private readonly socket: Socket;
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private closedWith: Error | undefined;

  constructor(conn: ReplConnection) {
    this.socket = conn.socket;
    this.buf = conn.rest;
    this.socket.on('data', (b: Buffer) => this.onData(this.decoder.write(b)));
    const gone = (e?: Error): void => {
      this.closedWith ??= e ?? new Error('the REPL connection closed');
      for (const w of this.waiting.splice(0)) w.reject(this.closedWith);
    };
    this.socket.on('error', gone);
    this.socket.on('close', () => gone());
  }

  /** Ask for one view (`.json <name> [arg]`). */
  view(name: string, arg = ''): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`.json ${name}${arg ? ` ${arg}` : ''}\n`);
    });
  }

  /** Close the connection (pending views reject). */
  close(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  private onData(s: string): void {
    this.buf += s;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const at = line.indexOf(JSON_MARK);
      if (at < 0) continue;
      const w = this.waiting.shift();
      if (!w) continue;
      try {
        const v = JSON.parse(line.slice(at + JSON_MARK.length)) as { error?: string } | null;
        if (v && typeof v === 'object' && typeof v.error === 'string' && Object.keys(v).length === 1)
          w.reject(new Error(v.error));
        else w.resolve(v);
      } catch (e) {
        w.reject(e as Error);
      }
    }
  }
}
