/**
 * The per-request context of a fetch-style handler (`ctx`: signal, remote address, waitUntil) and
 * the error a body read rejects with past maxBodySize. Apart from request.ts so that the main
 * thread's `import 'shoal'` (which exports these) does not build the lazy Request, whose module
 * touches the global `Request` and so loads Node's bundled undici.
 *
 * Runs on a pool worker, inside the HTTP host (host.ts); the classes are exported on every thread.
 * Owns per request: the AbortController behind `ctx.signal` (made only when asked for).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a body read rejects with once the body passed maxBodySize; the client got a 413. */
export class PayloadTooLargeError extends Error {
  readonly code = 'ERR_SHOAL_PAYLOAD_TOO_LARGE';
  readonly status = 413;
  constructor(limit: number) {
    super(`request body larger than maxBodySize (${limit} bytes)`);
    this.name = 'PayloadTooLargeError';
  }
}

/** What the host gives each exchange. */
export interface ExchangeHost {
  /** maxBodySize */
  readonly maxBodySize: number;
  /** answer `status` with `Connection: close` unless already answered */
  reject(res: ServerResponse, status: number, text: string): void;
  /** a waitUntil promise rejected */
  background(e: unknown, req: IncomingMessage): void;
}

/**
 * The second argument of a fetch-style handler.
 *
 * @example
 * export default {
 *   async fetch(req: Request, ctx: HttpContext) {
 *     ctx.waitUntil(audit(ctx.remoteAddress));
 *     return new Response(await slowThing({ signal: ctx.signal }));
 *   },
 * };
 */
export class HttpContext {
  /** @internal */ readonly _in: IncomingMessage;
  /** @internal */ readonly _res: ServerResponse;
  /** @internal */ readonly _host: ExchangeHost;
  private ac: AbortController | undefined;

  /** @internal made by the HTTP host per request */
  constructor(inc: IncomingMessage, res: ServerResponse, host: ExchangeHost) {
    this._in = inc;
    this._res = res;
    this._host = host;
  }

  /** Aborts when the client goes away before the response is complete (or the server closes it). */
  get signal(): AbortSignal {
    if (this.ac === undefined) {
      const ac = new AbortController();
      this.ac = ac;
      const res = this._res;
      const onClose = (): void => {
        if (!res.writableFinished) ac.abort(new DOMException('the client closed the connection', 'AbortError'));
      };
      if (res.closed) onClose();
      else res.once('close', onClose);
    }
    return this.ac.signal;
  }

  /** The client's address as the server saw it. */
  get remoteAddress(): string {
    return this._in.socket.remoteAddress ?? '';
  }

  /** The client's port. */
  get remotePort(): number {
    return this._in.socket.remotePort ?? 0;
  }

  /**
   * Keep working after the response went out (logging, cache fills). A rejection reaches the
   * server's onError hook. Such work runs until it ends or the runtime closes.
   */
  waitUntil(p: Promise<unknown>): void {
    Promise.resolve(p).catch((e: unknown) => this._host.background(e, this._in));
  }
}
