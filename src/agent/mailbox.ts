/**
 * An agent's mailbox: a FIFO of messages with an optional bound and a policy for a full box,
 * plus the FIFO of messages waiting for room (policy 'wait').
 *
 * Runs on the worker that owns the agent (single thread; no shared memory). Owns its queues.
 *
 * Rules:
 *   1. Unbounded by default: `offer` always takes the message.
 *   2. Bounded (`size`): a message that finds `size` messages queued is handled by the policy:
 *      'wait' parks it behind the box (FIFO; later messages park behind it, so each sender's order
 *      holds) until a `take` makes room; 'drop' refuses it; 'slide' takes it and pushes the oldest
 *      queued message out; 'error' refuses it (the caller rejects it with MailboxFullError).
 *   3. Control messages (sync, stop) are never refused, never counted against the bound and never
 *      pushed out by 'slide' (a slid-out stop would resolve with the agent still running).
 *   4. `offer` reports what happened so the owner can answer acknowledged sends and calls: no
 *      message is ever lost without its sender being told, if its sender waits for an answer.
 */
import type { MailboxPolicy } from './protocol.js';

/** `offer` outcomes. */
export const TAKEN = 0;
export const PARKED = 1;
export const REFUSED = 2;
export const SLID = 3;

/** One segment of a Fifo: a fixed array filled from index 0 and emptied from index 0. */
class Chunk<T> {
  readonly a: Array<T | undefined>;
  next: Chunk<T> | null = null;
  constructor(size: number) {
    this.a = new Array<T | undefined>(size).fill(undefined);
  }
}

/** the first chunk's slots (an idle agent's first message costs this little) and the largest chunk's */
const FIRST_CHUNK = 8;
const MAX_CHUNK = 1024;
/**
 * Emptied full-size chunks, shared by every FIFO on this thread (at most POOL_MAX, 8 MiB): an agent
 * that takes bursts again and again reuses them instead of allocating, and the memory one burst
 * held goes to the next burst of any agent rather than staying with the agent that had it.
 */
const pool: Array<Chunk<unknown>> = [];
const POOL_MAX = 1024;

/**
 * A FIFO on a list of chunks: O(1) push and shift with no copying ever, chunks doubling from 8 to
 * 1024 slots. A ring buffer that doubled (the previous form) copied every queued message on each
 * growth and, with a million sends queued before the first turn (Savina Counting), allocated
 * arrays of up to 1M slots in the large-object space: that growth and the GC it caused were ~15%
 * of the run. Here a burst takes 8 KiB chunks from a per-thread pool (or allocates them), and a
 * drained FIFO keeps one.
 */
export class Fifo<T> {
  /** null until the first push: an idle agent's mailbox costs no array */
  private head: Chunk<T> | null = null;
  private tail: Chunk<T> | null = null;
  /** next slot to shift in `head`, next slot to fill in `tail` */
  private h = 0;
  private t = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(x: T): void {
    let c = this.tail;
    if (c === null) {
      c = this.head = this.tail = new Chunk<T>(FIRST_CHUNK);
    } else if (this.t === c.a.length) {
      const size = Math.min(MAX_CHUNK, c.a.length * 2);
      const next = (size === MAX_CHUNK ? (pool.pop() as Chunk<T> | undefined) : undefined) ?? new Chunk<T>(size);
      c.next = next;
      c = this.tail = next;
      this.t = 0;
    }
    c.a[this.t++] = x;
    this.n++;
  }

  peek(): T | undefined {
    return this.n === 0 ? undefined : this.head!.a[this.h];
  }

