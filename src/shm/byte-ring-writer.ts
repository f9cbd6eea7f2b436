/**
 * The writing side of a byte ring (layout, words and invariants: byte-ring.ts).
 *
 * Runs on the one producer thread of a ring (any thread, the main thread included). Owns the
 * ring's TAIL word, the set of WANT_SPACE, and the data bytes outside [HEAD, TAIL).
 *
 * Frames accumulate unpublished; one Atomics.store of TAIL publishes the batch (`flush()`), or
 * sooner when `autoPublishBytes` are pending or the ring is full (so a reader can always drain
 * what blocks the writer). Every publish calls `onPublish` — the place to ring the reader's bell.
 */
import {
  attachByteRing,
  maxFrameLength,
  FRAME_HEADER_BYTES,
  FRAME_MORE,
  FRAME_PAD,
  FRAME_STAMP,
  HEAD,
  TAIL,
  WANT_SPACE,
  type ByteRingDescriptor,
} from './byte-ring.js';
import type { Doorbell, DoorbellAsyncWaitOptions } from './doorbell.js';
import { checkInt, outOfRange } from './layout.js';
import { stateError as invalidState } from '../core/args.js';
import { copyBytes } from './copy-bytes.js';
import { throwIfCancelled } from '../core/context.js';
import { TimeoutError } from '../core/errors.js';

/** Options of {@link ByteRingWriter}. */
export interface ByteRingWriterOptions {
  /** Called after every publish (explicit or automatic): ring the reader's doorbell here. */
  readonly onPublish?: () => void;
  /** Publish without waiting for flush() once this many bytes are pending. Default min(capacity / 4, 16 KiB). */
  readonly autoPublishBytes?: number;
}

/**
 * The producer of a byte ring. Exactly one per ring.
 *
 * @example
 * const w = new ByteRingWriter(desc, { onPublish: () => readerBell.ring() });
 * const off = w.reserve(64);            // contiguous room for up to 64 bytes, or -1 when full
 * if (off >= 0) { const n = encodeInto(w.bytes, off); w.commit(n, KIND_VALUE); }
 * w.tryWrite(new Uint8Array([1, 2, 3]));
 * w.flush();                            // one store publishes both frames, then onPublish()
 */
export class ByteRingWriter {
  /** The ring's data bytes; `reserve()` returns offsets into it. */
  readonly bytes: Uint8Array;
  /** Data capacity in bytes. */
  readonly capacity: number;
  /** Largest payload of one frame (capacity / 2 - 8). */
  readonly maxFrameLength: number;
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly autoPublish: number;
  private readonly onPublish: (() => void) | undefined;
  /** Local end of the committed frames (published or not). */
  private tail: number;
  /** Last TAIL stored. */
  private published: number;
  /** Last HEAD seen; the ring may have more room than this says, never less. */
  private headCache: number;
  /** Position of the frame reserved and not yet committed. */
  private reservedPos = 0;
  /** Its maximum payload, or -1 when nothing is reserved. */
  private reservedMax = -1;
  /** byte-ring.ts invariant 7: the ring publishes through HEADER words */
  private readonly stamped: boolean;
  /** bytes always left unused (7b: 8 in a stamped ring, so the next HEADER's slot is free to clear) */
  private readonly slack: number;
  /** stamped: word index of the held-back HEADER of the first unpublished frame (7c), or -1 */
  private heldAt = -1;
  private heldWord = 0;

  constructor(descriptor: ByteRingDescriptor, options: ByteRingWriterOptions = {}) {
    const r = attachByteRing(descriptor);
    this.ctl = r.ctl;
    this.bytes = r.bytes;
    this.words = r.words;
    this.capacity = r.capacity;
    this.mask = r.capacity - 1;
    this.maxFrameLength = maxFrameLength(r.capacity);
    this.onPublish = options.onPublish;
    // 16 KiB: hundreds of small frames per store, yet a large frame is visible while the next is
    // being copied, so the reader works in parallel instead of after a quarter of the ring
    this.autoPublish = checkInt(
      'autoPublishBytes',
      options.autoPublishBytes ?? Math.min(r.capacity / 4, 16384),
      8,
      r.capacity,
    );
    this.tail = Atomics.load(r.ctl, TAIL);
    this.published = this.tail;
    this.headCache = Atomics.load(r.ctl, HEAD);
    this.stamped = r.stamped;
    this.slack = r.stamped ? 8 : 0;
  }

