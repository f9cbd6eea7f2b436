/**
 * The reading side of a byte ring (layout, words and invariants: byte-ring.ts).
 *
 * Runs on the one consumer thread of a ring (any thread, the main thread included). Owns the
 * ring's HEAD word, the clearing of WANT_SPACE, and the data bytes in [HEAD, TAIL).
 *
 * Frames are read in place: `next()` steps to the next frame and exposes where it lies in
 * `bytes`; space goes back to the writer with one store of HEAD per batch (`release()`, done by
 * `drain()` and, past min(capacity / 4, 16 KiB) read, by `next()` itself).
 */
import { RingCorruptError } from '../core/errors.js';
import { throwIfCancelled } from '../core/context.js';
import {
  attachByteRing,
  maxFrameLength,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_MASK,
  FRAME_MORE,
  FRAME_PAD,
  FRAME_STAMP,
  HEAD,
  TAIL,
  WANT_SPACE,
  type ByteRingDescriptor,
} from './byte-ring.js';
import type { Doorbell, DoorbellAsyncWaitOptions } from './doorbell.js';
import { copyBytes } from './copy-bytes.js';
import { stateError as invalidState } from '../core/args.js';

/** Options of {@link ByteRingReader}. */
export interface ByteRingReaderOptions {
  /** Called by a release that found WANT_SPACE set: ring the writer's doorbell here. */
  readonly onWriterWaiting?: () => void;
}

/** Called by `drain()` for each frame; the bytes are valid only during the call. */
export type FrameHandler = (bytes: Uint8Array, offset: number, length: number, tag: number, more: boolean) => void;

/** Header bits no writer sets (bit 31). */
const RESERVED_BITS = ~(FRAME_LENGTH_MASK | FRAME_MORE | FRAME_PAD);

/**
 * The consumer of a byte ring. Exactly one per ring.
 *
 * @example
 * const r = new ByteRingReader(desc, { onWriterWaiting: () => writerBell.ring() });
 * while (r.next() >= 0) handle(r.bytes, r.frameOffset, r.frameLength, r.frameTag);
 * r.release();
 * // or, the same in one call:
 * r.drain((bytes, off, len, tag) => handle(bytes, off, len, tag));
 */
export class ByteRingReader {
  /** The ring's data bytes; frames are read in place from here. */
  readonly bytes: Uint8Array;
  /** Data capacity in bytes. */
  readonly capacity: number;
  /** Largest payload of one frame. */
  readonly maxFrameLength: number;
  /** Where the current frame's payload starts in `bytes` (after a successful `next()`). */
  frameOffset = 0;
  /** The current frame's payload length. */
  frameLength = 0;
  /** The current frame's tag. */
  frameTag = 0;
  /** True when the current frame is a fragment and more of its message follows. */
  frameMore = false;
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly autoRelease: number;
  private readonly onWriterWaiting: (() => void) | undefined;
  /** Local start of the unread frames. */
  private head: number;
  /** Last HEAD stored. */
  private released: number;
  /** Last TAIL seen. */
  private tailCache: number;
  /** byte-ring.ts invariant 7: frames are published through their HEADER words, TAIL is unused */
  private readonly stamped: boolean;

  constructor(descriptor: ByteRingDescriptor, options: ByteRingReaderOptions = {}) {
    const r = attachByteRing(descriptor);
    this.ctl = r.ctl;
    this.bytes = r.bytes;
    this.words = r.words;
    this.capacity = r.capacity;
    this.mask = r.capacity - 1;
    this.maxFrameLength = maxFrameLength(r.capacity);
    this.autoRelease = Math.min(r.capacity / 4, 16384); // as the writer's autoPublishBytes
    this.onWriterWaiting = options.onWriterWaiting;
    this.head = Atomics.load(r.ctl, HEAD);
    this.released = this.head;
    this.tailCache = this.head;
    this.stamped = r.stamped;
  }

