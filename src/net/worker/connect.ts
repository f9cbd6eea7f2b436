/**
 * `connect()`: an outbound TCP connection from a worker. Workers could open sockets of their own,
 * but going through the reactor gives the same Conn as an accepted connection (same rings, same
 * backpressure, same readiness waits) and keeps every socket on the one thread that polls them.
 *
 * Runs on a worker thread whose net host is attached (pool workers). Owns nothing.
 */
import { rangeError as rangeErr, typeError } from '../../core/args.js';
import { ClosedError } from '../../core/errors.js';
import { MAX_SLOT_RING, MIN_SLOT_RING } from '../conn-slot.js';
import { isPowerOfTwo } from '../../shm/layout.js';
import { DEFAULT_RING_BYTES } from '../protocol.js';
import type { Conn } from './conn.js';
import { netHost } from './host.js';

/** Options of `connect()`. */
export interface ConnectOptions {
  port: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Give up after this many ms (rejects with TimeoutError). Default: no limit. */
  timeout?: number;
  /** Cancels the attempt (rejects with CancelledError); the ambient task signal counts too. */
  signal?: AbortSignal;
  /** Bytes of each of the connection's rings (power of two, 1 KiB .. 16 MiB). Default 32 KiB. */
  ringBytes?: number;
}

/**
 * Connect to `host:port` through the reactor and resolve with a Conn. Rejects with ConnectError
 * (`errno` 'ECONNREFUSED', 'ENOTFOUND'...), TimeoutError, or CancelledError.
 *
 * @example
 * const conn = await connect({ host: '127.0.0.1', port, timeout: 2000 });
 * await conn.write('PING\r\n');
 * const reply = await conn.read();
 * conn.close();
 */
export function connect(options: ConnectOptions): Promise<Conn> {
  if (options === null || typeof options !== 'object') {
    throw typeError('options must be an object');
  }
  const { port, host = '127.0.0.1', timeout = 0, ringBytes = DEFAULT_RING_BYTES } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw rangeErr(`port must be an integer in [1, 65535], got ${String(port)}`);
  if (typeof host !== 'string' || host === '') throw typeError('host must be a non-empty string');
  if (typeof timeout !== 'number' || !(timeout >= 0) || timeout > 0x7fffffff)
    throw rangeErr(`timeout must be a number of ms >= 0, got ${String(timeout)}`);
  if (!isPowerOfTwo(ringBytes) || ringBytes < MIN_SLOT_RING || ringBytes > MAX_SLOT_RING) {
    throw rangeErr(
      `ringBytes must be a power of two in [${MIN_SLOT_RING}, ${MAX_SLOT_RING}], got ${String(ringBytes)}`,
    );
  }
  const h = netHost();
  if (!h) {
    return Promise.reject(
      new ClosedError(
        'connect() runs on shoal pool workers (no reactor is attached to this thread; on the main thread use node:net)',
      ),
    );
  }
  return h.connect(host, port, Math.ceil(timeout), ringBytes, options.signal);
}
