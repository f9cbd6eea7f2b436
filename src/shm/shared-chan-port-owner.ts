/**
 * Port channel, owner side — the state of a channel under SHOAL_TRANSPORT=message: the buffer of
 * encoded values, the parked puts and takes of this thread and of remote threads, and the ports
 * the remote threads talk through. The client side and the wire vocabulary are in port-chan.ts.
 *
 * Runs on the thread that created the channel (its owner), from its event loop. Owns everything
 * above; remote threads hold only a MessagePort to it.
 *
 * Waiters come in three kinds, which differ in who may decide that a parked op commits:
 *  - LOCAL: a handler on this thread; `claim()` decides synchronously (op.ts invariant 5).
 *  - SOLO: a remote plain put/take; this thread decides, then tells the client (DONE). A client
 *    that cancels sends CANCEL and waits for the verdict: CANCELLED, or the DONE that was first.
 *  - OFFER: a remote select op; only the client can claim its handler. This thread sends OFFER
 *    and holds the channel LOCKED until ACCEPT or DECLINE comes back (one round trip), so the
 *    offered value stays at the head and nothing else moves meanwhile.
 *
 * Invariants:
 *  1. At most one OFFER is outstanding (`lock`). While locked, nothing commits: local tries
 *     answer NOT_READY (so tryPut/tryTake say "would wait"), remote requests wait in `backlog`.
 *  2. `settle()` runs after every change and restores: a live parked take implies an empty
 *     buffer (unless locked); a live parked put implies a full fixed buffer (unless locked);
 *     once closed, no parked put remains and no parked take remains while the buffer is empty.
 *  3. "Closed" (for puts) and "closed and drained" (for takes) are permanent, so those outcomes
 *     go to OFFER waiters without a lock (SEL_CLOSED): a client that already moved on ignores it.
 *  4. A port that closes (its thread died) drops its waiters; a lock it held counts as DECLINE.
 */
import type { MessagePort } from 'node:worker_threads';
import { Ring } from '../core/buffers.js';
import { NOT_READY, type Handler, type NotReady } from '../core/op.js';
import { decode } from './codec.js';
import {
  ACCEPT, CANCEL, CANCELLED, CLOSE, CONNECT, DECLINE, DONE, OFFER, PUT, REPLY, SEL_CLOSED, SEL_PUT, SEL_TAKE,
  STAT, TAKE, TIMEDOUT, TRY_PUT, TRY_TAKE, type FromClient,
} from './shared-chan-port-wire.js';
import type { SharedKind } from './shared-chan-layout.js';

const LOCAL = 0;
const SOLO = 1;
const OFFERED = 2;

/** One parked op, local or remote. */
export class PortWaiter {
  live = true;
  timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    readonly how: typeof LOCAL | typeof SOLO | typeof OFFERED,
    readonly bytes: Uint8Array | undefined,
    readonly h: Handler | undefined,
    readonly i: number,
    readonly port: MessagePort | undefined,
    readonly id: number,
  ) {}
}

const KEEP_ALIVE_MS = 2 ** 30;
function noop(): void {}

/** The owner's state of one port channel. */
export class PortOwner {
  readonly kind: SharedKind;
  readonly cap: number;
  readonly valueBytes: number;
  closed = false;
  readonly #buf = new Ring<Uint8Array>(16);
  readonly #takers = new Ring<PortWaiter>(4);
  readonly #putters = new Ring<PortWaiter>(4);
  #liveTakers = 0;
  #livePutters = 0;
  #localParked = 0;
  #keepAlive: ReturnType<typeof setTimeout> | undefined;
  #lock: PortWaiter | undefined;
  #backlog: Array<[MessagePort, FromClient]> = [];
  #settling = false;

  constructor(kind: SharedKind, cap: number, valueBytes: number) {
    this.kind = kind;
    this.cap = cap;
    this.valueBytes = valueBytes;
  }

  get buffered(): number {
    return this.#buf.length;
  }
  get pendingPuts(): number {
    return this.#livePutters;
  }
  get pendingTakes(): number {
    return this.#liveTakers;
  }