  shift(): T | undefined {
    if (this.n === 0) return undefined;
    const c = this.head!;
    const x = c.a[this.h];
    c.a[this.h++] = undefined; // let it be collected
    this.n--;
    if (this.n === 0) {
      // empty: keep this one chunk (the tail) and start it over
      this.head = this.tail;
      this.head!.next = null;
      this.h = this.t = 0;
    } else if (this.h === c.a.length) {
      this.head = c.next;
      c.next = null;
      this.h = 0;
      if (c.a.length === MAX_CHUNK && pool.length < POOL_MAX) pool.push(c as Chunk<unknown>); // every slot cleared
    }
    return x as T;
  }

  /** Remove and return everything. */
  drain(): T[] {
    const out: T[] = new Array<T>(this.n);
    for (let i = 0; i < out.length; i++) out[i] = this.shift() as T;
    this.head = this.tail = null;
    this.h = this.t = 0;
    return out;
  }
}

/** A bounded-or-not mailbox. `T` is the message type. */
export class Mailbox<T> {
  readonly size: number;
  readonly policy: MailboxPolicy;
  private readonly q = new Fifo<T>();
  private parked: Fifo<T> | undefined;
  /** the message the last SLID pushed out (read right after offer) */
  slid: T | undefined;
  /** control messages in `q` (rule 3: not counted against the bound) */
  private ctl = 0;
  private readonly isControl: (m: T) => boolean;

  constructor(size = Infinity, policy: MailboxPolicy = 'wait', isControl: (m: T) => boolean = never) {
    this.size = size;
    this.policy = policy;
    this.isControl = isControl;
  }

  /** messages queued (not counting those parked for room) */
  get depth(): number {
    return this.q.length;
  }

  /** messages queued plus parked */
  get total(): number {
    return this.q.length + (this.parked?.length ?? 0);
  }

  /** Offer a message; `control` messages bypass the bound (rule 3). */
  offer(m: T, control: boolean): number {
    if (this.parked !== undefined && this.parked.length > 0) {
      // someone is already waiting for room: stay behind them (rule 2, FIFO)
      if (control || this.policy === 'wait') {
        this.parked.push(m);
        return PARKED;
      }
    }
    if (control) {
      this.put(m); // (a held message re-offered after a failure comes here too: put counts by kind)
      return TAKEN;
    }
    if (this.q.length - this.ctl < this.size) {
      this.q.push(m); // not a control message: nothing to count (the hot path of every send)
      return TAKEN;
    }
    switch (this.policy) {
      case 'wait':
        (this.parked ??= new Fifo<T>()).push(m);
        return PARKED;
      case 'slide':
        this.slid = this.shiftOldestPlain();
        this.q.push(m);
        return SLID;
      default:
        return REFUSED;
    }
  }

  peek(): T | undefined {
    return this.q.peek();
  }

  /** Take the head; moves one parked message in if that made room (returned by `admitted`). */
  take(): T | undefined {
    const m = this.q.shift();
    if (this.ctl > 0 && m !== undefined && this.isControl(m)) this.ctl--;
    this.admitted = undefined;
    if (this.parked !== undefined && this.parked.length > 0 && this.q.length - this.ctl < this.size) {
      const p = this.parked.shift()!;
      this.put(p);
      this.admitted = p;
    }
    return m;
  }

  private put(m: T): void {
    if (this.isControl(m)) this.ctl++;
    this.q.push(m);
  }

  /** 'slide': remove the oldest message that is not a control message (rule 3), keeping the order. */
  private shiftOldestPlain(): T | undefined {
    if (this.ctl === 0) return this.q.shift();
    let out: T | undefined;
    for (let i = this.q.length; i > 0; i--) {
      const x = this.q.shift() as T;
      if (out === undefined && !this.isControl(x)) out = x;
      else this.q.push(x);
    }
    return out;
  }

  /** the parked message the last `take` moved into the box, if any */
  admitted: T | undefined;

  /** Remove everything, queued then parked, in order. */
  clear(): T[] {
    this.ctl = 0;
    const out = this.q.drain();
    if (this.parked) for (const m of this.parked.drain()) out.push(m);
    return out;
  }
}

function never(): boolean {
  return false;
}
