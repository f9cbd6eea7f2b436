/**
 * The fetch-style request side on a worker: the per-request `ctx` (HttpContext) and a lazy
 * `Request` over node:http's IncomingMessage. Building undici's `new Request` costs ~8 µs on
 * Node 20 (about a third of a hello-world request), so LazyRequest answers `method`, `url`,
 * `headers.get()`, `signal` and the body readers (`text()`, `json()`, `arrayBuffer()`, `bytes()`,
 * `body`) straight from the IncomingMessage, and builds the real Request only for what it does
 * not cover (`clone()`, `formData()`, `blob()`, `cache`...). `instanceof Request` holds. The same
 * idea as @hono/node-server v2 and srvx.
 *
 * Runs on a pool worker, inside the HTTP host (host.ts). Owns per request: the AbortController
 * behind `ctx.signal` (made only when asked for) and the body's byte count against maxBodySize.
 */
import type { IncomingMessage } from 'node:http';
import { type HttpContext, PayloadTooLargeError } from './context.js';

const NativeRequest = globalThis.Request;
const NativeHeaders = globalThis.Headers;

export { HttpContext, PayloadTooLargeError, type ExchangeHost } from './context.js';

/** GET and HEAD requests have no body (fetch's rule). */
function noBody(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * What a body read rejects with: node:http's `aborted` (ECONNRESET) when the client left
 * mid-body becomes the AbortError that `ctx.signal` carries, so a handler sees one kind of
 * "client gone" and the host does not report it as a handler bug.
 */
function readError(e: unknown, inc: IncomingMessage): unknown {
  if (!inc.complete && (e as { code?: unknown })?.code === 'ECONNRESET')
    return new DOMException('the client closed the connection', 'AbortError');
  return e;
}

/** Read the whole body into one Buffer, counting against the limit. */
function readAll(x: HttpContext): Promise<Buffer> {
  const inc = x._in;
  const limit = x._host.maxBodySize;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      reject(e);
    };
    inc.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        x._host.reject(x._res, 413, 'Payload Too Large');
        fail(new PayloadTooLargeError(limit));
        inc.removeAllListeners('data');
        inc.resume();
        return;
      }
      chunks.push(c);
    });
    inc.once('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
    inc.once('error', (e) => fail(readError(e, inc) as Error));
    inc.once('close', () => {
      if (!inc.complete) fail(new DOMException('the client closed the connection', 'AbortError'));
    });
  });
}

/** The body as a web ReadableStream with backpressure (pauses the IncomingMessage). */
function bodyStream(x: HttpContext): ReadableStream<Uint8Array> {
  const inc = x._in;
  const limit = x._host.maxBodySize;
  let total = 0;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(c): void {
        const fail = (e: unknown): void => {
          if (done) return;
          done = true;
          c.error(e);
        };
        inc.on('data', (chunk: Buffer) => {
          if (done) return;
          total += chunk.length;
          if (total > limit) {
            x._host.reject(x._res, 413, 'Payload Too Large');
            fail(new PayloadTooLargeError(limit));
            inc.resume();
            return;
          }
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          if ((c.desiredSize ?? 0) <= 0) inc.pause();
        });
        inc.once('end', () => {
          if (done) return;
          done = true;
          c.close();
        });
        inc.once('error', (e) => fail(readError(e, inc)));
        inc.once('close', () => {
          if (!inc.complete) fail(new DOMException('the client closed the connection', 'AbortError'));
        });
      },
      pull(): void {
        inc.resume();
      },
      cancel(): void {
        done = true;
        inc.resume(); // drain what the client still sends; the response can still go out
      },
    },
    { highWaterMark: 64 * 1024, size: (c) => c.byteLength },
  );
}

const unusable = (): Promise<never> => Promise.reject(new TypeError('Body is unusable: it was already read'));

/**
 * Request headers answered from node:http's parsed header object; anything beyond get/has
 * builds a real Headers (instanceof Headers holds either way).
 */
class LazyHeaders {
  private readonly inc: IncomingMessage;
  private real: Headers | undefined;
  constructor(inc: IncomingMessage) {
    this.inc = inc;
  }
  /** @internal the real Headers */
  native(): Headers {
    if (this.real === undefined) {
      const h = new NativeHeaders();
      const raw = this.inc.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
      this.real = h;
    }
    return this.real;
  }
  get(name: string): string | null {
    if (this.real !== undefined) return this.real.get(name);
    const k = String(name).toLowerCase();
    if (k === 'set-cookie' || k === 'cookie') return this.native().get(k);
    const v = this.inc.headers[k];
    if (v === undefined || k === '__proto__') return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    if (this.real !== undefined) return this.real.has(name);
    const k = String(name).toLowerCase();
    return k !== '__proto__' && Object.hasOwn(this.inc.headers, k);
  }
}
for (const k of Reflect.ownKeys(NativeHeaders.prototype)) {
  if (k === 'constructor' || k === 'get' || k === 'has') continue;
  const d = Object.getOwnPropertyDescriptor(NativeHeaders.prototype, k)!;
  if (typeof d.value === 'function') {
    const f = d.value as (...a: unknown[]) => unknown;
    Object.defineProperty(LazyHeaders.prototype, k, {
      value(this: LazyHeaders, ...a: unknown[]) {
        return f.apply(this.native(), a);
      },
      writable: true,
      configurable: true,
    });
  }
}
Object.setPrototypeOf(LazyHeaders.prototype, NativeHeaders.prototype);

