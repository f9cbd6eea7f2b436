/**
 * A worker's shared-memory link to one other worker, for agent messages that go straight from a
 * handle on one worker to an agent on another (not through main): two byte rings (one each way,
 * shm/byte-ring.ts) and the other worker's agent doorbell, made by main (AgentHub.attach) and
 * handed to both workers in a PeerAttach.
 *
 * Runs on a pool worker (the agent host, worker/host.ts). Owns the writer of its outgoing ring, the
 * reader of its incoming ring, and the frames that did not fit the outgoing ring yet (backlog).
 *
 * Frames (the ring frame's TAG word says which):
 *   TAG_FRAME (0)  a PeerFrame array encoded with the value codec (agent handles in it are revived
 *                  by the codec's object reviver, handle.ts);
 *   TAG_BARE  (1)  a bare send, PMSG with no arguments, no reply and no flags, without the codec:
 *
 *                  | bytes | field  | meaning                                         |
 *                  |-------|--------|-------------------------------------------------|
 *                  | 0..3  | id     | agent id (int32)                                |
 *                  | 4..7  | gen    | agent generation (int32)                        |
 *                  | 8..   | method | the method name, one byte per char (all < 256), |
 *                  |       |        | at most BARE_METHOD_MAX bytes                   |
 *
 *                  The hot frame of ping-pong and ring programs: the codec's encode and decode
 *                  were a large share of a hop (docs/measurements.md); this is a few stores
 *                  and loads, and the reader reuses the method string it made last when the
 *                  bytes match.
 * Ordering: one sender's frames to one peer go through one ring in order, and a frame that finds
 * the ring full waits in the backlog (codec-encoded, whatever its kind), behind which every later
 * frame waits too.
 *
 * Wake-ups (pairs with worker/host.ts, "peer rings"):
 *   1. `publish` makes the written frames visible with one store (main makes the peer rings
 *      stamped: the first unpublished frame's HEADER word, byte-ring.ts invariant 7; TAIL in a
 *      plain ring), then rings the peer's agent bell only if it is parked (`ringIfParked`: one load
 *      of its STATE while it runs or spins, SEQ and a futex wake only when it is parked;
 *      doorbell.ts invariant 8). The peer polls the word our next frame lands on (`readable`) while
 *      it spins and re-reads it after publishing PARKED, so nothing is missed.
 *   2. The reader releases what it read (one HEAD store) lazily: `poll` releases only when the
 *      writer waits for room (WANT_SPACE) or every 16 KiB read (the reader's auto-release); the host
 *      calls `release` after publishing its own frames and before it waits (worker/host.ts
 *      releasePeers), so the HEAD store and its fence are not between a message's arrival and the
 *      answer's publishing store. When the writer had found the ring full (WANT_SPACE), the release rings
 *      the writer's bell, so a writer with a backlog retries (worker/host.ts onBell).
 */
import { decode, encode } from '../codec/index.js';
import { ByteRingReader } from '../shm/byte-ring-reader.js';
import { ByteRingWriter } from '../shm/byte-ring-writer.js';
import { Doorbell } from '../shm/doorbell.js';
import { codeError } from '../core/op.js';
import { RingCorruptError } from '../core/errors.js';
import { PMSG, type PeerAttach, type PeerFrame } from './protocol.js';

