/**
 * Port channel — the cross-thread channel under SHOAL_TRANSPORT=message: the same API as the
 * shared-memory `SharedChan`, implemented over MessagePort. The thread that creates it owns the
 * state (owner.ts); every other thread sends requests over its own port
 * (client.ts). Values are encoded by the same codec as on the shared path, so
 * both transports accept, refuse and deliver the same values and honour the same `valueBytes`.
 *
 * Runs on any thread. One `PortChan` is one thread's handle: the owner's (operations are local
 * and synchronous) or a client's (operations are requests). Owns that handle.
 *
 * Differences from the shared path, all documented on the public API:
 *  1. A client's `tryPut`, `stats()`, and `tryTake` / a select take's first try when nothing is
 *     lent to it, are synchronous round trips to the owner (tens of µs); the owner must keep its
 *     event loop turning. `closed` is local (the owner pushes CLOSED to every client).
 *  1a. A client that takes gets up to 64 values lent ahead (prefetch, owner.ts):
 *     its next takes are answered locally. Lent values count as buffered; another thread's
 *     take recalls them first (a round trip), so values leave in put order; a client that holds
 *     lent values and keeps its event loop blocked delays other threads' takes until it turns.
 *  2. While the owner waits for a client's answer to an OFFER (a remote select op, one round
 *     trip), nothing commits: `tryPut` / `tryTake` on the owner answer "would wait".
 *  3. A cancelled client wait settles when the owner confirms; if the op committed first, the
 *     wait resolves with its outcome instead (nothing is lost either way).
 */