  /**
   * True when a published frame is waiting (reads TAIL only when the cached one is used up).
   *
   * @example
   * const s = bell.seq(); if (!r.available()) bell.waitSync(s, 100);
   */
  available(): boolean {
    if (this.stamped) return Atomics.load(this.words, (this.head & this.mask) >> 2) !== 0; // pairs with: byte-ring-writer.ts publish (7c)
    if (this.tailCache !== this.head) return true;
    this.tailCache = Atomics.load(this.ctl, TAIL); // pairs with: byte-ring-writer.ts publish (Atomics.store TAIL)
    return this.tailCache !== this.head;
  }

  /**
   * `available()` for a reader that spins on it: when nothing is published, it also loads the
   * word where the next frame's header will go, so the frame's cache line travels to this core
   * while TAIL's does, not after it (two lines fetched in parallel instead of one after the other:
   * measurements.md 2026-12-07 08:36). Only for spinning readers of small frames.
   *
   * @example
   * while (!r.availableAhead()) if (done()) break;
   */
  availableAhead(): boolean {
    if (this.stamped) return Atomics.load(this.words, (this.head & this.mask) >> 2) !== 0; // the frame's own line: 7c
    if (this.tailCache !== this.head) return true;
    this.ahead = this.words[(this.head & this.mask) >> 2]!; // a plain load: the value is not used
    this.tailCache = Atomics.load(this.ctl, TAIL); // pairs with: byte-ring-writer.ts publish (Atomics.store TAIL)
    return this.tailCache !== this.head;
  }

  /** What availableAhead loaded last (kept so that the load is not optimized away; meaningless). */
  ahead = 0;

  /**
   * Step to the next frame. Returns its payload length (then `frameOffset`, `frameLength`,
   * `frameTag`, `frameMore` describe it), or -1 when no frame is published. The previous frame's
   * bytes may be handed back to the writer from here on. Throws RingCorruptError on garbage.
   *
   * @example
   * let n = 0;
   * while (r.next() >= 0) n += r.frameLength;
   * r.release();
   */
  next(): number {
    if (((this.head - this.released) | 0) >= this.autoRelease) this.release();
    if (this.stamped) return this.nextStamped();
    for (;;) {
      let avail = (this.tailCache - this.head) | 0;
      if (avail === 0) {
        this.tailCache = Atomics.load(this.ctl, TAIL); // pairs with: byte-ring-writer.ts publish (Atomics.store TAIL)
        avail = (this.tailCache - this.head) | 0;
        if (avail === 0) return -1;
        if (avail < 0 || avail > this.capacity || (avail & 7) !== 0) {
          throw new RingCorruptError(
            'positions',
            `byte ring: TAIL ${this.tailCache} is ${avail} bytes past HEAD ${this.head} (capacity ${this.capacity})`,
          );
        }
      }
      const idx = this.head & this.mask;
      const h = this.words[idx >> 2]!;
      if ((h & FRAME_PAD) !== 0) {
        const skip = this.capacity - idx;
        if (h !== FRAME_PAD || skip > avail) {
          throw new RingCorruptError(
            'padding',
            `byte ring: bad padding word 0x${(h >>> 0).toString(16)} at ${idx} (${avail} bytes published)`,
          );
        }
        this.head = (this.head + skip) | 0;
        continue;
      }
      return this.takeFrame(idx, h, avail);
    }
  }

  /** `next()` in a stamped ring (byte-ring.ts invariant 7): the HEADER word says whether a frame is there. */
  private nextStamped(): number {
    for (;;) {
      const idx = this.head & this.mask;
      let h = Atomics.load(this.words, idx >> 2); // pairs with: byte-ring-writer.ts publish (7c)
      if (h === 0) return -1; // 7a: nothing published here yet
      if ((h & FRAME_STAMP) === 0) {
        throw new RingCorruptError('flags', `byte ring: stamped frame header 0x${(h >>> 0).toString(16)} at ${idx}`);
      }
      h &= ~FRAME_STAMP;
      if ((h & FRAME_PAD) !== 0) {
        if (h !== FRAME_PAD) {
          throw new RingCorruptError('padding', `byte ring: bad padding word 0x${(h >>> 0).toString(16)} at ${idx}`);
        }
        this.head = (this.head + this.capacity - idx) | 0;
        continue;
      }
      const len = this.takeFrame(idx, h, this.capacity - idx); // a stamped frame only has to fit the ring
      this.tailCache = this.head; // unused in a stamped ring; kept equal so unreadBytes() says 0
      return len;
    }
  }

