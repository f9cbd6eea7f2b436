/**
 * The target of a load run: the URL checked, and the bytes of one request built once (every
 * loader sends the same ones), plus the option checks shared with main.ts.
 *
 * Runs on the main thread. Owns nothing.
 */
import { isIP } from 'node:net';
import { given, HarnessOptionError } from '../errors.js';
import type { LoadTestOptions, Target } from './job.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Check the URL and build the request bytes once (every loader sends the same ones). */
export function parseTarget(o: LoadTestOptions): Target {
  if (typeof o.url !== 'string') throw new HarnessOptionError(`the target must be a URL string, got ${typeof o.url}`);
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new HarnessOptionError(
      `'${o.url}' is not a URL (expected http://host:port/path, https://host:port/path or tcp://host:port)`,
    );
  }
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (u.protocol === 'tcp:') {
    if (!u.port) throw new HarnessOptionError(`'${o.url}' has no port (tcp://host:port)`);
    if (o.payload === undefined || o.payload.length === 0) {
      throw new HarnessOptionError(`a tcp:// target needs a payload (--payload S): the bytes of one request`);
    }
    const request = typeof o.payload === 'string' ? Buffer.from(o.payload) : o.payload;
    const expectBytes = o.responseBytes ?? request.length;
    posInt(expectBytes, 'responseBytes');
    return {
      kind: 'tcp',
      host: hostname, // a name is resolved once by runLoad (resolve.ts), not per connection
      port: Number(u.port),
      request,
      expectBytes,
      head: false,
      tls: false,
      servername: '',
      insecure: false,
    };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new HarnessOptionError(
      `unsupported scheme '${u.protocol}' in '${o.url}': shoal load speaks http://, https:// (HTTP/1.1) and tcp://`,
    );
  }
  const tls = u.protocol === 'https:';
  const method = (o.method ?? (o.body !== undefined ? 'POST' : 'GET')).toUpperCase();
  if (!TOKEN.test(method)) throw new HarnessOptionError(`'${o.method}' is not an HTTP method`);
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  // pairs, or anything iterable as pairs (a Headers, a Map), or a plain object of names
  const h = o.headers as unknown;
  const headers: ReadonlyArray<readonly [string, string]> =
    h !== null && typeof h === 'object' && typeof (h as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? [...(h as Iterable<readonly [string, string]>)]
      : Object.entries((h ?? {}) as Record<string, string>);
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`];
  const have = new Set(headers.map(([k]) => k.toLowerCase()));
  if (!have.has('host')) lines.push(`Host: ${u.host}`);
  for (const [k, v] of headers) {
    if (!TOKEN.test(k)) throw new HarnessOptionError(`'${k}' is not a valid header name`);
    if (/[\r\n]/.test(v)) throw new HarnessOptionError(`the value of header '${k}' contains a line break`);
    lines.push(`${k}: ${v}`);
  }
  if (body !== undefined && !have.has('content-length')) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  const request = body ? Buffer.concat([head, body]) : head;
  return {
    kind: 'http',
    host: hostname, // a name is resolved once by runLoad (resolve.ts), not per connection
    port: Number(u.port || (tls ? 443 : 80)),
    request,
    expectBytes: 0,
    head: method === 'HEAD',
    tls,
    servername: tls && !isIP(hostname) ? hostname : '',
    insecure: tls && o.insecure === true,
  };
}

export function posInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new HarnessOptionError(`${name} must be a positive integer, got ${given(n)}`);
  return n;
}

export function posNum(n: number, name: string): number {
  if (typeof n !== 'number' || !(n > 0) || n === Infinity) {
    throw new HarnessOptionError(`${name} must be a positive number, got ${given(n)}`);
  }
  return n;
}
