/**
 * Port channel, client side — how a thread that is not a port channel's owner uses it: every
 * operation is a request over one MessagePort to the owner (shared-chan-port-owner.ts); the
 * wire vocabulary is in shared-chan-port-wire.ts.
 *
 * Runs on any non-owner thread. Owns its port and the table of its requests still in flight.
 * The port is ref'd exactly while a request waits (a parked take keeps the thread alive, an idle
 * channel does not).
 *
 * Rules:
 *  1. A plain wait that is cancelled (signal, ambient task) sends CANCEL and settles on the
 *     owner's verdict: CANCELLED rejects with the CancelledError; a DONE that was already on its
 *     way wins (the op committed before the cancel reached the owner) — no trace either way.
 *  2. A select op commits only in `#offer`: the handler is checked and claimed in the same
 *     synchronous section that answers ACCEPT; otherwise the answer is DECLINE and the owner
 *     keeps the value (op.ts invariant 5 across a round trip).
 *  3. try-operations (`tryPut`, `tryTake`, `closed`, `stats`, a select op's first try) are
 *     synchronous round trips: post, then `receiveMessageOnPort` until the REPLY, serving any
 *     other frame that arrives meanwhile. They need the owner's event loop to turn; a thread
 *     must not call them from inside a synchronous section the owner waits on.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CancelledError, TimeoutError, TooManyPendingError } from '../core/errors.js';
import { onCancel } from '../core/context.js';
import type { Handler } from '../core/op.js';
import { decode } from './codec.js';
import {
  ACCEPT, CANCEL, CANCELLED, CLOSE, CONNECT, DECLINE, DONE, OFFER, PUT, REPLY, SEL_CLOSED, SEL_PUT, SEL_TAKE,
  STAT, TAKE, TIMEDOUT, TRY_PUT, TRY_TAKE, type FromClient, type ToClient,
} from './shared-chan-port-wire.js';

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
  /** select ops */
  h?: Handler;
  i?: number;
}

/** A non-owner thread's connection to a port channel's owner. */
export class PortClient {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #puts = 0;
  #takes = 0;

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

  /** A plain put or take; settles per rule 1. */
  request(take: boolean, bytes: Uint8Array | undefined, signal: AbortSignal | undefined, timeout: number | undefined, hasDefault: boolean, dflt: unknown): Promise<unknown> {
    this.#checkPending();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { take, resolve, reject, hasDefault, dflt, timeout };
      this.#add(id, p);
      this.#port.postMessage(take ? [TAKE, id, timeout ?? -1] : [PUT, id, bytes!]);
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

  tryTake(): Uint8Array | null | false {
    return this.#call([TRY_TAKE, this.#nextId++]) as Uint8Array | null | false;
  }
  /** true (committed), false (closed), null (would wait). */
  tryPut(bytes: Uint8Array): boolean | null {
    return this.#call([TRY_PUT, this.#nextId++, bytes]) as boolean | null;
  }
  stat(): [number, boolean] {
    return this.#call([STAT, this.#nextId++]) as [number, boolean];
  }
  close(): void {
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
    const id = f[1];
    const p = this.#pending.get(id);
    switch (f[0]) {
      case DONE: {
        if (p === undefined) return;
        this.#delete(id);
        p.off?.();
        const x = f[2];
        p.resolve!(p.take ? (x === null ? undefined : decode(x as Uint8Array)) : x);
        return;
      }
      case CANCELLED:
        if (p === undefined) return;
        this.#delete(id);
        p.reject!(p.cancelled ?? new CancelledError('cancelled'));
        return;
      case TIMEDOUT:
        if (p === undefined) return;
        this.#delete(id);
        p.off?.();
        if (p.hasDefault) p.resolve!(p.dflt);
        else p.reject!(new TimeoutError(`take timed out after ${p.timeout} ms`));
        return;
      case OFFER: {
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
      case SEL_CLOSED:
        if (p === undefined) return;
        this.#delete(id);
        if (p.h!.claim()) p.h!.commit(p.i!, p.take ? undefined : false);
        return;
      case REPLY:
        return; // a CLOSE's answer, or a sync call that gave up
      default:
        throw new Error(`port channel: unknown reply ${String((f as unknown[])[0])}`);
    }
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
        throw new Error(`port channel: the owner thread did not answer within ${SYNC_LIMIT_MS} ms (is its event loop blocked?)`);
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
    if (p.take) this.#takes++;
    else this.#puts++;
  }

  #delete(id: number): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    this.#pending.delete(id);
    if (p.take) this.#takes--;
    else this.#puts--;
    if (this.#pending.size === 0) this.#port.unref();
    return true;
  }
}