  /**
   * The frame whose header `h` (stamp bit cleared) sits at `idx`, with `avail` bytes readable from
   * there: checks it, describes it (frameOffset ...), steps HEAD past it and returns its length.
   */
  private takeFrame(idx: number, h: number, avail: number): number {
    if ((h & RESERVED_BITS) !== 0) {
      throw new RingCorruptError(
        'flags',
        `byte ring: frame header 0x${(h >>> 0).toString(16)} at ${idx} has reserved bits set`,
      );
    }
    const len = h & FRAME_LENGTH_MASK;
    const size = FRAME_HEADER_BYTES + ((len + 7) & ~7);
    if (len > this.maxFrameLength || size > avail || idx + size > this.capacity) {
      throw new RingCorruptError(
        'frame-length',
        `byte ring: frame of ${len} bytes at ${idx} does not fit (${avail} bytes readable, max frame ${this.maxFrameLength})`,
      );
    }
    this.frameOffset = idx + FRAME_HEADER_BYTES;
    this.frameLength = len;
    this.frameTag = this.words[(idx >> 2) + 1]!;
    this.frameMore = (h & FRAME_MORE) !== 0;
    this.head = (this.head + size) | 0;
    return len;
  }

  /**
   * A zero-copy view of the current frame's payload, valid until the next `next()`, `drain()` or
   * `release()`. It is backed by a SharedArrayBuffer, which the WHATWG TextDecoder refuses (Node 20
   * accepts it; browsers throw): decode `copy()` or go through Buffer for portable code.
   *
   * @example
   * if (r.next() >= 0) sum(r.view());
   */
  view(): Uint8Array {
    return this.bytes.subarray(this.frameOffset, this.frameOffset + this.frameLength);
  }

