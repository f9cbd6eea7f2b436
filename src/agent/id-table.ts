/**
 * IdTable: a map from positive integer ids handed out in increasing order (agent ids, reply ids)
 * to values, as a direct-mapped window: the entry of id `k` sits in slot `k & mask` of an array,
 * so get / set / delete are an index and a compare. A Map with tens of thousands of integer keys
 * misses the cache on each (profile: docs/measurements.md, 2026-12-07 06:00 agents); Fork-join
 * create does four such operations per agent on main.
 *
 * Runs on the main thread (the agent hub, main.ts). Owns its arrays.
 *
 * Rules:
 *   1. Slot j holds at most one entry: keys[j] is its id, or 0 (empty). Ids are never 0.
 *   2. An id whose slot is taken by another live id makes the table double (the live ids span
 *      more than its size) up to MAX_SLOTS; past that, or for an entry that collides while the
 *      table is rebuilt, the entry goes to `over`, a Map. get / delete look in both.
 *   3. Iteration (values, entries) returns a snapshot in increasing id order, so the caller may
 *      delete while it walks (the paths that iterate are rare: a worker's death, close, rt.tasks()).
 *      `forEach` walks the slots as they are: the caller may delete only what it was just given.
 */
const MAX_SLOTS = 1 << 20;

export class IdTable<V> {
  private keys: number[];
  private vals: Array<V | undefined>;
  private mask: number;
  private n = 0;
  private over: Map<number, V> | undefined;

  constructor(slots = 1024) {
    this.keys = new Array<number>(slots).fill(0);
    this.vals = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.n + (this.over?.size ?? 0);
  }

  get(k: number): V | undefined {
    const j = k & this.mask;
    if (this.keys[j] === k) return this.vals[j];
    return this.over === undefined ? undefined : this.over.get(k);
  }

  /** Add or replace the entry of id `k` (> 0). */
  set(k: number, v: V): void {
    if (this.over?.has(k)) {
      this.over.set(k, v);
      return;
    }
    for (;;) {
      const j = k & this.mask;
      const kj = this.keys[j]!;
      if (kj === 0 || kj === k) {
        if (kj === 0) this.n++;
        this.keys[j] = k;
        this.vals[j] = v;
        return;
      }
      if (this.keys.length >= MAX_SLOTS) {
        (this.over ??= new Map()).set(k, v);
        return;
      }
      this.grow();
    }
  }

  delete(k: number): boolean {
    const j = k & this.mask;
    if (this.keys[j] === k) {
      this.keys[j] = 0;
      this.vals[j] = undefined;
      this.n--;
      return true;
    }
    return this.over === undefined ? false : this.over.delete(k);
  }

  clear(): void {
    this.keys.fill(0);
    this.vals.fill(undefined);
    this.n = 0;
    this.over = undefined;
  }

  /** [id, value] pairs in increasing id order (a snapshot). */
  entries(): Array<[number, V]> {
    const out: Array<[number, V]> = [];
    for (let j = 0; j < this.keys.length; j++) if (this.keys[j] !== 0) out.push([this.keys[j]!, this.vals[j]!]);
    if (this.over !== undefined) for (const e of this.over) out.push(e);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** Values in increasing id order (a snapshot). */
  values(): V[] {
    return this.entries().map((e) => e[1]);
  }

  /**
   * Call `f` on every value in no particular order, without sorting or an iterator result per
   * value (the creation sweep walks every agent each second). `f` may delete the entry it was given.
   */
  forEach(f: (v: V) => void): void {
    const keys = this.keys;
    const vals = this.vals;
    for (let j = 0; j < keys.length; j++) if (keys[j] !== 0) f(vals[j]!);
    if (this.over !== undefined) for (const v of [...this.over.values()]) f(v);
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    const size = keys.length * 2;
    this.keys = new Array<number>(size).fill(0);
    this.vals = new Array<V | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.n = 0;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j]!;
      if (k === 0) continue;
      const i = k & this.mask;
      if (this.keys[i] === 0) {
        this.keys[i] = k;
        this.vals[i] = vals[j];
        this.n++;
      } else (this.over ??= new Map()).set(k, vals[j]!); // rule 2
    }
  }
}
