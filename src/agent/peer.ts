/**
 * A worker's shared-memory link to one other worker, for agent messages that go straight from a
 * handle on one worker to an agent on another (not through main): two byte rings (one each way,
 * shm/byte-ring.ts) and the other worker's agent doorbell, made by main (AgentHub.attach) and
 * handed to both workers in a PeerAttach.
 *
 * Runs on a pool worker (the agent host, worker.ts). Owns the writer of its outgoing ring, the
 * reader of its incoming ring, and the frames that did not fit the outgoing ring yet (backlog).
 *
 * Frames are PeerFrame arrays encoded with the value codec (one ring frame each; agent handles in
 * them are revived by the codec's object reviver, handle.ts). Ordering: one sender's frames to one
 * peer go through one ring in order, and a frame that finds the ring full waits in the backlog,
 * behind which every later frame waits too.
 *
 * Wake-ups (pairs with worker.ts, "Peer rings"):
 *   1. `publish` makes the written frames visible with one TAIL store, then rings the peer's agent
 *      bell: a store and a load when the peer is running or spinning, a futex wake only when it is
 *      parked (doorbell.ts invariant 2).
 *   2. The reader releases what it read; when the writer had found the ring full (WANT_SPACE), the
 *      release rings the writer's bell, so a writer with a backlog retries (worker.ts onBell).
 */
import { decode, encode } from '../codec/index.js';
import { ByteRingReader } from '../shm/byte-ring-reader.js';
import { ByteRingWriter } from '../shm/byte-ring-writer.js';
import { Doorbell } from '../shm/doorbell.js';
import { codeError } from '../core/op.js';
import type { PeerAttach, PeerFrame } from './protocol.js';

export { PEER_RING_BYTES } from './protocol.js';

export class PeerLink {
  private readonly w: ByteRingWriter;
  private readonly r: ByteRingReader;
  /** the other worker's agent bell (rung after publishing to it) */
  private readonly bell: Doorbell;
  /** encoded frames waiting for room in the outgoing ring, oldest first */
  private backlog: Uint8Array[] = [];
  /** frames written since the last publish */
  private written = 0;

  constructor(
    readonly slot: number,
    m: PeerAttach,
  ) {
    this.bell = new Doorbell(m.bell);
    this.w = new ByteRingWriter(m.out, { onPublish: () => this.bell.ring() });
    this.r = new ByteRingReader(m.in, { onWriterWaiting: () => this.bell.ring() });
  }

  /**
   * Encode `f` and write it to the outgoing ring (published by `publish`). Throws at the call site,
   * with nothing written, when a value cannot be encoded or the frame is larger than a ring allows.
   */
  write(f: PeerFrame): void {
    const bytes = encode(f);
    if (bytes.length > this.w.maxFrameLength) {
      throw codeError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `a message to an agent on another worker is at most ${this.w.maxFrameLength} bytes encoded, this one is ${bytes.length}`,
      );
    }
    if (this.backlog.length > 0 || !this.w.tryWrite(bytes)) this.backlog.push(bytes.slice());
    this.written++;
  }

  /** Frames written and not yet published. */
  get dirty(): boolean {
    return this.written > 0 || this.backlog.length > 0;
  }

  /**
   * Move what the backlog can into the ring and publish everything written (ringing the peer).
   * Returns true when frames are still waiting for room (the peer's release will ring us).
   */
  publish(): boolean {
    this.written = 0;
    for (;;) {
      let i = 0;
      const b = this.backlog;
      while (i < b.length && this.w.tryWrite(b[i]!)) i++;
      if (i > 0) this.backlog = i === b.length ? [] : b.slice(i);
      this.w.flush();
      if (this.backlog.length === 0) return false;
      // sets WANT_SPACE (the reader's next release rings us); true: room came meanwhile, go again
      if (!this.w.hasSpace(this.backlog[0]!.length)) return true;
    }
  }

  /**
   * Frames wait in the backlog and the ring has room for the first now. Ask after taking the bell's
   * seq() and before waiting on it: a release that rang us before seq() was taken is seen here.
   */
  roomCame(): boolean {
    return this.backlog.length > 0 && this.w.hasSpace(this.backlog[0]!.length); // re-reads HEAD, sets WANT_SPACE
  }

  /** Something was published to us and not read yet. */
  readable(): boolean {
    return this.r.available();
  }

  /** Read every frame published to us, decoded, in order. Returns how many. */
  poll(on: (f: PeerFrame) => void): number {
    if (!this.r.available()) return 0;
    return this.r.drain((bytes, off, len) => on(decode(bytes, off, len) as PeerFrame));
  }
}
