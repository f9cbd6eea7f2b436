/**
 * Port channel, client side — how a thread that is not a port channel's owner uses it: every
 * operation is a request over one MessagePort to the owner (owner.ts), except
 * takes that values lent ahead (prefetched) already answer; the wire vocabulary is in
 * wire.ts.
 *
 * Runs on any non-owner thread. Owns its port, the table of its requests still in flight, and
 * the values lent to it. The port is ref'd exactly while a request waits (a parked take keeps
 * the thread alive, an idle channel does not).
 *
 * Rules:
 *  1. A plain wait that is cancelled (signal, ambient task) sends CANCEL and settles on the
 *     owner's verdict: CANCELLED rejects with the CancelledError; a DONE that was already on its
 *     way wins (the op committed before the cancel reached the owner) — no trace either way.
 *  2. A select op commits only in `#offer`: the handler is checked and claimed in the same
 *     synchronous section that answers ACCEPT; otherwise the answer is DECLINE and the owner
 *     keeps the value (op.ts invariant 5 across a round trip).
 *  3. `tryPut`, `stats` and a `tryTake` with nothing lent are synchronous round trips: post, then
 *     `receiveMessageOnPort` until the REPLY, serving any other frame that arrives meanwhile.
 *     They need the owner's event loop to turn. `closed` is answered locally: this thread's own
 *     close sets it at once, another thread's arrives as a CLOSED frame.
 *  4. Lent values (DONE's extras, and a value whose take was served meanwhile) queue in `lent`
 *     in arrival order, which is the owner's send order. Takes are served from its head, oldest
 *     take first; after every frame, `lent` is empty or no take waits. A take served from `lent`
 *     while its own request is out withdraws that request (CANCEL); a value the owner sent for
 *     it anyway joins `lent`.
 *  5. Each value handed to a take is acknowledged (ACK) from a microtask queued before the take's
 *     promise settles, so before any user code sees the value: a thread that dies earlier never
 *     saw it, and the owner serves it again. RECALL flushes pending ACKs, drops `lent` and
 *     answers RETURN.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Ring } from '../../core/buffers.js';
import { CancelledError, TimeoutError, TooManyPendingError } from '../../core/errors.js';
import { onCancel } from '../../core/context.js';
import type { Handler } from '../../core/op.js';
import { decode } from '../../codec/index.js';
import {
  ACCEPT,
  ACK,
  CANCEL,
  CANCELLED,
  CLOSE,
  CLOSED,
  CONNECT,
  DECLINE,
  DONE,
  OFFER,
  PUT,
  RECALL,
  REPLY,
  RETURN,
  SEL_CLOSED,
  SEL_PUT,
  SEL_TAKE,
  STAT,
  TAKE,
  TIMEDOUT,
  TRY_PUT,
  TRY_TAKE,
  type FromClient,
  type ToClient,
} from './wire.js';

/** Requests one client keeps in flight before refusing with TooManyPendingError. */
export const MAX_CLIENT_PENDING = 2048;
/** A synchronous round trip whose owner does not answer within this long throws. */
const SYNC_LIMIT_MS = 30_000;

/** One request in flight. */
interface Pending {
  readonly take: boolean;
  /** plain ops */
  resolve?: (v: unknown) => void;
  reject?: (e: unknown) => void;
  off?: () => void;
  cancelled?: CancelledError;
  hasDefault?: boolean;
  dflt?: unknown;
  timeout?: number;
  /** takeMany: resolve with an array of up to `max` values */
  max?: number;
  /** select ops */
  h?: Handler;
  i?: number;
}

