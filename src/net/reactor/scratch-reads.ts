/**
 * Scratch reads: a reactor socket's incoming bytes land in one reused buffer and go straight to a
 * callback, with no Buffer allocated and no stream event per read.
 *
 * Runs on the main thread only (the reactor's sockets live there). Owns the one scratch buffer
 * every switched socket reads into: reads run one at a time on this thread, and each callback
 * consumes the bytes (copies them into a ring, or into a pending copy) before it returns.
 *
 * Why: on the default path every read makes libuv allocate a fresh 64 KiB backing store, wraps
 * the bytes in a Buffer, pushes it through the Readable machinery and emits 'data'. For a 64-byte
 * echo that was ~10% of the reactor's CPU (docs/measurements.md "scratch reads").
 *
 * How: this is what Node's documented `onread` option of `net.connect()` does (Socket's
 * constructor takes it too, in Node 20's code). `net.Server` offers no such option for the
 * sockets it accepts, so this switches an accepted socket the way Socket's constructor would have:
 * it sets the socket's own `kBuffer` / `kBufferCb` slots and calls `_handle.useUserBuffer()`.
 * Those are Node internals. The switch is checked, not assumed: when any piece is missing (another
 * Node version, a non-TCP handle, bytes already buffered) the socket stays on the public 'data'
 * path, which is equally correct. `pause()`, `resume()`, 'end', 'error' and 'close' behave as
 * usual on a switched socket (Node's onread contract). SHOAL_NET_SCRATCH_READS=0 turns it off.
 */
import type { Socket } from 'node:net';
import { settingOrDefault } from '../../config.js';

/** Called with the bytes of one read; they are valid only during the call. */
export type ScratchReader = (bytes: Buffer) => void;

/** libuv's own read size: one read takes at most this much. */
const SCRATCH_BYTES = 64 * 1024;

let scratch: Buffer | undefined;

/** The shape of the internals the switch needs. */
interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

function ownSymbol(socket: Socket, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(socket).find((s) => s.description === description);
}

/**
 * Route `socket`'s reads to `onBytes` through the scratch buffer. True when switched; false when
 * the caller must listen for 'data' instead. Call it before the socket's first read is delivered
 * (in the 'connection' or 'connect' handler).
 *
 * @example
 * if (!readIntoScratch(socket, (b) => ring.write(b))) socket.on('data', (b) => ring.write(b));
 */
export function readIntoScratch(socket: Socket, onBytes: ScratchReader): boolean {
  // read per connection, not per read: cheap, and a test can switch paths between servers
  if (!settingOrDefault('netScratchReads') || socket.readableLength > 0) return false;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle == null || typeof handle.useUserBuffer !== 'function') return false;
  const kBuffer = ownSymbol(socket, 'kBuffer');
  const kBufferCb = ownSymbol(socket, 'kBufferCb');
  const slots = socket as unknown as Record<symbol, unknown>;
  // Both null: a plain socket, not already reading into a user buffer.
  if (kBuffer === undefined || kBufferCb === undefined || slots[kBuffer] !== null || slots[kBufferCb] !== null)
    return false;
  const buf = (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
  slots[kBuffer] = buf;
  slots[kBufferCb] = (n: number): boolean => {
    onBytes(buf.subarray(0, n));
    return true; // keep reading: the caller pauses the socket itself when it has no room
  };
  handle.useUserBuffer(buf);
  return true;
}
