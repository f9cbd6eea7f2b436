/**
 * Call deadlines without a timer per call: the waits that share a timeout (30 s for every call of
 * an agent with the default) form one list in deadline order, linked through fields of the wait
 * objects themselves, with one timer per list armed for its head. Adding and removing an entry are
 * a few field writes (a setTimeout + clearTimeout per call, with its Timeout object and closure,
 * was most of what a `sync()` from main allocated); the timer is re-armed only when it fires.
 *
 * Runs on the main thread (AgentHub, main.ts). Owns one unref'd timer per distinct timeout value
 * in use (a list's timer stays armed while the list is empty and finds nothing when it fires).
 *
 * Invariants:
 *   1. Entries of one list were added in time order with the same `ms`, so their deadlines are
 *      non-decreasing from head to tail; expiring from the head is exact.
 *   2. An entry is in at most one list (`dlList`), and `remove` is safe for one in none.
 *   3. A list whose timer is armed has it set for a time no later than its head's deadline (a
 *      removed head leaves the timer early, never late: it re-arms for the new head when it fires).
 */

/** The fields an entry carries (no allocation per entry). */
export interface Timed {
  dlNext: Timed | null;
  dlPrev: Timed | null;
  dlList: DeadlineList | null;
  /** performance.now() at which it expires */
  deadline: number;
}

/** Every list of one owner, by timeout in ms. */
export class Deadlines<T extends Timed> {
  private readonly lists = new Map<number, DeadlineList>();
  constructor(private readonly onExpire: (t: T) => void) {}

  /** Expire `t` in `ms` milliseconds (call `remove` when it settles first). */
  add(t: T, ms: number): void {
    let l = this.lists.get(ms);
    if (l === undefined) {
      l = new DeadlineList(ms, this.onExpire as (t: Timed) => void);
      this.lists.set(ms, l);
    }
    l.append(t);
  }

  remove(t: T): void {
    t.dlList?.unlink(t);
  }

  /** Stop every timer (the owner is closing; entries are settled by it). */
  clear(): void {
    for (const l of this.lists.values()) l.stop();
    this.lists.clear();
  }
}

export class DeadlineList {
  private head: Timed | null = null;
  private tail: Timed | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onExpire: (t: Timed) => void,
  ) {}

  append(t: Timed): void {
    // an integer (a small one: no boxed double per entry), rounded up: never early
    t.deadline = Math.ceil(performance.now() + this.ms);
    t.dlList = this;
    t.dlNext = null;
    t.dlPrev = this.tail;
    if (this.tail) this.tail.dlNext = t;
    else this.head = t;
    this.tail = t;
    if (this.timer === undefined) this.arm(this.ms);
  }

  unlink(t: Timed): void {
    if (t.dlList !== this) return;
    if (t.dlPrev) t.dlPrev.dlNext = t.dlNext;
    else this.head = t.dlNext;
    if (t.dlNext) t.dlNext.dlPrev = t.dlPrev;
    else this.tail = t.dlPrev;
    t.dlNext = t.dlPrev = null;
    t.dlList = null;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    // a timer may fire up to a millisecond before performance.now() reaches the deadline
    const now = performance.now() + 1;
    while (this.head !== null && this.head.deadline <= now) {
      const t = this.head;
      this.unlink(t);
      this.onExpire(t);
    }
    if (this.head !== null && this.timer === undefined) this.arm(this.head.deadline - performance.now());
  };
}
