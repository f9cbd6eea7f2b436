/**
 * One connection as the reactor sees it: a net.Socket on one side, a connection slot (two byte
 * rings and the readiness word, src/net/conn-slot.ts) on the other, and the two copy loops between
 * them with backpressure both ways.
 *
 * Runs on the main thread only (it owns the socket). Owns: the socket's listeners, the inbound
 * bytes not yet in the ring (at most one socket chunk per pause), the writer end of INBOUND, the
 * reader end of OUTBOUND, and the READY / ERRNO words of its slot.
 *
 * Backpressure:
 * - inbound: when INBOUND has no room, the rest of the chunk waits here, the socket is paused and
 *   WANT_SPACE is set; the worker's next release rings us (TOWARD_MAIN) and `service()` pushes the
 *   rest and resumes the socket. Memory held here: at most one chunk (64 KiB).
 * - outbound: `service()` copies what OUTBOUND holds into one socket.write(); when write() says
 *   false it stops draining until 'drain'. The worker's writes then find OUTBOUND full and wait.
 *   Memory held by the socket: its high-water mark plus at most one ring's worth.
 */
import type { Socket } from 'node:net';
import { ByteRingReader } from '../../shm/byte-ring-reader.js';
import { ByteRingWriter } from '../../shm/byte-ring-writer.js';
import {
  ERRNO,
  ERRNO_CLOSED,
  ERRNO_OTHER,
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
  type ConnSlotDescriptor,
} from '../conn-slot.js';
import { readIntoScratch } from './scratch-reads.js';

/** What a connection needs from the worker link that holds its slot. */
export interface SlotOwner {
  /** Mark slot `i` toward the worker and ring its bell at the end of this turn. */
  markWorker(i: number): void;
  /** Both sides let go of the slot: recycle it. */
  release(c: MainConn): void;
  /**
   * `+1`: this connection handed the worker bytes it has not answered yet; `-1`: it answered (or
   * the connection is gone). The reactor stays awake only while some answer is owed.
   */
  owe(delta: 1 | -1): void;
}

/** What a connection tells the server it was accepted by. */
export interface ConnServer {
  connGone(c: MainConn): void;
}

/** Socket error codes that mean "the peer reset the connection". */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Largest batch copied from OUTBOUND into one socket.write(). */
const MAX_WRITE_BATCHES = 4;