  /** Write a frame's HEADER word (in a stamped ring the batch's first one is held back, 7c). */
  private header(wordIdx: number, h: number): void {
    if (!this.stamped) this.words[wordIdx] = h;
    else if (this.heldAt < 0) {
      this.heldAt = wordIdx;
      this.heldWord = h | FRAME_STAMP;
    } else this.words[wordIdx] = h | FRAME_STAMP;
  }

  /**
   * Reserve contiguous room for a payload of up to `maxLen` bytes. Returns the offset in `bytes`
   * where the payload goes, or -1 when the ring is full now (pending frames are published first,
   * so the reader can make room). Follow with exactly one `commit()`.
   *
   * @example
   * const off = w.reserve(s.length * 3);
   * if (off >= 0) w.commit(new TextEncoder().encodeInto(s, w.bytes.subarray(off, off + s.length * 3)).written);
   */
  reserve(maxLen: number): number {
    if (this.reservedMax >= 0) throw invalidState('ByteRingWriter.reserve: the previous reserve() was not committed');
    if (maxLen >>> 0 !== maxLen || maxLen > this.maxFrameLength) {
      checkInt('maxLen', maxLen, 0, this.maxFrameLength);
    }
    const size = FRAME_HEADER_BYTES + ((maxLen + 7) & ~7);
    let idx = this.tail & this.mask;
    const toEnd = this.capacity - idx;
    const need = (size > toEnd ? toEnd + size : size) + this.slack;
    if (this.capacity - ((this.tail - this.headCache) | 0) < need) {
      this.headCache = Atomics.load(this.ctl, HEAD); // pairs with: byte-ring-reader.ts release (Atomics.store HEAD)
      if (this.capacity - ((this.tail - this.headCache) | 0) < need) {
        this.flush();
        return -1;
      }
    }
    if (size > toEnd) {
      this.header(idx >> 2, FRAME_PAD); // invariant 4: pad to the end, frame at 0
      this.tail = (this.tail + toEnd) | 0;
      idx = 0;
    }
    this.reservedPos = this.tail;
    this.reservedMax = maxLen;
    return idx + FRAME_HEADER_BYTES;
  }

  /**
   * Finish the reserved frame with its actual payload length (<= the reserved maximum) and a tag.
   * `more` marks a fragment whose message continues in the next frame. Publishes only when
   * `autoPublishBytes` are pending; otherwise the frame waits for `flush()`.
   *
   * @example
   * const off = w.reserve(8); w.bytes[off] = 42; w.commit(1, 7);
   */
  commit(len: number, tag = 0, more = false): void {
    const max = this.reservedMax;
    if (max < 0) throw invalidState('ByteRingWriter.commit: nothing reserved');
    if (len >>> 0 !== len || len > max) outOfRange(`commit length must be an integer in [0, ${max}], got ${len}`);
    const w = this.reservedPos & this.mask;
    const words = this.words;
    words[(w >> 2) + 1] = tag | 0;
    this.tail = (this.reservedPos + FRAME_HEADER_BYTES + ((len + 7) & ~7)) | 0;
    this.header(w >> 2, more ? len | FRAME_MORE : len);
    this.reservedMax = -1;
    if (((this.tail - this.published) | 0) >= this.autoPublish) this.publish();
  }

  /**
   * Copy `src` into one frame. False (nothing written) when the ring has no room now.
   * Throws RangeError when `src` is longer than `maxFrameLength`.
   *
   * @example
   * if (!w.tryWrite(bytes, 1)) await w.writable(bytes.length, myBell);
   */
  tryWrite(src: Uint8Array, tag = 0, more = false): boolean {
    // reserve() + commit() inlined: this is the hot path for small messages
    const n = src.length;
    if (n > this.maxFrameLength) checkInt('frame length', n, 0, this.maxFrameLength);
    if (this.reservedMax >= 0) throw invalidState('ByteRingWriter.tryWrite: a reserve() is not committed');
    const size = FRAME_HEADER_BYTES + ((n + 7) & ~7);
    const cap = this.capacity;
    let tail = this.tail;
    let idx = tail & this.mask;
    const toEnd = cap - idx;
    const need = (size > toEnd ? toEnd + size : size) + this.slack;
    if (cap - ((tail - this.headCache) | 0) < need) {
      this.headCache = Atomics.load(this.ctl, HEAD); // pairs with: byte-ring-reader.ts release (Atomics.store HEAD)
      if (cap - ((tail - this.headCache) | 0) < need) {
        this.flush();
        return false;
      }
    }
    const words = this.words;
    if (size > toEnd) {
      this.header(idx >> 2, FRAME_PAD); // invariant 4
      tail = (tail + toEnd) | 0;
      idx = 0;
    }
    words[(idx >> 2) + 1] = tag | 0;
    copyBytes(src, 0, n, this.bytes, idx + FRAME_HEADER_BYTES);
    this.tail = (tail + size) | 0;
    this.header(idx >> 2, more ? n | FRAME_MORE : n);
    if (((this.tail - this.published) | 0) >= this.autoPublish) this.publish();
    return true;
  }

