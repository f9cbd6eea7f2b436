/**
 * The pool's table of unsettled tasks: u32 task id -> record, with no hash map on the fast path.
 *
 * Runs on the main thread only. Owns: a power-of-two ring of records and a Map of stragglers.
 *
 * Why not a Map: at hundreds of thousands of tasks a second, Map.set and Map.delete were ~140 B
 * of garbage per task (its backing store grows and shrinks) and a tenth of main's profile.
 * Ids are handed out in order and most tasks settle roughly in order, so the live ids sit in a
 * window [base, next): ring[id & mask] holds them. A task that outlives the window by far (one
 * long task among millions of quick ones) moves to `stragglers`, so the ring stays bounded by
 * about twice the live count instead of by the age of the oldest live task.
 *
 * Invariants:
 *   1. Ids are u32, never 0, and unique among live records: they count up mod 2^32 and skip any
 *      id a straggler still holds (ids wrap after 4.3 billion tasks, hours at full speed).
 *   2. span = (next - base) mod 2^32 <= ring.length, so every id in the window has its own
 *      ring entry; ids in the window whose entry is undefined have settled (or were skipped).
 *   3. A live id is either in the window (and in the ring) or below base (and in stragglers).
 *   4. base advances past settled ids whenever the record at base is deleted, so a window of
 *      in-order tasks stays as small as the number in flight.
 */

/** Ring length from which a full window evicts old records instead of doubling. */
const EVICT_FROM = 1 << 16;

/** u32 id -> record for the pool's unsettled tasks. */
export class TaskTable<T> {
  private ring: Array<T | undefined> = new Array<T | undefined>(1024).fill(undefined);
  private mask = 1023;
  private base: number;
  private next: number;
  private readonly stragglers = new Map<number, T>();
  private count = 0;

  /** `firstId`: where ids start (tests start them near the 2^32 wrap). */
  constructor(firstId = 1) {
    this.base = this.next = firstId >>> 0;
  }

  /** Entries in the ring (it grows with the ids in flight, not with the oldest one's age). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Live records. */
  get size(): number {
    return this.count;
  }

  /**
   * Reserve the next id (invariant 1) and make room for it in the window; store its record with
   * set() before reserving another.
   *
   * @example
   * const id = table.nextId(); table.set(id, new Rec(id));
   */
  nextId(): number {
    let id = this.next;
    while (id === 0 || (this.stragglers.size > 0 && this.stragglers.has(id))) id = (id + 1) >>> 0;
    if ((id - this.base) >>> 0 > this.mask) this.makeRoom(id);
    this.next = (id + 1) >>> 0;
    return id;
  }

  /** Store the record of `id`, fresh from nextId(). */
  set(id: number, rec: T): void {
    this.ring[id & this.mask] = rec;
    this.count++;
  }

  /** The record of `id`, or undefined when it is not live (settled, dropped, unknown). */
  get(id: number): T | undefined {
    if ((id - this.base) >>> 0 < (this.next - this.base) >>> 0) return this.ring[id & this.mask];
    return this.stragglers.size > 0 ? this.stragglers.get(id) : undefined;
  }

  /** Forget `id` (no-op when it is not live). */
  delete(id: number): void {
    const span = (this.next - this.base) >>> 0;
    if ((id - this.base) >>> 0 < span) {
      const i = id & this.mask;
      if (this.ring[i] === undefined) return;
      this.ring[i] = undefined;
      this.count--;
      if (id === this.base) this.trim();
    } else if (this.stragglers.delete(id)) {
      this.count--;
    }
  }

  /** Every live record (a snapshot: safe to delete while iterating it). */
  values(): T[] {
    const out: T[] = [];
    for (const rec of this.stragglers.values()) out.push(rec);
    const span = (this.next - this.base) >>> 0;
    for (let k = 0; k < span; k++) {
      const rec = this.ring[(this.base + k) & this.mask];
      if (rec !== undefined) out.push(rec);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.stragglers.clear();
    this.base = this.next;
    this.count = 0;
  }

  /** Invariant 4: move base past settled ids. */
  private trim(): void {
    let b = this.base;
    const end = this.next;
    while (b !== end && this.ring[b & this.mask] === undefined) b = (b + 1) >>> 0;
    this.base = b;
  }

  /** The window must reach `id`: double the ring, or evict the oldest records to stragglers. */
  private makeRoom(id: number): void {
    if (this.base === this.next) this.base = this.next = id; // empty window: start it at id
    while ((id - this.base) >>> 0 > this.mask) {
      const len = this.mask + 1;
      if (len < EVICT_FROM || this.count * 2 > len) {
        this.grow();
        continue;
      }
      // Mostly settled ids with a few old survivors: move the oldest half of the window out.
      const stop = (this.base + (len >>> 1)) >>> 0;
      let b = this.base;
      while (b !== stop) {
        const i = b & this.mask;
        const rec = this.ring[i];
        if (rec !== undefined) {
          this.stragglers.set(b, rec);
          this.ring[i] = undefined;
        }
        b = (b + 1) >>> 0;
      }
      this.base = b;
      this.trim();
    }
  }

  private grow(): void {
    const old = this.ring;
    const oldMask = this.mask;
    const len = (oldMask + 1) * 2;
    const ring = new Array<T | undefined>(len).fill(undefined);
    const span = (this.next - this.base) >>> 0;
    for (let k = 0; k < span; k++) {
      const id = (this.base + k) >>> 0;
      ring[id & (len - 1)] = old[id & oldMask];
    }
    this.ring = ring;
    this.mask = len - 1;
  }
}