  /** Serve a remote thread on `port` (unref'd: remote waits keep their own thread alive). */
  attach(port: MessagePort): void {
    port.on('message', (f: FromClient) => this.#receive(port, f));
    port.once('close', () => this.#portClosed(port));
    port.unref();
  }

  /** Commit a put now: true (buffered or dropped), false (closed), NOT_READY (full or locked). */
  offer(bytes: Uint8Array): boolean | NotReady {
    if (this.#lock !== undefined) return NOT_READY;
    if (this.closed) return false;
    if (this.#buf.length >= this.cap && this.kind === 'fixed') return NOT_READY;
    this.#store(bytes);
    this.settle();
    return true;
  }

  /** Buffer a value that may commit: a full dropping buffer drops it, a full sliding one the oldest. */
  #store(bytes: Uint8Array): void {
    const buf = this.#buf;
    if (buf.length < this.cap) buf.push(bytes);
    else if (this.kind === 'sliding') {
      buf.shift();
      buf.push(bytes);
    }
  }

  /** Commit a take now: the value's bytes, null (closed and drained), NOT_READY. */
  poll(): Uint8Array | null | NotReady {
    if (this.#lock !== undefined) return NOT_READY;
    const v = this.#buf.shift();
    if (v !== undefined) {
      this.settle();
      return v;
    }
    return this.closed ? null : NOT_READY;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle();
  }

  /** Park an op (local: `h` given; remote: `port` and `id`). */
  park(w: PortWaiter, puts: boolean): void {
    (puts ? this.#putters : this.#takers).push(w);
    if (puts) this.#livePutters++;
    else this.#liveTakers++;
    if (w.how === LOCAL && this.#localParked++ === 0) this.#keepAlive = setTimeout(noop, KEEP_ALIVE_MS);
  }

  /** Unpark: the waiter is never served afterwards. Idempotent. */
  unpark(w: PortWaiter, puts: boolean): void {
    if (!w.live) return;
    w.live = false;
    if (puts) this.#livePutters--;
    else this.#liveTakers--;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.how === LOCAL && --this.#localParked === 0) clearTimeout(this.#keepAlive);
    // Drop dead entries when they dominate, so a stream of cancelled waits cannot grow a queue.
    const list = puts ? this.#putters : this.#takers;
    if (list.length > 64 && (puts ? this.#livePutters : this.#liveTakers) * 2 < list.length) list.retain((x) => x.live);
  }

  /** Invariant 2: commit every parked op that can commit, oldest first. */
  settle(): void {
    if (this.#settling) return;
    this.#settling = true;
    try {
      while (this.#lock === undefined && this.#step()) {
        /* keep serving */
      }
      while (this.#lock === undefined && this.#backlog.length) {
        const [port, f] = this.#backlog.shift()!;
        this.#handle(port, f);
        while (this.#lock === undefined && this.#step()) {
          /* keep serving */
        }
      }
    } finally {
      this.#settling = false;
    }
  }

  /** One commit (or dropped dead waiter); false when nothing can move. */
  #step(): boolean {
    const t = this.#head(false);
    if (t !== undefined && (this.#buf.length > 0 || this.closed)) {
      const v = this.#buf.peek();
      return this.#serve(t, false, v === undefined ? null : v);
    }
    const p = this.#head(true);
    // dropping and sliding puts park only while locked; they always commit once unlocked
    if (p !== undefined && (this.closed || this.kind !== 'fixed' || this.#buf.length < this.cap)) return this.#serve(p, true, null);
    return false;
  }

  /** Commit waiter `w` with the head value `v` (take) or the room for its value (put). */
  #serve(w: PortWaiter, puts: boolean, v: Uint8Array | null): boolean {
    const list = puts ? this.#putters : this.#takers;
    const closedOutcome = puts ? this.closed : v === null;
    if (w.how === LOCAL) {
      const h = w.h!;
      list.shift();
      this.unpark(w, puts);
      if (!h.claim()) return true;
      if (closedOutcome) return h.commit(w.i, puts ? false : undefined), true;
      if (puts) this.#store(w.bytes!);
      else this.#buf.shift();
      h.commit(w.i, puts ? true : decode(v!));
      return true;
    }
    const port = w.port!;
    if (w.how === SOLO || closedOutcome) {
      list.shift();
      this.unpark(w, puts);
      if (w.how === OFFERED) port.postMessage([SEL_CLOSED, w.id]); // invariant 3
      else if (closedOutcome) port.postMessage([DONE, w.id, puts ? false : null]);
      else {
        if (puts) this.#store(w.bytes!);
        else this.#buf.shift();
        port.postMessage([DONE, w.id, puts ? true : v]);
      }
      return true;
    }
    this.#lock = w; // invariant 1: wait for ACCEPT / DECLINE
    port.postMessage([OFFER, w.id, puts ? null : v]);
    return false;
  }

  /** The oldest live waiter, dropping dead ones (and local ones whose waiter moved on) from the front. */
  #head(puts: boolean): PortWaiter | undefined {
    const list = puts ? this.#putters : this.#takers;
    for (let w = list.peek(); w !== undefined; w = list.peek()) {
      if (w.live && (w.h === undefined || w.h.active)) return w;
      list.shift();
      this.unpark(w, puts);
    }
    return undefined;
  }

  /** The lock holder answered. */
  #answer(w: PortWaiter, accepted: boolean): void {
    this.#lock = undefined;
    const puts = w.bytes !== undefined;
    const list = puts ? this.#putters : this.#takers;
    if (this.#head(puts) === w) list.shift();
    this.unpark(w, puts);
    if (accepted) {
      if (puts) this.#store(w.bytes!);
      else this.#buf.shift();
    }
    this.settle();
  }

  #receive(port: MessagePort, f: FromClient): void {
    if (f[0] === ACCEPT || f[0] === DECLINE) {
      const w = this.#lock;
      if (w !== undefined && w.port === port && w.id === f[1]) this.#answer(w, f[0] === ACCEPT);
      return;
    }
    if (this.#lock !== undefined || this.#settling) this.#backlog.push([port, f]);
    else {
      this.#handle(port, f);
      this.settle();
    }
  }

  #handle(port: MessagePort, f: FromClient): void {
    switch (f[0]) {
      case TAKE:
      case SEL_TAKE: {
        const w = new PortWaiter(f[0] === TAKE ? SOLO : OFFERED, undefined, undefined, 0, port, f[1]);
        this.park(w, false);
        if (f[0] === TAKE && f[2] >= 0) {
          w.timer = setTimeout(() => {
            if (!w.live) return;
            this.unpark(w, false);
            port.postMessage([TIMEDOUT, w.id]);
          }, f[2]);
        }
        return;
      }
      case PUT:
      case SEL_PUT:
        this.park(new PortWaiter(f[0] === PUT ? SOLO : OFFERED, f[2], undefined, 0, port, f[1]), true);
        return;
      case CANCEL: {
        const w = find(this.#takers, port, f[1]) ?? find(this.#putters, port, f[1]);
        if (w === undefined) return; // already served: its DONE / OFFER is on the way
        this.unpark(w, w.bytes !== undefined);
        if (w.how === SOLO) port.postMessage([CANCELLED, w.id]);
        return;
      }
      case TRY_TAKE: {
        const r = this.poll();
        port.postMessage([REPLY, f[1], r === NOT_READY ? false : r]);
        return;
      }
      case TRY_PUT: {
        const r = this.offer(f[2]);
        port.postMessage([REPLY, f[1], r === NOT_READY ? null : r]);
        return;
      }
      case CLOSE:
        this.close();
        port.postMessage([REPLY, f[1], true]);
        return;
      case STAT:
        port.postMessage([REPLY, f[1], [this.#buf.length, this.closed]]);
        return;
      case CONNECT:
        this.attach(f[1]);
        return;
      default:
        throw new Error(`port channel: unknown request ${String((f as unknown[])[0])}`);
    }
  }

  /** Invariant 4. */
  #portClosed(port: MessagePort): void {
    for (const list of [this.#takers, this.#putters]) {
      for (const w of list.toArray()) if (w.port === port) this.unpark(w, list === this.#putters);
    }
    this.#backlog = this.#backlog.filter(([p]) => p !== port);
    const w = this.#lock;
    if (w !== undefined && w.port === port) this.#answer(w, false);
    else this.settle();
  }
}

function find(list: Ring<PortWaiter>, port: MessagePort, id: number): PortWaiter | undefined {
  for (const w of list.toArray()) if (w.live && w.port === port && w.id === id) return w;
  return undefined;
}
