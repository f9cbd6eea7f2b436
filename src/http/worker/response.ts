/**
 * The fetch-style response side on a worker: a lazy `Response` and the writer that sends what a
 * handler returned through node:http's ServerResponse.
 *
 * undici's `new Response` costs ~7 µs on Node 20. While a worker serves fetch-style handlers,
 * `globalThis.Response` is LazyResponse (as @hono/node-server does): `new Response(body, init)`
 * only keeps its arguments, and the writer sends a string, bytes, a ReadableStream or an async
 * iterable with the init's status and headers directly. Anything else (`res.headers`, `clone()`,
 * `text()`, a FormData body...) builds the real undici Response once and goes on from it.
 * `x instanceof Response` holds for both kinds; `Response.json()` is lazy too.
 *
 * Runs on a pool worker. Owns nothing across requests.
 */
import type { ServerResponse } from 'node:http';

const NativeResponse = globalThis.Response;
const kBody = Symbol('shoal.body');
const kInit = Symbol('shoal.init');
const kReal = Symbol('shoal.real');

/** A Response that keeps its arguments until something needs the real one. */
export class LazyResponse {
  [kBody]: unknown;
  [kInit]: ResponseInit | undefined;
  [kReal]: Response | undefined;

  constructor(body?: unknown, init?: ResponseInit) {
    this[kBody] = body ?? null;
    this[kInit] = init;
    this[kReal] = undefined;
  }

  static [Symbol.hasInstance](x: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: a subclass's instanceof checks its own prototype
    if (this !== LazyResponse) return Function.prototype[Symbol.hasInstance].call(this, x);
    return Function.prototype[Symbol.hasInstance].call(NativeResponse, x);
  }

  /** Response.json(data, init), lazily. */
  static json(data: unknown, init?: ResponseInit): Response {
    if (init?.headers === undefined) {
      return new LazyResponse(JSON.stringify(data), {
        status: init?.status,
        statusText: init?.statusText,
        headers: { 'content-type': 'application/json' },
      }) as unknown as Response;
    }
    return NativeResponse.json(data, init);
  }

  static redirect(url: string | URL, status?: number): Response {
    return NativeResponse.redirect(url, status as 301);
  }

  static error(): Response {
    return NativeResponse.error();
  }

  get status(): number {
    return this[kReal]?.status ?? this[kInit]?.status ?? 200;
  }

  get ok(): boolean {
    const s = this.status;
    return s >= 200 && s <= 299;
  }

  get statusText(): string {
    return this[kReal]?.statusText ?? this[kInit]?.statusText ?? '';
  }
}

/** The real Response behind `r` (built once). */
function real(r: LazyResponse): Response {
  let n = r[kReal];
  if (n === undefined) {
    n = new NativeResponse(r[kBody] as ConstructorParameters<typeof NativeResponse>[0], r[kInit]);
    r[kReal] = n;
  }
  return n;
}

for (const k of Reflect.ownKeys(NativeResponse.prototype)) {
  if (k === 'constructor' || Object.hasOwn(LazyResponse.prototype, k)) continue;
  const d = Object.getOwnPropertyDescriptor(NativeResponse.prototype, k)!;
  if (typeof d.value === 'function') {
    const f = d.value as (...a: unknown[]) => unknown;
    Object.defineProperty(LazyResponse.prototype, k, {
      value(this: LazyResponse, ...a: unknown[]) {
        return f.apply(real(this), a);
      },
      writable: true,
      configurable: true,
    });
  } else if (d.get) {
    const g = d.get;
    Object.defineProperty(LazyResponse.prototype, k, {
      get(this: LazyResponse) {
        return g.call(real(this));
      },
      configurable: true,
    });
  }
}
Object.setPrototypeOf(LazyResponse.prototype, NativeResponse.prototype);
Object.setPrototypeOf(LazyResponse, NativeResponse);