/** A non-owner thread's connection to a port channel's owner. */
export class PortClient {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, Pending>();
  /** ids of pending takes (plain and select), oldest first; entries may be stale */
  readonly #takeOrder = new Ring<number>(4);
  readonly #lent = new Ring<Uint8Array>(8);
  #unacked = 0;
  #ackQueued = false;
  readonly #flush = (): void => this.#flushAcks();
  #nextId = 1;
  #puts = 0;
  #takes = 0;
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (f: ToClient) => this.#receive(f));
    port.unref();
  }

  get pendingPuts(): number {
    return this.#puts;
  }
  get pendingTakes(): number {
    return this.#takes;
  }
  /** Rule 3: known closed (by this thread, or told by the owner). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A plain put, take (`max` 0) or takeMany (`max` >= 1); settles per rule 1. A take is answered
   * from `lent` at once when it can.
   */
  request(
    take: boolean,
    bytes: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hasDefault: boolean,
    dflt: unknown,
    max = 0,
  ): Promise<unknown> {
    if (take && this.#lent.length > 0) return Promise.resolve(this.#fromLent(max));
    this.#checkPending();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { take, resolve, reject, hasDefault, dflt, timeout, max };
      this.#add(id, p);
      this.#port.postMessage(take ? [TAKE, id, timeout ?? -1, Math.max(max, 1)] : [PUT, id, bytes!]);
      p.off = onCancel(signal, (err) => {
        if (p.cancelled !== undefined || !this.#pending.has(id)) return;
        p.cancelled = err;
        this.#port.postMessage([CANCEL, id] satisfies FromClient);
      });
    });
  }

  /** Park a select op; returns its id for `withdraw`. */
  park(take: boolean, bytes: Uint8Array | undefined, h: Handler, i: number): number {
    this.#checkPending();
    const id = this.#nextId++;
    this.#add(id, { take, h, i });
    this.#port.postMessage(take ? [SEL_TAKE, id] : [SEL_PUT, id, bytes!]);
    return id;
  }

  /** Unpark a select op (idempotent; a late OFFER for it is declined). */
  withdraw(id: number): void {
    if (!this.#delete(id)) return;
    this.#port.postMessage([CANCEL, id] satisfies FromClient);
  }

  /** A lent value for a take that commits now (a select's try), or undefined when none is lent. */
  tryLent(): Uint8Array | undefined {
    return this.#lent.length > 0 ? this.#deliver() : undefined;
  }

  /** Bytes, null (closed and drained) or false (nothing now); lent values first (rule 3). */
  tryTake(): Uint8Array | null | false {
    if (this.#lent.length > 0) return this.#deliver();
    const r = this.#call([TRY_TAKE, this.#nextId++]) as Uint8Array | null | false;
    if (!(r instanceof Uint8Array)) return this.#lent.length > 0 ? this.#deliver() : r;
    this.#lent.push(r); // rule 4: behind whatever arrived meanwhile
    return this.#deliver();
  }
  /** true (committed), false (closed), null (would wait). */
  tryPut(bytes: Uint8Array): boolean | null {
    return this.#call([TRY_PUT, this.#nextId++, bytes]) as boolean | null;
  }
  stat(): [number, boolean] {
    const [buffered, closed] = this.#call([STAT, this.#nextId++]) as [number, boolean];
    if (closed) this.#closed = true;
    return [buffered, closed];
  }
  close(): void {
    this.#closed = true;
    // Ordered before any later request of this thread on the same port; the REPLY is ignored.
    this.#port.postMessage([CLOSE, this.#nextId++] satisfies FromClient);
  }

  /** Ask the owner to serve another thread; returns that thread's port. */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#port.postMessage([CONNECT, port1] satisfies FromClient, [port1]);
    return port2 as unknown as MessagePort;
  }

  #receive(f: ToClient): void {
    switch (f[0]) {
      case DONE: {
        const id = f[1];
        const x = f[2];
        const p = this.#pending.get(id);
        if (p === undefined || !p.take) {
          // a take served from `lent` meanwhile (rule 4), or a cancelled take whose CANCELLED
          // raced: the value joins `lent`; a put's outcome after its promise settled is dropped
          if (x instanceof Uint8Array) this.#lendAll(x, f[3]);
          if (p !== undefined) this.#settlePut(id, p, x);
          return;
        }
        this.#delete(id);
        p.off?.();
        if (x instanceof Uint8Array) {
          this.#lendAll(x, f[3]); // `lent` was empty: a take was waiting (rule 4)
          p.resolve!(this.#fromLent(p.max ?? 0));
          this.#serveWaiting();
        } else {
          p.resolve!(p.max ? [] : undefined);
        }
        return;
      }
      case CANCELLED: {
        const p = this.#pending.get(f[1]);
        if (p === undefined) return;
        this.#delete(f[1]);
        p.reject!(p.cancelled ?? new CancelledError('cancelled'));
        return;
      }
      case TIMEDOUT: {
        const p = this.#pending.get(f[1]);
        if (p === undefined) return;
        this.#delete(f[1]);
        p.off?.();
        if (p.hasDefault) p.resolve!(p.dflt);
        else p.reject!(new TimeoutError(`take timed out after ${p.timeout} ms`));
        return;
      }
      case OFFER: {
        const id = f[1];
        const p = this.#pending.get(id);
        const h = p?.h;
        if (p === undefined || h === undefined || !h.active) {
          this.#port.postMessage([DECLINE, id] satisfies FromClient);
          return;
        }
        // rule 2: check, claim and answer in one synchronous section
        this.#delete(id);
        h.claim();
        this.#port.postMessage([ACCEPT, id] satisfies FromClient);
        h.commit(p.i!, p.take ? decode(f[2] as Uint8Array) : true);
        return;
      }
      case SEL_CLOSED: {
        const p = this.#pending.get(f[1]);
        if (p === undefined) return;
        this.#delete(f[1]);
        if (p.h!.claim()) p.h!.commit(p.i!, p.take ? undefined : false);
        return;
      }
      case RECALL:
        // rule 5: what was handed out is acknowledged first, the rest goes back
        this.#flushAcks();
        while (this.#lent.length > 0) this.#lent.shift();
        this.#port.postMessage([RETURN] satisfies FromClient);
        return;
      case CLOSED:
        this.#closed = true;
        return;
      case REPLY:
        return; // a CLOSE's answer, or a sync call that gave up
      default:
        throw new Error(`port channel: unknown reply ${String((f as unknown[])[0])}`);
    }
  }

  /** A plain put's DONE. */
  #settlePut(id: number, p: Pending, x: unknown): void {
    this.#delete(id);
    p.off?.();
    p.resolve!(x);
  }

  /** Queue lent values in arrival order (rule 4). */
  #lendAll(x: Uint8Array, more: Uint8Array[] | undefined): void {
    this.#lent.push(x);
    if (more !== undefined) for (const b of more) this.#lent.push(b);
  }

  /** Rule 4: serve waiting takes (plain, takeMany, select) from `lent`, oldest take first. */
  #serveWaiting(): void {
    const order = this.#takeOrder;
    while (this.#lent.length > 0 && order.length > 0) {
      const id = order.shift()!;
      const p = this.#pending.get(id);
      if (p === undefined || !p.take) continue; // settled already
      if (p.h !== undefined) {
        this.withdraw(id);
        if (p.h.claim()) p.h.commit(p.i!, decode(this.#deliver()));
        continue;
      }
      this.#delete(id);
      p.off?.();
      this.#port.postMessage([CANCEL, id] satisfies FromClient); // its value, if sent anyway, joins `lent`
      p.resolve!(this.#fromLent(p.max ?? 0));
    }
  }

  /** One value (max 0) or up to `max` values from `lent`, decoded and acknowledged. */
  #fromLent(max: number): unknown {
    if (max === 0) return decode(this.#deliver());
    const out: unknown[] = [];
    while (out.length < max && this.#lent.length > 0) out.push(decode(this.#deliver()));
    return out;
  }

  /** Hand the oldest lent value to a take; its ACK goes out from a microtask (rule 5). */
  #deliver(): Uint8Array {
    const b = this.#lent.shift()!;
    this.#unacked++;
    if (!this.#ackQueued) {
      this.#ackQueued = true;
      queueMicrotask(this.#flush);
    }
    return b;
  }

  #flushAcks(): void {
    this.#ackQueued = false;
    if (this.#unacked === 0) return;
    this.#port.postMessage([ACK, this.#unacked] satisfies FromClient);
    this.#unacked = 0;
  }

  /** Rule 3: a synchronous round trip. */
  #call(f: FromClient): unknown {
    const id = f[1] as number;
    this.#port.postMessage(f);
    const deadline = performance.now() + SYNC_LIMIT_MS;
    for (;;) {
      const m = receiveMessageOnPort(this.#port);
      if (m !== undefined) {
        const r = m.message as ToClient;
        if (r[0] === REPLY && r[1] === id) return r[2];
        this.#receive(r);
      } else if (performance.now() > deadline) {
        throw new Error(
          `port channel: the owner thread did not answer within ${SYNC_LIMIT_MS} ms (is its event loop blocked?)`,
        );
      }
    }
  }

  #checkPending(): void {
    if (this.#pending.size >= MAX_CLIENT_PENDING) {
      throw new TooManyPendingError(`a port channel client has ${MAX_CLIENT_PENDING} requests in flight already`);
    }
  }

  #add(id: number, p: Pending): void {
    if (this.#pending.size === 0) this.#port.ref();
    this.#pending.set(id, p);
    if (p.take) {
      this.#takes++;
      this.#takeOrder.push(id);
    } else this.#puts++;
  }

  #delete(id: number): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    this.#pending.delete(id);
    if (p.take) this.#takes--;
    else this.#puts--;
    if (this.#pending.size === 0) {
      this.#port.unref();
      while (this.#takeOrder.length > 0) this.#takeOrder.shift(); // only stale ids left
    }
    return true;
  }
}
