/**
 * Port channel, owner side — the state of a channel under SHOAL_TRANSPORT=message: the buffer of
 * encoded values, the parked puts and takes of this thread and of remote threads, the values lent
 * to remote threads, and the ports those threads talk through. The client side is in
 * client.ts, the wire vocabulary in wire.ts.
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
 * Lending (prefetch): a remote take costs a round trip, so when this thread serves a client's
 * plain take and no other taker waits, it sends up to LEND_MAX further values along. Every value
 * sent to a client (DONE or REPLY) is *lent*: kept here, in send order, until that client ACKs
 * it (it handed it to a take) or gives it back.
 *
 * Invariants:
 *  1. At most one OFFER is outstanding (`lock`). While locked or recalling, nothing commits:
 *     local tries answer NOT_READY (so tryPut/tryTake say "would wait"), remote requests wait in
 *     `backlog`. ACK, RETURN, ACCEPT and DECLINE are handled at once.
 *  2. `settle()` runs after every change and restores: a live parked take implies an empty
 *     buffer with nothing lent elsewhere (unless locked or recalling); a live parked put implies
 *     a full fixed buffer (unless locked); once closed, no parked put remains and no parked take
 *     remains while nothing is buffered or lent.
 *  3. "Closed" (for puts) and "closed and drained" (for takes) are permanent, so those outcomes
 *     go to OFFER waiters without a lock (SEL_CLOSED): a client that already moved on ignores it.
 *  4. A port that closes (its thread died) drops its waiters; a lock it held counts as DECLINE;
 *     the values lent to it and not acknowledged go back to the head of the buffer, in order.
 *  5. Order: nobody takes a value while an older one is lent to another thread. Before serving a
 *     taker (local, or of another port) while values are lent elsewhere, this thread RECALLs
 *     them and waits for every RETURN; returned values go back to the head, in their order.
 *     So values still leave the channel in put order, and each consumer sees each producer's
 *     values in order (a thread that died is the exception: its values are served again after
 *     newer ones others took meanwhile).
 *  6. Capacity: a fixed or dropping buffer counts lent values as held (`buf + lent <= cap`), so a
 *     producer cannot run more than the buffer ahead of what consumers actually took. A sliding
 *     buffer counts its own values only (lent values cannot be evicted).
 */
import type { MessagePort } from 'node:worker_threads';
import { Ring } from '../../core/buffers.js';
import { NOT_READY, type Handler, type NotReady } from '../../core/op.js';
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
} from './wire.js';
import type { SharedKind } from '../api.js';

const LOCAL = 0;
const SOLO = 1;
const OFFERED = 2;

/** Values lent to one client in one go, at most (a takeMany may ask for more). */
export const LEND_MAX = 64;

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
    /** takes: how many values the client would like (takeMany) */
    readonly want = 1,
  ) {}
}

/** A remote thread: its port and the values lent to it, oldest first. */
interface Peer {
  readonly lent: Ring<Uint8Array>;
  recalling: boolean;
}

const KEEP_ALIVE_MS = 2 ** 30;
function noop(): void {}

/** The owner's state of one port channel. */
export class PortOwner {
  readonly kind: SharedKind;
  readonly cap: number;
  readonly valueBytes: number;
  closed = false;
  #buf = new Ring<Uint8Array>(16);
  readonly #takers = new Ring<PortWaiter>(4);
  readonly #putters = new Ring<PortWaiter>(4);
  readonly #peers = new Map<MessagePort, Peer>();
  #lent = 0;
  #recalls = 0;
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