import { threadId, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { ChanStats, PutOptions, TakeOptions } from '../../core/chan.js';
import { onCancel } from '../../core/context.js';
import { TimeoutError, TooManyPendingError } from '../../core/errors.js';
import {
  NOT_READY,
  Op,
  codeError,
  putSignal,
  rejectIfCancelled,
  takeRequest,
  type Handler,
  type NotReady,
} from '../../core/op.js';
import { decode, encode } from '../../codec/index.js';
import { chanIterator, startPut, startTake, type PutBack, type TakeBack } from '../../core/chan-front.js';
import { TAG_CODEC, tagOf } from '../value-tag.js';
import { PortClient } from './client.js';
import { PortOwner, PortWaiter } from './owner.js';
import {
  checkMax,
  toArray,
  type PortChanDescriptor,
  type SharedChannel,
  type SharedKind,
  type TakeManyOptions,
} from '../api.js';

// The descriptor is shared with the facade (../api.ts).
export { isPortChanDescriptor, type PortChanDescriptor } from '../api.js';

/** Owners made on this thread, by id (weakly: a dropped channel is collected). */
const owners = new Map<string, WeakRef<PortOwner>>();
let nextId = 0;
const LOCAL = 0;

// Let PortOp reach PortChan's private state without making it public API.
let opTry: (c: PortChan<unknown>, take: boolean, bytes: Uint8Array | undefined) => unknown;
let opPark: (c: PortChan<unknown>, take: boolean, bytes: Uint8Array | undefined, h: Handler, i: number) => () => void;

/**
 * One thread's handle on a port channel. Make one with `sharedChan()` under
 * SHOAL_TRANSPORT=message; same API and meaning as `SharedChan`.
 *
 * @example
 * process.env.SHOAL_TRANSPORT = 'message';
 * const ch = sharedChan<number>(16);   // a PortChan owned by this thread
 * await rt.run(url, 'consume', [ch]);  // the worker gets a client handle
 */
export class PortChan<T> implements SharedChannel<T> {
  readonly #id: string;
  readonly #kind: SharedKind;
  readonly #cap: number;
  readonly #valueBytes: number;
  readonly #owner: PortOwner | undefined;
  readonly #client: PortClient | undefined;
  /**
   * this kind's back halves for the shared put / take / iterator (core/chan-front.ts). A client
   * sends a plain put or take to the owner as one request (no synchronous round trip first),
   * except a take that may not wait, which asks the owner synchronously.
   */
  readonly #takeBack: TakeBack<T> = {
    takeNow: (mayWait) =>
      this.#client !== undefined && mayWait ? NOT_READY : (this.#poll() as T | undefined | NotReady),
    parkTake: (q) =>
      this.#client !== undefined
        ? this.#client.request(true, undefined, q.signal, q.timeout, q.hasDefault, q.dflt)
        : this.#park(false, undefined, q.signal, q.timeout, q.hasDefault, q.dflt),
  };
  readonly #putBack: PutBack<T, Uint8Array> = {
    stage: (v) => this.#encode(v),
    putNow: (_v, bytes) => (this.#client !== undefined ? NOT_READY : this.#owner!.offer(bytes)),
    parkPut: (_v, bytes, signal) =>
      (this.#client !== undefined
        ? this.#client.request(false, bytes, signal, undefined, false, undefined)
        : this.#park(true, bytes, signal, undefined, false, undefined)) as Promise<boolean>,
  };

  private constructor(
    id: string,
    kind: SharedKind,
    cap: number,
    valueBytes: number,
    owner: PortOwner | undefined,
    client: PortClient | undefined,
  ) {
    this.#id = id;
    this.#kind = kind;
    this.#cap = cap;
    this.#valueBytes = valueBytes;
    this.#owner = owner;
    this.#client = client;
  }

  /** A new channel owned by this thread (arguments validated by sharedChan). Internal. */
  static create<T>(kind: SharedKind, cap: number, valueBytes: number): PortChan<T> {
    const id = `${threadId}:${nextId++}`;
    const owner = new PortOwner(kind, cap, valueBytes);
    owners.set(id, new WeakRef(owner));
    return new PortChan<T>(id, kind, cap, valueBytes, owner, undefined);
  }

  /** This thread's handle for a descriptor that arrived from another thread. Internal. */
  static revive<T>(d: PortChanDescriptor): PortChan<T> {
    if (
      typeof d.id !== 'string' ||
      typeof d.port !== 'object' ||
      d.port === null ||
      typeof d.port.postMessage !== 'function'
    ) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        'port channel descriptor: id must be a string and port a MessagePort (was it in the transfer list?)',
      );
    }
    const mine = owners.get(d.id)?.deref();
    if (mine !== undefined) {
      d.port.close(); // back on its owner's thread: use the state directly
      return new PortChan<T>(d.id, d.buffer, d.capacity, d.valueBytes, mine, undefined);
    }
    return new PortChan<T>(d.id, d.buffer, d.capacity, d.valueBytes, undefined, new PortClient(d.port));
  }

  /**
   * True once any thread closed the channel. On a client it is answered locally: at once after
   * this thread's own close, one message later after another thread's.
   */
  get closed(): boolean {
    return this.#owner !== undefined ? this.#owner.closed : this.#client!.closed;
  }

  /**
   * Put `v`, waiting while a fixed buffer is full; see `SharedChan.put`.
   *
   * @example
   * await ch.put({ id: 1 }, { signal });
   */
  put(v: T, opts?: PutOptions): Promise<boolean> {
    return startPut(this.#putBack, v, opts);
  }

  /**
   * Take the oldest value, waiting until there is one; see `SharedChan.take`.
   *
   * @example
   * const v = await ch.take({ timeout: 100, default: 'none' });
   */
  take(): Promise<T | undefined>;
  take<D = never>(opts: TakeOptions<D>): Promise<T | undefined | D>;
  take<D>(opts?: TakeOptions<D>): Promise<T | undefined | D> {
    return startTake<T, D>(this.#takeBack, opts);
  }

  /**
   * Put without waiting; see `SharedChan.tryPut` (on a client: a synchronous round trip).
   *
   * @example
   * if (!ch.tryPut(v)) dropped++;
   */
  tryPut(v: T): boolean {
    const bytes = this.#encode(v);
    return (this.#client !== undefined ? this.#client.tryPut(bytes) : this.#owner!.offer(bytes)) === true;
  }

  /**
   * Take without waiting; see `SharedChan.tryTake` (on a client: a synchronous round trip).
   *
   * @example
   * const v = ch.tryTake();
   */
  tryTake(): T | undefined {
    const r = this.#poll();
    return r === NOT_READY ? undefined : (r as T | undefined);
  }

  /**
   * Put `values` in order; see `SharedChan.putMany`. On a client the puts go out at once, one
   * request each, and the owner commits them in order.
   *
   * @example
   * const n = await ch.putMany([1, 2, 3]);
   */
  putMany(values: Iterable<T>, opts?: PutOptions): Promise<number> {
    const signal = putSignal(opts);
    const frames = toArray(values).map((v) => this.#encode(v));
    const cancelled = rejectIfCancelled(signal);
    if (cancelled !== undefined) return cancelled;
    const client = this.#client;
    if (client !== undefined) {
      const all = frames.map((b) => client.request(false, b, signal, undefined, false, undefined) as Promise<boolean>);
      return Promise.all(all).then((oks) => {
        const i = oks.indexOf(false);
        return i < 0 ? oks.length : i;
      });
    }
    return (async () => {
      let i = 0;
      for (; i < frames.length; i++) {
        const r = this.#owner!.offer(frames[i]!);
        const ok =
          r !== NOT_READY ? r : ((await this.#park(true, frames[i], signal, undefined, false, undefined)) as boolean);
        if (!ok) break;
      }
      return i;
    })();
  }

  /**
   * Take up to `max` values at once; see `SharedChan.takeMany`. On a client, one request brings
   * up to `max` values.
   *
   * @example
   * const batch = await ch.takeMany(64);
   */
  takeMany(max: number, opts?: TakeManyOptions): Promise<T[]> {
    checkMax(max);
    const { signal, timeout } = takeRequest(opts);
    const cancelled = rejectIfCancelled(signal);
    if (cancelled !== undefined) return cancelled;
    if (this.#client !== undefined && timeout !== 0) {
      return this.#client.request(true, undefined, signal, timeout, false, undefined, max) as Promise<T[]>;
    }
    const out: T[] = [];
    const more = (): T[] => {
      for (let r = this.#poll(); r !== NOT_READY && r !== undefined; r = out.length < max ? this.#poll() : NOT_READY)
        out.push(r as T);
      return out;
    };
    const r = this.#poll();
    if (r === undefined) return Promise.resolve(out);
    if (r !== NOT_READY) {
      out.push(r as T);
      return Promise.resolve(max > 1 ? more() : out);
    }
    if (timeout === 0) return Promise.reject(new TimeoutError('takeMany timed out'));
    return (this.#park(false, undefined, signal, timeout, false, undefined) as Promise<T | undefined>).then((v) => {
      if (v === undefined) return out;
      out.push(v);
      return max > 1 ? more() : out;
    });
  }

  /**
   * Close the channel for every thread (idempotent); see `SharedChan.close`.
   *
   * @example
   * ch.close();
   */
  close(): void {
    if (this.#client !== undefined) this.#client.close();
    else this.#owner!.close();
  }

  /**
   * An op for `select` that takes a value; see `SharedChan.takeOp`.
   *
   * @example
   * await select([ch.takeOp(), afterOp(10)]);
   */
  takeOp(): Op<T | undefined> {
    return new PortOp<T | undefined>(this as PortChan<unknown>, true, undefined);
  }

  /**
   * An op for `select` that puts `v`; see `SharedChan.putOp`.
   *
   * @example
   * await select([ch.putOp(1), afterOp(10)]);
   */
  putOp(v: T): Op<boolean> {
    return new PortOp<boolean>(this as PortChan<unknown>, false, this.#encode(v));
  }

  /**
   * A snapshot; pending counts are this handle's own waits.
   *
   * @example
   * console.log(ch.stats().buffered);
   */
  stats(): ChanStats {
    const o = this.#owner;
    const [buffered, closed] = o !== undefined ? [o.buffered, o.closed] : this.#client!.stat();
    return Object.freeze({
      buffered,
      capacity: this.#cap,
      pendingPuts: o !== undefined ? o.pendingPuts : this.#client!.pendingPuts,
      pendingTakes: o !== undefined ? o.pendingTakes : this.#client!.pendingTakes,
      closed,
    });
  }

  /**
   * A descriptor for another thread, with a fresh port in `transfer` (each receiving thread
   * needs its own port: send each descriptor once).
   *
   * @example
   * const { descriptor, transfer } = ch.descriptor();
   * worker.postMessage({ ch: descriptor }, transfer);
   */
  descriptor(): { descriptor: PortChanDescriptor; transfer: TransferListItem[] } {
    let port: MessagePort;
    if (this.#owner !== undefined) {
      const mc = new MessageChannel();
      this.#owner.attach(mc.port1 as unknown as MessagePort);
      port = mc.port2 as unknown as MessagePort;
    } else {
      port = this.#client!.connect();
    }
    const descriptor: PortChanDescriptor = {
      kind: 'shoal:port-chan',
      id: this.#id,
      port,
      buffer: this.#kind,
      capacity: this.#cap,
      valueBytes: this.#valueBytes,
    };
    return { descriptor, transfer: [port] };
  }

  /**
   * Iterate values until the channel is closed and drained.
   *
   * @example
   * for await (const v of ch) handle(v);
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return chanIterator(this.#takeBack);
  }

  static {
    opTry = (c, take, bytes) => {
      if (take) return c.#poll();
      if (c.#client === undefined) return c.#owner!.offer(bytes!);
      const r = c.#client.tryPut(bytes!);
      return r === null ? NOT_READY : r;
    };
    opPark = (c, take, bytes, h, i) => {
      const client = c.#client;
      if (client !== undefined) {
        const id = client.park(take, bytes, h, i);
        return () => client.withdraw(id);
      }
      const owner = c.#owner!;
      checkPending(take ? owner.pendingTakes : owner.pendingPuts);
      const w = new PortWaiter(LOCAL, bytes, h, i, undefined, 0);
      owner.park(w, !take);
      return () => owner.unpark(w, !take);
    };
  }

  #poll(): unknown {
    const r = this.#client !== undefined ? this.#client.tryTake() : this.#owner!.poll();
    if (r === false || r === NOT_READY) return NOT_READY;
    return r === null ? undefined : decode(r);
  }

  #encode(v: T): Uint8Array {
    if (v === undefined) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        'cannot put undefined on a channel: undefined means "closed"',
      );
    }
    const bytes = encode(v);
    // the shared transport stores numbers and short latin1 strings without the codec's framing:
    // judge the size the same way, so both transports accept the same values
    if (bytes.length > this.#valueBytes && tagOf(v, this.#valueBytes) === TAG_CODEC) {
      throw codeError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `value encodes to ${bytes.length} bytes, more than this channel's valueBytes (${this.#valueBytes}); create it with a larger valueBytes`,
      );
    }
    return bytes.slice(); // the owner keeps it, or it is posted: leave the codec's scratch alone
  }

  /** Owner only: park a plain put / take of this thread. */
  #park(
    puts: boolean,
    bytes: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    hasDefault: boolean,
    dflt: unknown,
  ): Promise<unknown> {
    const owner = this.#owner!;
    checkPending(puts ? owner.pendingPuts : owner.pendingTakes);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let off: () => void = () => {};
      let active = true;
      const h: Handler = {
        get active() {
          return active;
        },
        claim: () => (active ? ((active = false), true) : false),
        commit: (_i, v) => (off(), clearTimeout(timer), resolve(v)),
        fail: (_i, e) => (off(), clearTimeout(timer), reject(e)),
      };
      const w = new PortWaiter(LOCAL, bytes, h, 0, undefined, 0);
      owner.park(w, puts);
      off = onCancel(signal, (err) => {
        if (!h.claim()) return;
        owner.unpark(w, puts);
        clearTimeout(timer);
        reject(err);
      });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          if (!h.claim()) return;
          owner.unpark(w, puts);
          off();
          if (hasDefault) resolve(dflt);
          else reject(new TimeoutError(`take timed out after ${timeout} ms`));
        }, timeout);
      }
    });
  }
}

function checkPending(live: number): void {
  if (live >= 1024)
    throw new TooManyPendingError('a port channel has 1024 pending operations of this kind on its owner already');
}

/** select's put or take on a port channel. */
class PortOp<V> extends Op<V> {
  #undo: (() => void) | undefined;
  constructor(
    readonly chan: PortChan<unknown>,
    readonly take: boolean,
    readonly bytes: Uint8Array | undefined,
  ) {
    super();
  }
  try(): V | NotReady {
    return opTry(this.chan, this.take, this.bytes) as V | NotReady;
  }
  park(h: Handler, index: number): void {
    this.#undo = opPark(this.chan, this.take, this.bytes, h, index);
  }
  unpark(): void {
    this.#undo?.();
    this.#undo = undefined;
  }
}
