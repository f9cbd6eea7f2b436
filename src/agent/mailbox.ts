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
 *   3. Control messages (sync, stop) are never refused nor counted against the bound.
 *   4. `offer` reports what happened so the owner can answer acknowledged sends and calls: no
 *      message is ever lost without its sender being told, if its sender waits for an answer.
 */
import type { MailboxPolicy } from './protocol.js';

/** `offer` outcomes. */
export const TAKEN = 0;
export const PARKED = 1;
export const REFUSED = 2;
export const SLID = 3;

/**
 * A FIFO on a ring buffer whose capacity doubles when full (a power of two): O(1) push and shift
 * with no copying but at growth. Measured against an array with a moving head that sliced itself
 * down (1M pushes then 1M shifts of one string): push 2-3x faster, shift ~5x.
 */
export class Fifo<T> {
  /** empty until the first push: an idle agent's mailbox costs one empty array */
  private b: Array<T | undefined> = [];
  private m = 0;
  private h = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(x: T): void {
    if (this.n === this.b.length) this.grow();
    this.b[(this.h + this.n) & this.m] = x;
    this.n++;
  }

  peek(): T | undefined {
    return this.n === 0 ? undefined : this.b[this.h];
  }

  shift(): T | undefined {
    if (this.n === 0) return undefined;
    const x = this.b[this.h];
    this.b[this.h] = undefined; // let it be collected
    this.h = (this.h + 1) & this.m;
    this.n--;
    return x;
  }

  /** Remove and return everything. */
  drain(): T[] {
    const out: T[] = new Array<T>(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.b[(this.h + i) & this.m] as T;
    this.b = [];
    this.m = 0;
    this.h = 0;
    this.n = 0;
    return out;
  }

  private grow(): void {
    const old = this.b;
    const cap = old.length === 0 ? 8 : old.length * 2;
    const nb = new Array<T | undefined>(cap).fill(undefined);
    for (let i = 0; i < this.n; i++) nb[i] = old[(this.h + i) & this.m];
    this.b = nb;
    this.m = cap - 1;
    this.h = 0;
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

  constructor(size = Infinity, policy: MailboxPolicy = 'wait') {
    this.size = size;
    this.policy = policy;
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
    if (control || this.q.length < this.size) {
      this.q.push(m);
      return TAKEN;
    }
    switch (this.policy) {
      case 'wait':
        (this.parked ??= new Fifo<T>()).push(m);
        return PARKED;
      case 'slide':
        this.slid = this.q.shift();
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
    this.admitted = undefined;
    if (this.parked !== undefined && this.parked.length > 0 && this.q.length < this.size) {
      const p = this.parked.shift()!;
      this.q.push(p);
      this.admitted = p;
    }
    return m;
  }

  /** the parked message the last `take` moved into the box, if any */
  admitted: T | undefined;

  /** Remove everything, queued then parked, in order. */
  clear(): T[] {
    const out = this.q.drain();
    if (this.parked) for (const m of this.parked.drain()) out.push(m);
    return out;
  }
}