/** A connection served by the reactor. Main thread only. */
export class MainConn {
  readonly index: number;
  readonly slot: ConnSlotDescriptor;
  readonly socket: Socket;
  readonly server: ConnServer | undefined;
  private readonly owner: SlotOwner;
  private readonly words: Int32Array;
  private readonly inW: ByteRingWriter;
  private readonly outR: ByteRingReader;
  private readonly frameMax: number;
  /** inbound bytes the ring had no room for; non-empty only while the socket is paused */
  private pending: Buffer[] = [];
  private paused = false;
  private peerEnded = false;
  private writeBlocked = false;
  private endedSocket = false;
  private workerLetGo = false;
  private socketClosed = false;
  private released = false;
  /** inbound bytes went to the worker and no outbound byte came back since (SlotOwner.owe) */
  private owed = false;
  /** reads arrive through the shared scratch buffer (valid only during onData), not as 'data' */
  readonly scratchReads: boolean;
  /** bytes copied each way, for stats */
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    owner: SlotOwner,
    index: number,
    slot: ConnSlotDescriptor,
    socket: Socket,
    server: ConnServer | undefined,
  ) {
    this.owner = owner;
    this.index = index;
    this.slot = slot;
    this.socket = socket;
    this.server = server;
    this.words = slotWords(slot);
    const mark = (): void => owner.markWorker(index);
    const handOff = (): void => {
      if (!this.owed) {
        this.owed = true;
        owner.owe(1);
      }
      owner.markWorker(index);
    };
    this.inW = new ByteRingWriter(inboundRing(slot), { onPublish: handOff });
    this.outR = new ByteRingReader(outboundRing(slot), { onWriterWaiting: mark });
    // Fragments of a quarter ring: a full ring still takes a fragment as soon as a quarter is free.
    this.frameMax = Math.min(this.inW.maxFrameLength, slot.ringBytes >> 2);
    // Reads skip the stream layer where Node allows it (scratch-reads.ts); the bytes then live in
    // a shared scratch buffer, so whatever must wait for ring room is copied out.
    this.scratchReads = readIntoScratch(socket, (b) => this.onData(b));
    if (!this.scratchReads) socket.on('data', (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onEnd());
    socket.on('error', (e: NodeJS.ErrnoException) => this.onError(e));
    socket.on('close', () => this.onClose());
  }

  /**
   * Everything the worker may have changed: room in INBOUND, frames in OUTBOUND, W_END, W_CLOSE.
   * Called when the worker marked this slot (TOWARD_MAIN), and on 'drain'.
   */
  service(): void {
    if (this.released) return;
    if (this.pending.length > 0) this.pushPending();
    for (let k = 0; k < MAX_WRITE_BATCHES && !this.writeBlocked && this.drainOnce(); k++);
    const ws = Atomics.load(this.words, WSTATE); // pairs with: net/worker/conn.ts end / close (Atomics.or WSTATE)
    if ((ws & W_CLOSE) !== 0 && !this.workerLetGo) {
      this.workerLetGo = true;
      this.pending = [];
      if (this.paused) this.socket.resume(); // read and drop: nobody will read the ring again
    }
    if ((ws & (W_END | W_CLOSE)) !== 0 && !this.writeBlocked && !this.outR.available()) this.endWrites();
    this.maybeRelease();
  }

  /** Fail the connection for the worker (its next op rejects, its signal aborts). */
  fail(errno: number): void {
    const ready = Atomics.load(this.words, READY);
    if ((ready & ERROR) !== 0) return;
    Atomics.store(this.words, ERRNO, errno); // invariant 3: before ERROR
    Atomics.or(this.words, READY, ERROR | RD_CLOSED | WR_CLOSED); // pairs with: net/worker/conn.ts state (Atomics.load READY)
    this.owner.markWorker(this.index);
  }

  /**
   * Idle: the handler waits for inbound bytes (WREADING, conn-slot.ts invariant 6), it has been
   * handed every byte the peer sent, and everything it wrote has reached the socket. A closing
   * server closes idle connections at once (as node:http's closeIdleConnections does).
   */
  idle(): boolean {
    if (this.released || this.workerLetGo) return false;
    if (Atomics.load(this.words, WREADING) !== 1) return false; // pairs with: net/worker/conn.ts parkReading
    return (
      this.pending.length === 0 &&
      this.inW.drained() &&
      !this.outR.available() &&
      !this.writeBlocked &&
      this.socket.writableLength === 0
    );
  }

  /** Close now (server close timeout, runtime close): the handler's next op fails. */
  forceClose(errno = ERRNO_CLOSED): void {
    this.fail(errno);
    this.pending = [];
    this.socket.destroy();
  }

  /**
   * The worker thread is gone: reset the socket (a FIN would tell the peer that a half-written
   * reply was whole). Bytes the worker had published but we had not yet sent are dropped, as a
   * crashed process drops its unflushed buffers. The slot is not reused (nobody will set W_CLOSE).
   */
  workerGone(): void {
    this.workerLetGo = true;
    this.settleOwed();
    this.pending = [];
    if (this.socketClosed) this.socket.destroy();
    else this.socket.resetAndDestroy();
    if (!this.released) {
      this.released = true;
      this.server?.connGone(this);
    }
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    if (this.workerLetGo) return;
    // The common case, a chunk that fits as one frame while nothing waits: no pending list.
    if (this.pending.length === 0 && chunk.length <= this.frameMax) {
      const w = this.inW;
      const at = w.reserve(chunk.length);
      if (at >= 0) {
        w.bytes.set(chunk, at);
        w.commit(chunk.length);
        w.flush();
        if (this.peerEnded) this.setReady(RD_CLOSED);
        return;
      }
    }
    this.pending.push(this.scratchReads ? Buffer.from(chunk) : chunk);
    if (this.pending.length === 1) this.pushPending();
  }

  /** Move pending chunks into INBOUND; pause the socket when it is full, resume once all went in. */
  private pushPending(): void {
    const w = this.inW;
    const frameMax = this.frameMax;
    while (this.pending.length > 0) {
      const chunk = this.pending[0]!;
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, frameMax);
        const at = w.reserve(n);
        if (at < 0) break;
        w.bytes.set(n === chunk.length ? chunk : chunk.subarray(off, off + n), at);
        w.commit(n);
        off += n;
      }
      if (off === chunk.length) {
        this.pending.shift();
        continue;
      }
      this.pending[0] = chunk.subarray(off);
      // Sets WANT_SPACE: the worker's next release marks us. True when room appeared meanwhile.
      if (w.hasSpace(Math.min(chunk.length - off, frameMax))) continue;
      if (!this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    w.flush();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.peerEnded) this.setReady(RD_CLOSED);
  }

  /**
   * Copy one batch of OUTBOUND frames into one socket.write(). True when it stopped at the batch
   * cap (more may be waiting now); frames published after it looked get their own mark.
   */
  private drainOnce(): boolean {
    if (this.socketClosed || this.endedSocket) return false;
    const r = this.outR;
    if (!r.available()) return false;
    const out = r.readBytes(this.slot.ringBytes);
    const total = out.length;
    if (total === 0) return false;
    this.bytesOut += total;
    this.settleOwed();
    const ok = this.socket.write(out);
    if (!ok) {
      this.writeBlocked = true;
      this.socket.once('drain', () => {
        this.writeBlocked = false;
        this.service();
      });
    }
    return total >= this.slot.ringBytes;
  }

  /** The worker ended or closed and every byte it wrote went to the socket: send our FIN. */
  private endWrites(): void {
    if (!this.endedSocket) {
      this.endedSocket = true;
      this.setReady(WR_CLOSED);
      this.socket.end();
    }
    if (this.workerLetGo && !this.socketClosed) {
      // The handler is gone: once our FIN is out, do not wait for the peer's.
      if (this.socket.writableFinished) this.socket.destroy();
      else this.socket.once('finish', () => this.socket.destroy());
    }
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (this.pending.length === 0) this.setReady(RD_CLOSED); // invariant 1: after the last byte
  }

  private onError(e: NodeJS.ErrnoException): void {
    const code = e.code ?? '';
    this.fail(RESET_CODES.has(code) ? ERRNO_RESET : code === 'ETIMEDOUT' ? ERRNO_TIMEOUT : ERRNO_OTHER);
  }

  private onClose(): void {
    this.socketClosed = true;
    // A close without 'end' and without 'error' (we destroyed it, or the peer vanished mid-way)
    // must still end the handler's reads and writes.
    if (!this.peerEnded && (Atomics.load(this.words, READY) & ERROR) === 0 && !this.workerLetGo) this.fail(ERRNO_RESET);
    // invariant 1: with bytes still pending, RD_CLOSED waits for pushPending to move them in
    else this.setReady(this.pending.length > 0 ? WR_CLOSED : RD_CLOSED | WR_CLOSED);
    this.maybeRelease();
  }

  /** The worker answered (or never will): nothing is owed on this connection any more. */
  private settleOwed(): void {
    if (!this.owed) return;
    this.owed = false;
    this.owner.owe(-1);
  }

  private setReady(bits: number): void {
    if ((Atomics.load(this.words, READY) & bits) === bits) return;
    Atomics.or(this.words, READY, bits); // pairs with: net/worker/conn.ts state (Atomics.load READY)
    this.owner.markWorker(this.index);
  }

  private maybeRelease(): void {
    if (this.released || !this.socketClosed || !this.workerLetGo) return;
    this.released = true;
    this.settleOwed();
    this.owner.release(this);
    this.server?.connGone(this);
  }
}
