/**
 * Errors of the inspection tools, and the argument-check helpers they share.
 *
 * Runs on any thread (the service and the CLI clients). Owns nothing.
 */
import { ShoalError } from '../core/errors.js';

/**
 * A REPL server refused this client: wrong or missing token, or too many clients. `message` is
 * the server's reason.
 *
 * @example
 * try { await connectRepl({ host, port, token }) } catch (e) { if (e.code === 'ERR_SHOAL_REPL_REFUSED') ... }
 */
export class ReplRefusedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_REPL_REFUSED';
  constructor(message: string) {
    super(ReplRefusedError.code, message);
  }
}

/** A TypeError with code ERR_INVALID_ARG_TYPE. */
export function inspectTypeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A RangeError with code ERR_OUT_OF_RANGE. */
export function inspectRangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** `127.0.0.1:7000`, `[::1]:7000`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Split `HOST:PORT` (`[::1]:7000` for IPv6; a bare `PORT` means 127.0.0.1).
 *
 * @example
 * parseHostPort('127.0.0.1:7000'); // { host: '127.0.0.1', port: 7000 }
 */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
    throw inspectTypeError(`expected HOST:PORT (e.g. 127.0.0.1:7000), got '${s}'`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
