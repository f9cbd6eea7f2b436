/**
 * Conn — a TCP connection as a worker's green thread uses it. The socket stays on the main thread
 * (the reactor); a Conn reads the slot's INBOUND ring and writes its OUTBOUND ring
 * (src/net/conn-slot.ts), and parks on its worker's net host until the reactor marks the slot.
 *
 * Runs on a worker thread (the one whose net host opened it). Owns: the reader end of INBOUND,
 * the writer end of OUTBOUND, the WSTATE word of its slot, its waiting read, its other waits
 * (wake-list.ts) and its AbortSignal.
 *
 * Waiting: every wait is "check the rings and READY, then park until the host pokes this slot".
 * The check and the parking happen in one synchronous step and pokes come from a later turn of
 * the host's loop, so a mark cannot slip between them (net/conn-slot.ts DirtySet invariant 2 covers
 * the threads).
 */
import { stateError as stateErr, typeError as typeErr, typeName } from '../../core/args.js';
import { onCancel, throwIfCancelled } from '../../core/context.js';
import { ClosedError, ConnectionResetError } from '../../core/errors.js';
import { validateTimeout } from '../../core/op.js';
import { ByteRingReader } from '../../shm/byte-ring-reader.js';
import { ByteRingWriter } from '../../shm/byte-ring-writer.js';
import {
  ERRNO,
  ERRNO_CLOSED,
  ERRNO_RESET,
  ERRNO_TIMEOUT,
  ERROR,
  RD_CLOSED,
  READY,
  W_CLOSE,
  W_END,
  WR_CLOSED,
  WSTATE,
  WREADING,
  inboundRing,
  outboundRing,
  slotWords,
} from '../conn-slot.js';
import type { OpenMessage } from '../protocol.js';
import { connDuplex, type ConnDuplex } from './duplex.js';
import { WakeList } from './wake-list.js';

/** What a Conn needs from its worker's net host. */
export interface ConnHost {
  /** Mark slot `i` toward main and ring the reactor (batched per turn). */
  markMain(i: number): void;
  /** The Conn let go of slot `i`. */
  dropped(i: number): void;
  /**
   * Called on every read: true once the host's current turn has run long (it rang the reactor
   * early, host.ts NET_RING_WITHIN_MS). The read then waits for the host's next turn even when
   * bytes are there, so the handlers this turn did not wake get their turn too (fairness).
   */
  yieldRead(): boolean;
  /** Poke `c` at the start of the host's next turn (its read yielded). */
  deferRead(c: Conn): void;
}

/** Options of the waiting operations. */
export interface ConnWaitOptions {
  /** Rejects the wait with CancelledError (the ambient task signal counts too). */
  signal?: AbortSignal;
}

/** 1 ready, 0 timed out, -1 closed or failed (the seeds' poll-with-timeout answer). */
export type Readiness = 1 | 0 | -1;

/** No timeout, or one a timer can hold: the core API's rule (2^31 ms or more would fire at once). */
function checkTimeout(ms: unknown): number {
  if (ms === undefined) return Infinity;
  return validateTimeout(ms, 'timeoutMs');
}

/** The read waiting for bytes; poke() settles it with them (Conn.readAs). */
interface PendingRead {
  resolve(v: Buffer | null | IteratorResult<Buffer, undefined>): void;
  reject(e: unknown): void;
  /** settle with an iterator result (for await) rather than the bytes (read()) */
  asResult: boolean;
  /** unsubscribe from cancellation */
  off: () => void;
}

const noop = (): void => {};
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
function iterResult(b: Buffer | null): IteratorResult<Buffer, undefined> {
  return b === null ? DONE : { value: b, done: false };
}

/**
 * A TCP connection, seen from a worker.
 *
 * @example
 * export default async function echo(conn: Conn) {
 *   for await (const chunk of conn) await conn.write(chunk);
 *   await conn.end();
 * }
 */