  /**
   * A fresh (non-shared) copy of the current frame's payload.
   *
   * @example
   * if (r.next() >= 0) new TextDecoder().decode(r.copy());
   */
  copy(): Uint8Array {
    return this.bytes.slice(this.frameOffset, this.frameOffset + this.frameLength);
  }
  /**
   * For byte streams (the TCP rings, where frame boundaries mean nothing): the payloads of the
   * frames published so far, whole frames up to `maxBytes` (at least one), concatenated into one
   * fresh Buffer, and released. An empty Buffer when none is published.
   *
   * @example
   * const chunk = r.readBytes(64 * 1024); if (chunk.length > 0) socket.write(chunk);
   */
  readBytes(maxBytes: number): Buffer {
    if (this.stamped) throw invalidState('ByteRingReader.readBytes reads plain rings only (byte-ring.ts invariant 7d)');
    this.available(); // refreshes the cached TAIL when it is used up (a load only then)
    // One allocation, one copy: what is published now (headers included) bounds the payload; a
    // frame past a wrap-around padding can exceed it, hence the grow path.
    let out = Buffer.allocUnsafe(this.unreadBytes());
    let n = 0;
    while (n < maxBytes && this.unreadBytes() > 0 && this.next() >= 0) {
      const len = this.frameLength;
      if (n + len > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, n + len));
        copyBytes(out, 0, n, bigger, 0);
        out = bigger;
      }
      n = copyBytes(this.bytes, this.frameOffset, this.frameOffset + len, out, n);
    }
    this.release(); // may call onWriterWaiting (the writer waited for room)
    return n === out.length ? out : out.subarray(0, n);
  }

  /**
   * Hand every frame read so far back to the writer with one store of HEAD. Returns true (after
   * calling `onWriterWaiting`) when the writer had asked for space.
   *
   * @example
   * while (r.next() >= 0) consume(r.view());
   * if (r.release()) console.log('the writer was waiting');
   */
  release(): boolean {
    const pos = this.head;
    if (pos === this.released) return false;
    if (this.stamped) {
      // 7a: hand the bytes back zeroed, so every free byte reads "nothing here yet"
      const a = this.released & this.mask;
      const b = pos & this.mask;
      if (a < b) this.bytes.fill(0, a, b);
      else {
        this.bytes.fill(0, a);
        this.bytes.fill(0, 0, b);
      }
    }
    Atomics.store(this.ctl, HEAD, pos); // pairs with: byte-ring-writer.ts reserve / fits (Atomics.load HEAD)
    this.released = pos;
    if (
      Atomics.load(this.ctl, WANT_SPACE) !== 0 && // pairs with: byte-ring-writer.ts hasSpace (Atomics.store WANT_SPACE)
      Atomics.exchange(this.ctl, WANT_SPACE, 0) !== 0
    ) {
      this.onWriterWaiting?.();
      return true;
    }
    return false;
  }

  /**
   * Read up to `maxFrames` frames, calling `handler` for each with the payload's place in
   * `bytes`, then release them all at once. Returns the number of frames read.
   *
   * @example
   * r.drain((bytes, off, len, tag) => { total += len; });
   */
  drain(handler: FrameHandler, maxFrames = Infinity): number {
    let n = 0;
    try {
      while (n < maxFrames && this.next() >= 0) {
        n++;
        handler(this.bytes, this.frameOffset, this.frameLength, this.frameTag, this.frameMore);
      }
    } finally {
      this.release();
    }
    return n;
  }

  /**
   * Release what was read, then block this worker until a frame is published, parking on `bell`
   * (this thread's doorbell, rung by the writer's `onPublish`). False when `timeoutMs` passed with nothing to read.
   *
   * @example
   * if (r.readableSync(bell, 50)) r.drain(handle);
   */
  readableSync(bell: Doorbell, timeoutMs: number): boolean {
    this.release(); // never park holding space the writer may be waiting for
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = bell.seq();
      if (this.available()) return true;
      const left = deadline - performance.now();
      if (left <= 0 || bell.waitSync(s, left) === 'timed-out') return this.available();
    }
  }

  /**
   * Release what was read, then wait (without blocking the thread) until a frame is published,
   * parking on `bell`. Resolves
   * false after `timeoutMs` with nothing to read; rejects with CancelledError on `signal`.
   *
   * @example
   * while (await r.readable(bell, { signal })) r.drain(handle);
   */
  async readable(bell: Doorbell, options: DoorbellAsyncWaitOptions = {}): Promise<boolean> {
    throwIfCancelled(options.signal);
    this.release(); // never park holding space the writer may be waiting for
    const deadline = performance.now() + (options.timeoutMs ?? Infinity);
    for (;;) {
      const s = bell.seq();
      if (this.available()) return true;
      const left = deadline - performance.now();
      if (left <= 0 || (await bell.wait(s, { ...options, timeoutMs: left })) === 'timed-out') return this.available();
    }
  }

  /**
   * True when the writer found the ring full and waits for a `release()` (WANT_SPACE is set). For
   * readers that release lazily (after their own publishing, off a ping-pong's critical path):
   * one load of a word on TAIL's cache line, which the reader fetches anyway.
   *
   * @example
   * while (r.next() >= 0) handle(r.view());
   * if (r.writerWaiting()) r.release(); // else release later, before waiting for more
   */
  writerWaiting(): boolean {
    return Atomics.load(this.ctl, WANT_SPACE) !== 0; // pairs with: byte-ring-writer.ts hasSpace (Atomics.store WANT_SPACE)
  }

  /** Bytes published and not yet read, as of the last look at TAIL. */
  unreadBytes(): number {
    return (this.tailCache - this.head) | 0;
  }
}