  /**
   * Publish every committed frame with one store of TAIL, then call `onPublish`. Returns false
   * (and does nothing) when nothing was pending.
   *
   * @example
   * for (const m of batch) w.tryWrite(m);
   * w.flush();
   */
  flush(): boolean {
    if (this.tail === this.published) return false;
    this.publish();
    return true;
  }

  /**
   * True when a frame of `maxLen` fits now. When it does not, publishes pending frames and sets
   * WANT_SPACE, so the reader's next release calls its `onWriterWaiting` (ring this thread's
   * bell there). Take the bell's `seq()` BEFORE calling, then wait on it when this says false.
   *
   * @example
   * const s = bell.seq();
   * if (!w.hasSpace(n)) bell.waitSync(s, 100);
   */
  hasSpace(maxLen: number): boolean {
    checkInt('maxLen', maxLen, 0, this.maxFrameLength);
    if (this.fits(maxLen)) return true;
    this.flush();
    Atomics.store(this.ctl, WANT_SPACE, 1); // pairs with: byte-ring-reader.ts release (Atomics.exchange WANT_SPACE)
    return this.fits(maxLen); // invariant 5: re-read HEAD after publishing WANT_SPACE
  }

  /**
   * Block this worker until a frame of `maxLen` fits, parking on `bell` (this thread's doorbell,
   * rung by the reader's `onWriterWaiting`). Throws TimeoutError after `timeoutMs`.
   *
   * @example
   * while (!w.tryWrite(buf)) w.writableSync(buf.length, bell, 1000);
   */
  writableSync(maxLen: number, bell: Doorbell, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = bell.seq();
      if (this.hasSpace(maxLen)) return;
      const left = deadline - performance.now();
      if (left <= 0 || bell.waitSync(s, left) === 'timed-out') {
        if (this.hasSpace(maxLen)) return;
        throw new TimeoutError(`byte ring: no room for ${maxLen} bytes within ${timeoutMs} ms`);
      }
    }
  }

  /**
   * Wait (without blocking the thread) until a frame of `maxLen` fits, parking on `bell`.
   * Rejects with TimeoutError after `timeoutMs`, CancelledError on `signal`.
   *
   * @example
   * while (!w.tryWrite(buf)) await w.writable(buf.length, bell, { signal });
   */
  async writable(maxLen: number, bell: Doorbell, options: DoorbellAsyncWaitOptions = {}): Promise<void> {
    throwIfCancelled(options.signal);
    const timeoutMs = options.timeoutMs ?? Infinity;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = bell.seq();
      if (this.hasSpace(maxLen)) return;
      const left = deadline - performance.now();
      if (left <= 0 || (await bell.wait(s, { ...options, timeoutMs: left })) === 'timed-out') {
        if (this.hasSpace(maxLen)) return;
        throw new TimeoutError(`byte ring: no room for ${maxLen} bytes within ${timeoutMs} ms`);
      }
    }
  }

  /** True when the reader has released every byte written so far (nothing committed is unread). */
  drained(): boolean {
    return Atomics.load(this.ctl, HEAD) === this.tail; // pairs with: byte-ring-reader.ts release (Atomics.store HEAD)
  }

  /** Bytes committed and not yet published. */
  pendingBytes(): number {
    return (this.tail - this.published) | 0;
  }

  private fits(maxLen: number): boolean {
    const size = FRAME_HEADER_BYTES + ((maxLen + 7) & ~7);
    const toEnd = this.capacity - (this.tail & this.mask);
    const need = (size > toEnd ? toEnd + size : size) + this.slack;
    this.headCache = Atomics.load(this.ctl, HEAD); // pairs with: byte-ring-reader.ts release (Atomics.store HEAD)
    return this.capacity - ((this.tail - this.headCache) | 0) >= need;
  }

  private publish(): void {
    if (!this.stamped)
      Atomics.store(this.ctl, TAIL, this.tail); // pairs with: byte-ring-reader.ts next (Atomics.load TAIL)
    else if (this.heldAt >= 0) {
      // 7c: every other byte of the batch was stored before this
      Atomics.store(this.words, this.heldAt, this.heldWord); // pairs with: byte-ring-reader.ts nextStamped (Atomics.load HEADER)
      this.heldAt = -1;
    }
    this.published = this.tail;
    this.onPublish?.();
  }
}