  /** Values not yet taken: buffered here plus lent out (invariant 6), at most the capacity. */
  get buffered(): number {
    return Math.min(this.#buf.length + this.#lent, this.cap);
  }
  get pendingPuts(): number {
    return this.#livePutters;
  }
  get pendingTakes(): number {
    return this.#liveTakers;
  }

  /** Serve a remote thread on `port` (unref'd: remote waits keep their own thread alive). */
  attach(port: MessagePort): void {
    this.#peers.set(port, { lent: new Ring<Uint8Array>(8), recalling: false });
    port.on('message', (f: FromClient) => this.#receive(port, f));
    port.once('close', () => this.#portClosed(port));
    port.unref();
    if (this.closed) port.postMessage([CLOSED]);
  }

  /** Commit a put now: true (buffered or dropped), false (closed), NOT_READY (full or locked). */
  offer(bytes: Uint8Array): boolean | NotReady {
    if (this.#locked()) return NOT_READY;
    if (this.closed) return false;
    if (this.kind === 'fixed' && this.#full()) return NOT_READY;
    this.#store(bytes);
    this.settle();
    return true;
  }

  /** Commit a take now for this thread or `port`: the value's bytes, null (closed and drained), NOT_READY. */
  poll(port?: MessagePort): Uint8Array | null | NotReady {
    if (this.#locked()) return NOT_READY;
    if (this.#recallOthers(port)) return NOT_READY; // invariant 5
    const v = this.#buf.shift();
    if (v !== undefined) {
      if (port !== undefined) this.#peers.get(port)!.lent.push(v), this.#lent++;
      this.settle();
      return v;
    }
    return this.closed ? null : NOT_READY;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const port of this.#peers.keys()) port.postMessage([CLOSED]);
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
      while (!this.#locked() && this.#step()) {
        /* keep serving */
      }
      while (!this.#locked() && this.#backlog.length) {
        const [port, f] = this.#backlog.shift()!;
        if (this.#peers.has(port)) this.#handle(port, f);
        while (!this.#locked() && this.#step()) {
          /* keep serving */
        }
      }
    } finally {
      this.#settling = false;
    }
  }

  #locked(): boolean {
    return this.#lock !== undefined || this.#recalls > 0;
  }

  /** Invariant 6. */
  #full(): boolean {
    return this.#buf.length + (this.kind === 'sliding' ? 0 : this.#lent) >= this.cap;
  }

  /** Buffer a value that may commit: a full dropping buffer drops it, a full sliding one the oldest. */
  #store(bytes: Uint8Array): void {
    const buf = this.#buf;
    if (!this.#full()) buf.push(bytes);
    else if (this.kind === 'sliding') {
      buf.shift();
      buf.push(bytes);
    }
  }

  /** Invariant 5: RECALL values lent to any port but `port`; true when some are out (then wait). */
  #recallOthers(port: MessagePort | undefined): boolean {
    if (this.#lent === 0) return false;
    let out = false;
    for (const [p, peer] of this.#peers) {
      if (p === port || peer.lent.length === 0) continue;
      out = true;
      if (!peer.recalling) {
        peer.recalling = true;
        this.#recalls++;
        p.postMessage([RECALL]);
      }
    }
    return out;
  }

  /** One commit (or dropped dead waiter); false when nothing can move. */
  #step(): boolean {
    const t = this.#head(false);
    if (t !== undefined && (this.#buf.length > 0 || this.closed || this.#lent > 0)) {
      if (this.#recallOthers(t.port)) return false; // invariant 5: wait for the RETURNs
      if (this.#buf.length > 0 || this.closed) {
        const v = this.#buf.peek();
        return this.#serve(t, false, v === undefined ? null : v);
      }
    }
    const p = this.#head(true);
    // dropping and sliding puts park only while locked; they always commit once unlocked
    if (p !== undefined && (this.closed || this.kind !== 'fixed' || !this.#full())) return this.#serve(p, true, null);
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
      if (closedOutcome) return (h.commit(w.i, puts ? false : undefined), true);
      if (puts) this.#store(w.bytes!);
      else this.#buf.shift();
      h.commit(w.i, puts ? true : decode(v!));
      return true;
    }
    const port = w.port!;
    if (w.how === SOLO || closedOutcome) {
      list.shift();
      this.unpark(w, puts);
      if (w.how === OFFERED)
        port.postMessage([SEL_CLOSED, w.id]); // invariant 3
      else if (closedOutcome) port.postMessage([DONE, w.id, puts ? false : null]);
      else if (puts) {
        this.#store(w.bytes!);
        port.postMessage([DONE, w.id, true]);
      } else {
        this.#buf.shift();
        port.postMessage([DONE, w.id, v, this.#lendMore(port, v!, w.want)]);
      }
      return true;
    }
    this.#lock = w; // invariant 1: wait for ACCEPT / DECLINE
    port.postMessage([OFFER, w.id, puts ? null : v]);
    return false;
  }

  /** `v` goes to `port` as a lent value; so do up to LEND_MAX - 1 more while nobody else waits. */
  #lendMore(port: MessagePort, v: Uint8Array, want: number): Uint8Array[] {
    const lent = this.#peers.get(port)!.lent;
    lent.push(v);
    this.#lent++;
    const more: Uint8Array[] = [];
    if (this.#liveTakers > 0) return more; // others wait: they come first
    const n = Math.min(this.#buf.length, Math.max(want, LEND_MAX) - lent.length);
    for (let k = 0; k < n; k++) {
      const b = this.#buf.shift()!;
      lent.push(b);
      more.push(b);
    }
    this.#lent += n;
    return more;
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

  /** `port` gives back every value lent to it and not acknowledged (invariants 4 and 5). */
  #takeBack(peer: Peer): void {
    if (peer.recalling) {
      peer.recalling = false;
      this.#recalls--;
    }
    const n = peer.lent.length;
    if (n === 0) return;
    const back = peer.lent.toArray();
    for (let k = 0; k < n; k++) peer.lent.shift();
    this.#lent -= n;
    const rest = this.#buf.toArray();
    const buf = new Ring<Uint8Array>(back.length + rest.length + 1);
    // A value OFFERed to a select take stays at the head: the answer refers to it (a port can
    // only close, not RETURN, while an OFFER is out: RECALLs are sent only while unlocked).
    const keep = this.#lock !== undefined && this.#lock.bytes === undefined && rest.length > 0 ? 1 : 0;
    for (let k = 0; k < keep; k++) buf.push(rest[k]!);
    for (const b of back) buf.push(b);
    for (let k = keep; k < rest.length; k++) buf.push(rest[k]!);
    this.#buf = buf;
  }

  #receive(port: MessagePort, f: FromClient): void {
    const peer = this.#peers.get(port);
    if (peer === undefined) return; // closed meanwhile
    switch (f[0]) {
      case ACCEPT:
      case DECLINE: {
        const w = this.#lock;
        if (w !== undefined && w.port === port && w.id === f[1]) this.#answer(w, f[0] === ACCEPT);
        return;
      }
      case ACK: {
        const k = Math.min(f[1], peer.lent.length);
        for (let j = 0; j < k; j++) peer.lent.shift();
        this.#lent -= k;
        this.settle(); // room for puts may have appeared (invariant 6)
        return;
      }
      case RETURN:
        this.#takeBack(peer);
        this.settle();
        return;
    }
    if (this.#locked() || this.#settling) this.#backlog.push([port, f]);
    else {
      this.#handle(port, f);
      this.settle();
    }
  }

  #handle(port: MessagePort, f: FromClient): void {
    switch (f[0]) {
      case TAKE:
      case SEL_TAKE: {
        const w = new PortWaiter(
          f[0] === TAKE ? SOLO : OFFERED,
          undefined,
          undefined,
          0,
          port,
          f[1],
          f[0] === TAKE ? f[3] : 1,
        );
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
        const r = this.poll(port);
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
        port.postMessage([REPLY, f[1], [this.buffered, this.closed]]);
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
    const peer = this.#peers.get(port);
    if (peer === undefined) return;
    for (const list of [this.#takers, this.#putters]) {
      for (const w of list.toArray()) if (w.port === port) this.unpark(w, list === this.#putters);
    }
    this.#backlog = this.#backlog.filter(([p]) => p !== port);
    this.#takeBack(peer);
    this.#peers.delete(port);
    const w = this.#lock;
    if (w !== undefined && w.port === port) this.#answer(w, false);
    else this.settle();
  }
}

function find(list: Ring<PortWaiter>, port: MessagePort, id: number): PortWaiter | undefined {
  for (const w of list.toArray()) if (w.live && w.port === port && w.id === id) return w;
  return undefined;
}