/**
 * A Request over an IncomingMessage, built lazily (see the module header).
 *
 * @example
 * const body = await req.json(); // read through shoal: counted against maxBodySize
 */
export class LazyRequest {
  private readonly x: HttpContext;
  private readonly origin: string;
  private u: string | undefined;
  private h: LazyHeaders | undefined;
  private used = false;
  private stream: ReadableStream<Uint8Array> | null | undefined;
  private real: Request | undefined;

  constructor(x: HttpContext, origin: string) {
    this.x = x;
    this.origin = origin;
  }

  get method(): string {
    return this.x._in.method ?? 'GET';
  }

  get url(): string {
    this.u ??= this.origin + (this.x._in.url ?? '/');
    return this.u;
  }

  get headers(): Headers {
    this.h ??= new LazyHeaders(this.x._in);
    return this.h as unknown as Headers;
  }

  get signal(): AbortSignal {
    return this.x.signal;
  }

  /** The body as a ReadableStream (null for GET and HEAD); reading it counts against maxBodySize. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.real) return this.real.body;
    if (this.stream === undefined) this.stream = noBody(this.x._in.method) ? null : bodyStream(this.x);
    return this.stream;
  }

  get bodyUsed(): boolean {
    if (this.real) return this.real.bodyUsed;
    return this.used || this.stream?.locked === true;
  }

  /** @internal the real undici Request (built once, on demand) */
  native(): Request {
    if (this.real === undefined) {
      const method = this.method;
      const body = this.body;
      if (body !== null && this.used) throw new TypeError('Body is unusable: it was already read');
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        headers: (this.headers as unknown as LazyHeaders).native(),
        signal: this.x.signal,
      };
      if (body !== null) {
        init.body = body;
        init.duplex = 'half';
      }
      this.real = new NativeRequest(this.url, init);
    }
    return this.real;
  }

  private bytesOnce(): Promise<Buffer> {
    if (this.real) return this.real.arrayBuffer().then((b) => Buffer.from(b));
    if (this.used || this.stream?.locked === true) return unusable();
    this.used = true;
    if (noBody(this.x._in.method)) return Promise.resolve(Buffer.alloc(0));
    return readAll(this.x);
  }

  text(): Promise<string> {
    return this.bytesOnce().then((b) => b.toString('utf8'));
  }

  json(): Promise<unknown> {
    return this.bytesOnce().then((b) => JSON.parse(b.toString('utf8')));
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytesOnce().then((b) =>
      b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
        ? (b.buffer as ArrayBuffer)
        : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
    );
  }

  bytes(): Promise<Uint8Array> {
    return this.bytesOnce().then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }
}
for (const k of Reflect.ownKeys(NativeRequest.prototype)) {
  if (k === 'constructor' || Object.hasOwn(LazyRequest.prototype, k)) continue;
  const d = Object.getOwnPropertyDescriptor(NativeRequest.prototype, k)!;
  if (typeof d.value === 'function') {
    const f = d.value as (...a: unknown[]) => unknown;
    Object.defineProperty(LazyRequest.prototype, k, {
      value(this: LazyRequest, ...a: unknown[]) {
        return f.apply(this.native(), a);
      },
      writable: true,
      configurable: true,
    });
  } else if (d.get) {
    const g = d.get;
    Object.defineProperty(LazyRequest.prototype, k, {
      get(this: LazyRequest) {
        return g.call(this.native());
      },
      configurable: true,
    });
  }
}
Object.setPrototypeOf(LazyRequest.prototype, NativeRequest.prototype);
// `new Request(req, init)` and `fetch(req)` read undici's own slots of the Request they are
// given (its state, signal, headers, dispatcher: symbols undici does not export); a lazy one has
// none, so answer each from the real Request (as @hono/node-server does by unwrapping it)
for (const sym of Object.getOwnPropertySymbols(new NativeRequest('http://shoal.invalid/'))) {
  Object.defineProperty(LazyRequest.prototype, sym, {
    get(this: LazyRequest) {
      return (this.native() as unknown as Record<symbol, unknown>)[sym];
    },
    configurable: true,
  });
}