let installed = false;
/** Make `Response` on this worker the lazy one (idempotent). */
export function installLazyResponse(): void {
  if (installed) return;
  installed = true;
  (globalThis as { Response: unknown }).Response = LazyResponse;
}

/** Thrown (to the 500 path) when a handler returns something that is not a Response. */
export class NotAResponseError extends TypeError {
  readonly code = 'ERR_SHOAL_NOT_A_RESPONSE';
}

function setHeaders(res: ServerResponse, h: unknown): void {
  if (h === undefined || h === null) return;
  if (h instanceof NativeHeaders) {
    for (const [k, v] of h) if (k !== 'set-cookie') res.setHeader(k, v);
    const cookies = h.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  } else if (Array.isArray(h) || typeof (h as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of h as Iterable<[string, string]>) res.appendHeader(k, v);
  } else {
    const o = h as Record<string, string>;
    for (const k in o) res.setHeader(k, o[k]!);
  }
}
const NativeHeaders = globalThis.Headers;

/** Resolves on 'drain' or 'close', whichever comes first. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function pump(res: ServerResponse, body: AsyncIterable<unknown>): Promise<void> {
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (res.destroyed) return;
      const r = await it.next();
      if (r.done) break;
      const c = r.value;
      const ok = res.write(typeof c === 'string' ? c : (c as Uint8Array));
      if (!ok && !res.destroyed) await drained(res);
    }
  } catch (e) {
    res.destroy(); // headers went out: the client sees a cut response
    throw e;
  } finally {
    if (res.destroyed) await it.return?.();
  }
  res.end();
}

/**
 * Send what a fetch-style handler returned. Resolves when the body is handed over (streams:
 * written with backpressure); rejects when it is not a Response or its body stream fails.
 */
export function writeResponse(res: ServerResponse, r: unknown): Promise<void> | undefined {
  let status: number;
  let headers: unknown;
  let body: unknown;
  // `instanceof LazyResponse` holds for native Responses too (see hasInstance): test the slot
  const lazy = r !== null && typeof r === 'object' && kBody in r ? (r as LazyResponse) : undefined;
  if (lazy !== undefined && lazy[kReal] === undefined) {
    const r = lazy;
    const init = r[kInit];
    body = r[kBody];
    if (
      body !== null &&
      typeof body !== 'string' &&
      !(body instanceof Uint8Array) &&
      !(body instanceof ReadableStream) &&
      !(body instanceof ArrayBuffer) &&
      typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function'
    ) {
      return writeResponse(res, real(r)); // Blob, FormData, URLSearchParams...: undici knows their types
    }
    status = init?.status ?? 200;
    if (init?.statusText) res.statusMessage = init.statusText;
    headers = init?.headers;
    setHeaders(res, headers);
    if (typeof body === 'string' && !res.hasHeader('content-type'))
      res.setHeader('content-type', 'text/plain;charset=UTF-8');
  } else if (r instanceof NativeResponse) {
    const n = lazy !== undefined ? real(lazy) : r;
    status = n.status;
    if (n.statusText) res.statusMessage = n.statusText;
    setHeaders(res, n.headers);
    body = n.body;
  } else {
    throw new NotAResponseError(
      `the fetch handler returned ${r === null ? 'null' : typeof r}, not a Response (or a promise of one)`,
    );
  }
  res.statusCode = status;
  if (body === null || body === undefined) {
    res.end();
    return undefined;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    // node:http sends no Content-Length for HEAD on its own; say what a GET would carry
    if (res.req?.method === 'HEAD' && !res.hasHeader('content-length'))
      res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    res.end(body);
    return undefined;
  }
  if (body instanceof ArrayBuffer) {
    res.end(Buffer.from(body));
    return undefined;
  }
  if (res.req?.method === 'HEAD') {
    // no body goes out for HEAD: do not make the stream produce one
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    else (body as AsyncIterable<unknown>)[Symbol.asyncIterator]().return?.();
    res.end();
    return undefined;
  }
  return pump(res, body as AsyncIterable<unknown>);
}
