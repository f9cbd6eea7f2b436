/**
 * The loader's per-request socket I/O without node:net's stream machinery: a response is read
 * by a function set as the socket handle's own `onread` (the native side calls it directly, with
 * the byte count in Node's shared `streamBaseState`), and a request is written by the handle's
 * `writeBuffer` with one reused `WriteWrap` while writes complete at once. Anything else (end
 * of stream, an error, a write the kernel could not take at once) goes back to node:net's own
 * code, which stays in charge of the socket's life: connect, errors, close.
 *
 * Why: a loader's thread spends most of its user time on Node's per-read and per-write stream
 * layers (`onStreamRead`, the Writable state machine, a `WriteWrap` and a `nextTick` per write);
 * figures in docs/measurements.md ("`shoal load`: the loader's socket I/O on the handle").
 *
 * Runs on a pool worker, inside the loader (src/harness/load/worker.ts). Owns one WriteWrap per
 * thread (replaced when a write goes asynchronous, since libuv then holds it). Plain TCP only
 * (a TLS socket's handle is a TLSWrap: the loader keeps node:tls's path there), and only where
 * Node's internal stream binding looks as expected (`process.binding('stream_wrap')`, deprecated
 * as DEP0111 but present), and not under a `--pending-deprecation` flag (it would warn); elsewhere
 * `fastIo()` is undefined and the loader uses node:net as before.
 */
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What the loader uses of a socket's native handle (a TCPWrap). */
export interface StreamHandle {
  onread: (this: StreamHandle, ab?: ArrayBuffer) => unknown;
  writeBuffer(req: object, data: Uint8Array): number;
}

interface StreamWrapBinding {
  WriteWrap: new () => { oncomplete?: (status: number) => void; handle?: unknown };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** The handle-level I/O, or undefined where Node's binding is not the expected one. */
export interface FastIo {
  /**
   * Route reads of `sock` (opened with node:net's `onread: { buffer }` option) to
   * `onBytes(n)` while n > 0 and the socket is not destroyed; the rest to node:net.
   */
  takeReads(sock: Socket, onBytes: (n: number) => void): StreamHandle | undefined;
  /**
   * Write `data` on `sock`'s handle: true when written (or queued by libuv); false when it
   * must go through `sock.write` instead (no handle, or the write failed at once: node:net's
   * path then reports the error as it always does).
   */
  write(sock: Socket, handle: StreamHandle, data: Uint8Array): boolean;
}

let cached: FastIo | null | undefined;

/** The fast path of this thread (built once), or undefined (see the module comment). */
export function fastIo(): FastIo | undefined {
  if (cached === undefined) cached = build();
  return cached ?? undefined;
}

function build(): FastIo | null {
  // with --pending-deprecation on the command line, process.binding warns: node:net's path then,
  // rather than a warning in a user's load run (given in NODE_OPTIONS it is not seen here: one
  // DeprecationWarning; under --throw-deprecation the throw is caught below)
  if (process.execArgv.includes('--pending-deprecation')) return null;
  let b: StreamWrapBinding;
  try {
    // deprecated (DEP0111) but present on every Node this package runs on; checked below
    const binding = (process as unknown as { binding(name: string): unknown }).binding;
    b = binding('stream_wrap') as StreamWrapBinding;
  } catch {
    return null;
  }
  if (
    typeof b?.WriteWrap !== 'function' ||
    !(b.streamBaseState instanceof Int32Array) ||
    typeof b.kReadBytesOrError !== 'number' ||
    typeof b.kLastWriteWasAsync !== 'number'
  )
    return null;
  const state = b.streamBaseState;
  const kRead = b.kReadBytesOrError;
  const kAsync = b.kLastWriteWasAsync;
  const WriteWrap = b.WriteWrap;
  /** a write that went asynchronous: its completion, only to surface an error */
  const oncomplete = function (this: { sock?: Socket }, status: number): void {
    if (status < 0) {
      const code = getSystemErrorName(status);
      this.sock?.destroy(Object.assign(new Error(`write ${code}`), { errno: status, code, syscall: 'write' }));
    }
  };
  let req = new WriteWrap();
  return {
    takeReads(sock, onBytes) {
      const h = (sock as unknown as { _handle?: StreamHandle })._handle;
      if (h === undefined || h === null || typeof h.onread !== 'function' || typeof h.writeBuffer !== 'function')
        return undefined;
      const nodeOnread = h.onread;
      h.onread = function (this: StreamHandle, ab?: ArrayBuffer): unknown {
        // pairs with: Node's StreamBase::CallJSOnreadMethod, which stores nread before the call
        const n = state[kRead]!;
        if (n > 0 && !sock.destroyed) {
          onBytes(n);
          return undefined;
        }
        return nodeOnread.call(this, ab);
      };
      return h;
    },
    write(sock, handle, data) {
      if ((sock as unknown as { _handle?: unknown })._handle !== handle) return false;
      const err = handle.writeBuffer(req, data);
      if (err !== 0) return false;
      // pairs with: Node's StreamBase::SetWriteResult (set by writeBuffer before it returns)
      if (state[kAsync] !== 0) {
        // libuv holds this WriteWrap until the write completes: the next writes take a new one
        const held = req as { oncomplete?: (status: number) => void; sock?: Socket };
        held.sock = sock;
        held.oncomplete = oncomplete;
        req = new WriteWrap();
      }
      return true;
    },
  };
}
