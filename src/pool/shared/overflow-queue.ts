/**
 * A FIFO of encoded task frames that did not fit the shared task queue, waiting for room.
 *
 * Runs on the main thread only. Owns: one growable byte arena and the (id, offset, length) of
 * each frame in it, plus the ids dropped (cancelled) while waiting here.
 *
 * Why an arena: a burst of submissions larger than the task queue parks most of its tasks here,
 * and a copy per task (`bytes.slice()` plus an entry tuple) was ~150 B of garbage each; here a
 * frame costs a memcpy into memory that is reused once the FIFO empties.
 *
 * Invariants:
 *   1. Frames leave in the order they came (FIFO), so tasks start in submission order.
 *   2. Waiting frames sit in the arena in FIFO order at the offsets recorded for them; the arena
 *      resets when the FIFO empties and compacts (frames and offsets move together) once more
 *      than half of it is spent, so a FIFO that never empties stays bounded by what waits.
 */
import type { FrameWriter } from '../../codec/index.js';

/** Frames waiting for space in the task queue, in submission order. */
export class OverflowQueue {
  private arena = new Uint8Array(64 * 1024);
  private used = 0;
  /** per frame: id, offset, length (three u32 per entry) */
  private meta = new Uint32Array(3 * 1024);
  private head = 0;
  private tail = 0;
  private readonly dropped = new Set<number>();

  /** Frames waiting. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Bytes the arena holds (it grows to the largest backlog and is reused). */
  arenaBytes(): number {
    return this.arena.length;
  }

  /** Append (a copy of) the encoded frame of task `id`. */
  push(id: number, frame: FrameWriter): void {
    const need = frame.size;
    if (this.used + need > this.arena.length) {
      const arena = new Uint8Array(grownLength(this.arena.length, this.used + need));
      arena.set(this.arena);
      this.arena = arena;
    }
    if ((this.tail + 1) * 3 > this.meta.length) {
      const meta = new Uint32Array(grownLength(this.meta.length, (this.tail + 1) * 3));
      meta.set(this.meta);
      this.meta = meta;
    }
    const at = this.used;
    const len = frame.writeTo(this.arena, at);
    const m = this.tail * 3;
    this.meta[m] = id;
    this.meta[m + 1] = at;
    this.meta[m + 2] = len;
    this.used += len;
    this.tail++;
  }

  /** Task `id` was cancelled: skip it if it is still waiting here. */
  drop(id: number): void {
    if (this.tail > this.head) this.dropped.add(id);
  }

  /**
   * Hand waiting frames to `put(bytes, offset, length)`, oldest first, until it returns false
   * (no room) or none are left. Returns how many it took.
   */
  drainInto(put: (bytes: Uint8Array, off: number, len: number) => boolean): number {
    let n = 0;
    while (this.head < this.tail) {
      const m = this.head * 3;
      const id = this.meta[m]!;
      if (this.dropped.size > 0 && this.dropped.delete(id)) {
        this.head++;
        continue;
      }
      if (!put(this.arena, this.meta[m + 1]!, this.meta[m + 2]!)) break;
      this.head++;
      n++;
    }
    if (this.head === this.tail) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.tail) this.compact();
    return n;
  }

  /** Invariant 2: move the waiting frames and their entries to the front. */
  private compact(): void {
    const m = this.meta;
    const first = m[this.head * 3 + 1]!;
    this.arena.copyWithin(0, first, this.used);
    this.used -= first;
    m.copyWithin(0, this.head * 3, this.tail * 3);
    this.tail -= this.head;
    this.head = 0;
    for (let k = 0; k < this.tail; k++) m[k * 3 + 1] = m[k * 3 + 1]! - first;
  }

  /** Forget every waiting frame. */
  clear(): void {
    this.head = this.tail = this.used = 0;
    this.dropped.clear();
  }
}

/** `len` doubled until it holds `need`. */
function grownLength(len: number, need: number): number {
  let n = len * 2;
  while (n < need) n *= 2;
  return n;
}