export class Conn implements AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  /** @internal slot index in the worker's dirty sets */
  readonly index: number;
  private readonly host: ConnHost;
  private readonly words: Int32Array;
  private readonly inR: ByteRingReader;
  private readonly outW: ByteRingWriter;
  private readonly frameMax: number;
  private readonly readMax: number;
  /** readable()/writable() and blocked writes, parked until the next poke */
  private readonly wakes = new WakeList();
  private ac: AbortController | undefined;
  private acFired = false;
  private closed = false;
  private ended = false;
  /** the read waiting for bytes (one at a time) */
  private reader: PendingRead | undefined;
  private writeChain: Promise<void> | undefined;

  /** @internal made by the net host from an OPEN message */
  constructor(host: ConnHost, m: OpenMessage) {
    this.host = host;
    this.index = m.i;
    this.remoteAddress = m.remoteAddress;
    this.remotePort = m.remotePort;
    this.remoteFamily = m.remoteFamily;
    this.localAddress = m.localAddress;
    this.localPort = m.localPort;
    this.words = slotWords(m.slot);
    const mark = (): void => host.markMain(m.i);
    this.inR = new ByteRingReader(inboundRing(m.slot), { onWriterWaiting: mark });
    this.outW = new ByteRingWriter(outboundRing(m.slot), { onPublish: mark });
    this.frameMax = Math.min(this.outW.maxFrameLength, m.slot.ringBytes >> 2);
    this.readMax = m.slot.ringBytes;
  }

  /** Aborts (with ConnectionResetError or ClosedError) when the peer resets or the server closes it. */
  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      this.checkAbort();
    }
    return this.ac.signal;
  }

  /**
   * The next bytes from the peer (everything buffered, up to one ring), or null once the peer has
   * ended its side. Rejects with ConnectionResetError after a reset, ClosedError after close().
   * One read at a time.
   *
   * @example
   * let b; while ((b = await conn.read()) !== null) total += b.length;
   */
  read(options?: ConnWaitOptions): Promise<Buffer | null> {
    return this.readAs(false, options?.signal) as Promise<Buffer | null>;
  }

  /**
   * read(), or (asResult) the same as an iterator result. Fast path: the bytes are usually there
   * when a handler asks. Otherwise one promise, settled by poke() with the bytes themselves: no
   * wake-then-retry hop per chunk.
   */
  private readAs(
    asResult: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Buffer | null | IteratorResult<Buffer, undefined>> {
    if (this.reader !== undefined) return Promise.reject(stateErr('Conn.read: another read is in progress'));
    let b: Buffer | null | undefined;
    const yielding = this.host.yieldRead();
    try {
      if (!yielding) b = this.tryRead();
      if (b === undefined) throwIfCancelled(signal); // about to wait: an aborted signal never fires again
    } catch (e) {
      return Promise.reject(e);
    }
    if (b !== undefined) return Promise.resolve(asResult ? iterResult(b) : b);
    return new Promise((resolve, reject) => {
      const r: PendingRead = { resolve, reject, asResult, off: noop };
      r.off = onCancel(signal, (e) => {
        if (this.reader === r) {
          this.reader = undefined;
          this.parkReading(0);
        }
        reject(e);
      });
      this.reader = r;
      this.parkReading(1);
      if (yielding) this.host.deferRead(this);
    });
  }

  /** poke(): hand the waiting read its bytes (or end, or error) if there are any now. */
  private feedReader(): void {
    const r = this.reader!;
    let b: Buffer | null | undefined;
    try {
      b = this.tryRead();
    } catch (e) {
      this.reader = undefined;
      this.parkReading(0);
      r.off();
      r.reject(e);
      return;
    }
    if (b === undefined) return;
    this.reader = undefined;
    this.parkReading(0);
    r.off();
    r.resolve(r.asResult ? iterResult(b) : b);
  }

  /**
   * What `read()` would return now without waiting: bytes, null at end, undefined when nothing
   * is buffered yet. Throws on reset or after close().
   *
   * @example
   * const b = conn.tryRead(); if (b === undefined) await conn.readable(100);
   */
  tryRead(): Buffer | null | undefined {
    if (this.closed) throw new ClosedError('Conn.read after close()');
    const ready = Atomics.load(this.words, READY); // pairs with: net/reactor/connection.ts setReady / fail (Atomics.or READY)
    if ((ready & ERROR) !== 0) throw this.failure();
    const r = this.inR;
    if (!r.available()) {
      if ((ready & RD_CLOSED) === 0) return undefined;
      if (!r.available()) return null; // net/conn-slot.ts invariant 1: RD_CLOSED follows the last byte
    }
    return r.readBytes(this.readMax); // hands the room back; rings main when it paused the socket for it
  }

  /**
   * Queue bytes (a string is sent as UTF-8) for the peer. Resolves once they are all in the
   * outbound ring, so it waits while the peer reads slowly (backpressure). Writes keep their order.
   * Rejects with ConnectionResetError after a reset, ClosedError after end()/close().
   *
   * @example
   * await conn.write('hello\n');
   */
  write(data: Uint8Array | string, options?: ConnWaitOptions): Promise<void> {
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) bytes = data;
    else throw typeErr(`data must be a Uint8Array or a string, got ${typeName(data)}`);
    if (this.closed) return Promise.reject(new ClosedError('Conn.write after close()'));
    if (this.ended) return Promise.reject(new ClosedError('Conn.write after end()'));
    if (this.writeChain === undefined) {
      let off: number;
      try {
        throwIfCancelled(options?.signal);
        off = this.writeSome(bytes, 0);
      } catch (e) {
        return Promise.reject(e);
      }
      if (off === bytes.length) return Promise.resolve();
      return this.enqueue(() => this.writeRest(bytes, off, options?.signal));
    }
    return this.enqueue(() => this.writeRest(bytes, 0, options?.signal));
  }

  /**
   * Wait until bytes (or the end, or an error) can be read: 1 bytes are buffered, -1 the peer
   * ended, reset, or this side closed, 0 `timeoutMs` passed first.
   *
   * @example
   * if ((await conn.readable(5000)) === 0) { await conn.write('idle timeout\n'); conn.close(); }
   */
  async readable(timeoutMs?: number, options?: ConnWaitOptions): Promise<Readiness> {
    const deadline = performance.now() + checkTimeout(timeoutMs);
    for (;;) {
      if (this.closed) return -1;
      const ready = Atomics.load(this.words, READY); // pairs with: net/reactor/connection.ts setReady / fail
      if ((ready & ERROR) !== 0) return -1;
      if (this.inR.available()) return 1;
      if ((ready & RD_CLOSED) !== 0) return this.inR.available() ? 1 : -1;
      this.parkReading(1);
      try {
        if (!(await this.wakes.wait(deadline, options?.signal))) return 0;
      } finally {
        this.parkReading(0);
      }
    }
  }

  /**
   * Wait until a write of a few KiB would be taken at once: 1 yes, -1 the connection cannot be
   * written (reset, ended, closed), 0 `timeoutMs` passed first.
   *
   * @example
   * if ((await conn.writable(1000)) === 1) await conn.write(chunk);
   */
  async writable(timeoutMs?: number, options?: ConnWaitOptions): Promise<Readiness> {
    const deadline = performance.now() + checkTimeout(timeoutMs);
    const want = Math.min(this.frameMax, 4096);
    for (;;) {
      if (this.closed || this.ended) return -1;
      if ((Atomics.load(this.words, READY) & (ERROR | WR_CLOSED)) !== 0) return -1;
      if (this.outW.hasSpace(want)) return 1; // when not, WANT_SPACE is set: main pokes us on release
      if (!(await this.wakes.wait(deadline, options?.signal))) return 0;
    }
  }

  /**
   * Half-close: after the bytes already written, send FIN. Reads go on until the peer ends.
   * Resolves once every queued write is in the ring and the end is recorded.
   *
   * @example
   * await conn.write(reply); await conn.end();
   */
  async end(): Promise<void> {
    if (this.closed || this.ended) return;
    this.ended = true;
    if (this.writeChain) await this.writeChain.catch(() => {});
    if (this.closed) return;
    this.outW.flush();
    Atomics.or(this.words, WSTATE, W_END); // net/conn-slot.ts invariant 2; pairs with: net/reactor/connection.ts service (Atomics.load WSTATE)
    this.host.markMain(this.index);
  }

  /**
   * Let go of the connection: bytes already written still go out, then the socket closes.
   * Pending reads and writes reject with ClosedError. Idempotent.
   *
   * @example
   * try { await serve(conn) } finally { conn.close() }
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outW.flush();
    this.host.dropped(this.index);
    Atomics.or(this.words, WSTATE, W_CLOSE); // net/conn-slot.ts invariant 2: last touch of the slot
    this.host.markMain(this.index);
    this.poke();
  }

  /** `await using conn = await connect(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Chunks until the peer ends; a reset throws out of the loop.
   *
   * @example
   * for await (const chunk of conn) hash.update(chunk);
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    // A plain iterator, not an async generator: one promise per chunk instead of three.
    const it: AsyncIterableIterator<Buffer> = {
      next: () => this.readAs(true, undefined) as Promise<IteratorResult<Buffer, undefined>>,
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * A node:stream Duplex over this connection, for code that wants streams (pipeline, parsers).
   *
   * @example
   * await pipeline(conn.toDuplex(), transform, conn.toDuplex());
   */
  toDuplex(): ConnDuplex {
    return connDuplex(this);
  }

  /** Tell a closing server whether this handler waits for input (conn-slot.ts invariant 6). */
  private parkReading(v: 0 | 1): void {
    Atomics.store(this.words, WREADING, v); // pairs with: reactor/connection.ts idle (Atomics.load)
  }

  /** @internal the host saw this slot marked: wake every waiter; they re-check. */
  poke(): void {
    this.checkAbort();
    if (this.reader !== undefined) this.feedReader();
    this.wakes.wakeAll();
  }

  private checkAbort(): void {
    // Runs on every poke: a plain flag, since AbortSignal.aborted is a slow (validating) getter.
    if (this.ac === undefined || this.acFired) return;
    if ((Atomics.load(this.words, READY) & ERROR) === 0) return; // pairs with: net/reactor/connection.ts fail
    this.acFired = true;
    this.ac.abort(this.failure());
  }

  private failure(): Error {
    const errno = Atomics.load(this.words, ERRNO); // net/conn-slot.ts invariant 3: stored before ERROR
    if (errno === ERRNO_CLOSED) return new ClosedError('connection closed by the server');
    if (errno === ERRNO_RESET) return new ConnectionResetError('connection reset by peer', 'ECONNRESET');
    if (errno === ERRNO_TIMEOUT) return new ConnectionResetError('connection timed out', 'ETIMEDOUT');
    return new ConnectionResetError('connection failed', 'EIO');
  }

  /** Copy what fits of `bytes` from `off` into OUTBOUND, publish, return the new offset. */
  private writeSome(bytes: Uint8Array, off: number): number {
    if (this.closed) throw new ClosedError('Conn.write after close()');
    const ready = Atomics.load(this.words, READY); // pairs with: net/reactor/connection.ts fail / endWrites
    if ((ready & ERROR) !== 0) throw this.failure();
    if ((ready & WR_CLOSED) !== 0) throw new ClosedError('connection is closed for writing');
    const w = this.outW;
    const len = bytes.length;
    while (off < len) {
      const n = Math.min(len - off, this.frameMax);
      const at = w.reserve(n);
      if (at < 0) break;
      w.bytes.set(n === len ? bytes : bytes.subarray(off, off + n), at);
      w.commit(n);
      off += n;
    }
    w.flush();
    return off;
  }

  private async writeRest(bytes: Uint8Array, off: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      off = this.writeSome(bytes, off);
      if (off === bytes.length) return;
      if (!this.outW.hasSpace(Math.min(bytes.length - off, this.frameMax))) await this.wakes.wait(Infinity, signal);
    }
  }

  private enqueue(run: () => Promise<void>): Promise<void> {
    const prev = this.writeChain ?? Promise.resolve();
    const p: Promise<void> = prev.then(run, run);
    this.writeChain = p;
    const clear = (): void => {
      if (this.writeChain === p) this.writeChain = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