const TAG_FRAME = 0;
const TAG_BARE = 1;
/** longest method name a bare frame carries (longer ones take the codec frame) */
const BARE_METHOD_MAX = 64;
const NO_ARGS: unknown[] = [];

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
  /** int32 views of the outgoing and incoming rings' data (bare frames' id and gen) */
  private readonly wi32: Int32Array;
  private readonly ri32: Int32Array;
  /** the method string the last bare frame read carried (reused when the next one's bytes match) */
  private lastMethod = '';

  constructor(
    readonly slot: number,
    m: PeerAttach,
  ) {
    this.bell = new Doorbell(m.bell);
    // the peer re-reads our ring after parking and polls it while spinning (worker/host.ts armBell,
    // spinForPeers): ring only a parked peer (doorbell.ts invariant 8)
    this.w = new ByteRingWriter(m.out, { onPublish: () => this.bell.ringIfParked() });
    this.r = new ByteRingReader(m.in, { onWriterWaiting: () => this.bell.ring() });
    this.wi32 = new Int32Array(this.w.bytes.buffer, this.w.bytes.byteOffset, this.w.bytes.byteLength >> 2);
    this.ri32 = new Int32Array(this.r.bytes.buffer, this.r.bytes.byteOffset, this.r.bytes.byteLength >> 2);
  }

  /**
   * `write([PMSG, id, gen, method, [], 0, 0])` as a bare frame (see the header) when it can go
   * straight into the ring; otherwise (a backlog, a full ring, a long or wide method name) as a
   * codec frame, in the same order.
   */
  writeBare(id: number, gen: number, method: string): void {
    const n = method.length;
    if (this.backlog.length === 0 && n <= BARE_METHOD_MAX && oneBytePerChar(method)) {
      const off = this.w.reserve(8 + n); // -1: full (it published what was pending)
      if (off >= 0) {
        const i = off >> 2; // payloads start 8-aligned (byte-ring.ts frame layout)
        this.wi32[i] = id;
        this.wi32[i + 1] = gen;
        const b = this.w.bytes;
        for (let k = 0; k < n; k++) b[off + 8 + k] = method.charCodeAt(k);
        this.w.commit(8 + n, TAG_BARE);
        this.written++;
        return;
      }
    }
    this.write([PMSG, id, gen, method, NO_ARGS, 0, 0]);
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

  /**
   * Something was published to us and not read yet. Called in the host's spin: it also fetches
   * the line the next frame lands on (ByteRingReader.availableAhead).
   */
  readable(): boolean {
    return this.r.availableAhead();
  }

  /**
   * Read every frame published to us, in order: codec frames decoded to `on`, bare frames to
   * `onBare`. Returns how many. Releases them only when the writer waits for room (call `release`
   * before waiting for more: wake-ups, step 2).
   */
  poll(on: (f: PeerFrame) => void, onBare: (id: number, gen: number, method: string) => void): number {
    const r = this.r;
    if (!r.available()) return 0;
    let n = 0;
    let ok = false;
    try {
      while (r.next() >= 0) {
        n++;
        const off = r.frameOffset;
        const len = r.frameLength;
        if (r.frameTag === TAG_BARE) {
          if (len < 8 || len > 8 + BARE_METHOD_MAX) {
            throw new RingCorruptError(
              'frame-length',
              `agent peer ring: a bare frame of ${len} bytes (8..${8 + BARE_METHOD_MAX})`,
            );
          }
          const i = off >> 2;
          onBare(this.ri32[i]!, this.ri32[i + 1]!, this.methodAt(off + 8, len - 8));
        } else if (r.frameTag === TAG_FRAME) on(decode(r.bytes, off, len) as PeerFrame);
        else throw new RingCorruptError('flags', `agent peer ring: a frame tagged ${r.frameTag}`);
      }
      ok = true;
    } finally {
      // wake-ups, step 2: a waiting writer gets its room now; else `release` comes later
      if (!ok || r.writerWaiting()) r.release();
    }
    return n;
  }

  /**
   * Hand what `poll` read back to the writer (one HEAD store when something was read since the
   * last release; rings the writer when it waits for room). Call before waiting for more frames.
   */
  release(): void {
    this.r.release();
  }

  /** The method name in the incoming ring's bytes [p, p + n): the last one again when they match. */
  private methodAt(p: number, n: number): string {
    const b = this.r.bytes;
    const last = this.lastMethod;
    if (last.length === n) {
      let k = 0;
      while (k < n && last.charCodeAt(k) === b[p + k]) k++;
      if (k === n) return last;
    }
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(b[p + k]!);
    this.lastMethod = s;
    return s;
  }
}

function oneBytePerChar(s: string): boolean {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 255) return false;
  return true;
}
