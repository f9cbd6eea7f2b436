/**
 * The net host: a worker's end of the reactor. It receives the worker's link (doorbell, dirty
 * sets, control port) from the reactor, opens a Conn for every OPEN, runs the handler module's
 * default export in a green thread per accepted connection, answers connect() calls, and wakes
 * Conns whose slots the reactor marked.
 *
 * Runs on a worker thread (pool worker or any worker whose entry calls `installNetHost`). Owns:
 * the worker's doorbell (it is the only one that waits on it), the table of open Conns, the
 * handler-module cache and the pending connect() calls.
 *
 * The host's loop (one per worker) is a BellLoop (src/net/bell-loop.ts) on the worker's bell:
 * 1. read SEQ of the worker's bell; poke the Conns whose reads yielded last turn, then take
 *    TOWARD_WORKER and poke each marked Conn (their waiters re-check, and the handlers run in the
 *    microtasks after this turn);
 * 2. if anything was marked, or the AwakeWindow says the reactor's next ring is likely soon,
 *    queue the next turn: the bell stays RUNNING, so the reactor's ring costs it no syscall;
 * 3. else park on the bell (src/shm/loop-parker.ts: waitAsync, unref'd; the control port keeps
 *    the worker alive). A turn that another event ran (a handler's write) and that found work
 *    un-parks it, so the reactor's next ring costs no notify.
 * Marks toward main are rung once per turn (a setImmediate after the handlers of this turn have
 * run): many handlers writing in one turn, each after its own CPU work, cost the reactor one
 * wake-up, not one each. A turn that runs long (CPU-heavy handlers, each burning its slice in
 * the same microtask drain) rings early, from the first write that comes NET_RING_WITHIN_MS after
 * the ring was queued, so no reply waits for the last handler of a long turn. From then until
 * the turn ends, reads yield (ConnHost.yieldRead): a handler whose next request is already back
 * waits for the next turn like the others, instead of serving itself again while handlers that
 * were not woken in this turn (a new connection, one whose request came late) wait for the turn
 * to end, which with closed-loop peers it did not (one connection in 64 got 39 answers where the
 * median got 227, p99 100 ms; with yields 155-182 against 224-239, p99 32-34 ms).
 * SHOAL_NET_AWAKE_US (default 200, 0 = never stay awake) caps the window; with at most a few
 * connections open the window also holds through a busy reactor's rare long gaps
 * (SHOAL_NET_HOLD_US, net/awake-window.ts rule 4).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { settingOrDefault } from '../../config.js';
import { onCancel, throwIfCancelled } from '../../core/context.js';
import { loadHandler } from './handler-module.js';
import { ConnectError, ConnectionResetError, ClosedError, isCancellation, TimeoutError } from '../../core/errors.js';
import { spawn } from '../../core/task.js';
import { Doorbell } from '../../shm/doorbell.js';
import { towardMain, towardWorker, type DirtySet } from '../conn-slot.js';
import { isAttachMessage, type AttachMessage, type OpenMessage, type ToMain, type ToWorker } from '../protocol.js';
import { BellLoop } from '../bell-loop.js';
import { Conn, type ConnHost } from './conn.js';

/** Longest a worker's net host stays awake after its last work (ms); see net/awake-window.ts. */
const NET_AWAKE_MAX_MS = settingOrDefault('netAwakeUs') / 1000; // validated at boot (src/config.ts)

/**
 * With at most a few connections open (net/bell-loop.ts FEW_CONNS), stay awake this long after the
 * last work while the reactor rings often (net/awake-window.ts rule 4). SHOAL_NET_HOLD_US (default
 * 5000, 0 = no hold) overrides it; SHOAL_NET_AWAKE_US=0 turns staying awake off altogether.
 */
const NET_HOLD_MS = settingOrDefault('netHoldUs') / 1000;

/**
 * Longest a write waits for the ring that tells the reactor about it, once the turn it was made
 * in has run that long (ms). With CPU-heavy handlers a turn runs every woken handler's slice back
 * to back (25 connections x 200 µs = 5 ms); rung only at the turn's end, the first replies sat
 * out the whole turn, their peers' next requests came back after it, and each worker idled for a
 * round trip between turns: with 100 connections at ~200 µs of CPU each the server used 1.77 of
 * the 2 cores, 1.90 with this bound (docs/design.md, "Rings from a long turn"). 2 ms rather than
 * 1: the same cores used, but replies in bigger groups, so the reactor ran 1.1-1.5 turns a
 * message instead of ~3 and spent ~9% of the server's CPU instead of ~11%. A ring costs at most
 * one notify (~33 µs here) per bound: under 2% of a CPU-heavy worker.
 * SHOAL_NET_RING_WITHIN_US (default 2000; 0 = only at the end of the turn) overrides it.
 */
const NET_RING_WITHIN_MS = settingOrDefault('netRingWithinUs') / 1000;

import type { ConnHandler } from './handler-module.js';
export type { ConnHandler };

interface PendingConnect {
  resolve(c: Conn): void;
  reject(e: Error): void;
}

let current: NetHost | undefined;

/**
 * Listen on the worker's parentPort for the reactor's ATTACH message (other messages are left to
 * the port's other listeners). Call once from a worker entry file.
 *
 * @example
 * // workers/my-worker.ts
 * import { parentPort } from 'node:worker_threads';
 * installNetHost(parentPort!);
 */
export function installNetHost(parentPort: Pick<MessagePort, 'on'>): void {
  parentPort.on('message', (m: unknown) => {
    if (!isAttachMessage(m)) return;
    current?.detach();
    current = new NetHost(m);
  });
}

/**
 * True while this worker has open connections or pending connects: a pool worker must then not
 * block its event loop in Atomics.wait when it has no tasks (src/pool/shared/worker.ts idle()).
 *
 * Asked right before such a park, it first takes the reactor's control messages already queued
 * on the port (an OPEN): the reactor posts, then rings the pool bell, and a ring that lands while
 * the worker is inside a turn is already in the seq the park compares against, so a message
 * the event loop has not dispatched yet would otherwise wait out the whole park (up to 5 s).
 */
export function netBusy(): boolean {
  if (current === undefined) return false;
  if (current.busy) return true; // no park coming: the event loop dispatches the port as usual
  current.takeQueued();
  return current.busy;
}

/** This worker's net host, once the reactor attached it. */
export function netHost(): NetHost | undefined {
  return current;
}

/** A worker's end of the reactor. One per worker thread. */
export class NetHost implements ConnHost {
  private readonly port: MessagePort;
  private readonly reactorBell: Doorbell;
  private readonly toWorker: DirtySet;
  private readonly toMain: DirtySet;
  private readonly conns: Array<Conn | undefined> = [];
  private readonly handlers = new Map<string, Promise<ConnHandler>>();
  /** handler modules that failed to load, and how often (the next load uses a fresh URL) */
  private readonly failedLoads = new Map<string, number>();
  private readonly connects = new Map<number, PendingConnect>();
  private nextReq = 1;
  private openCount = 0;
  private outbox: ToMain[] = [];
  private ringQueued = false;
  /** when the queued ring was queued, or last rung early (performance.now()) */
  private ringQueuedAt = 0;
  /**
   * The current turn has run long: it rang early (queueRing), from a handler's write or from a
   * read that released ring room the reactor was waiting for. Reads yield until the next turn.
   */
  private yieldReads = false;
  /** Conns whose reads yielded, poked first thing next turn (in the order they yielded) */
  private deferred: Conn[] = [];
  /** turns while marks come, parked on `bell` otherwise (net/bell-loop.ts) */
  private readonly loop: BellLoop;

  constructor(m: AttachMessage) {
    this.port = m.port as MessagePort;
    // No spin before parking (loop-parker.ts): the awake window has already polled through the
    // likely gap (with 100 connections a 1000-load spin measured 1.90x node:net's server CPU per
    // message, 50 loads 1.82x).
    const bell = new Doorbell(m.link.workerBell);
    this.reactorBell = new Doorbell(m.link.reactorBell);
    this.toWorker = towardWorker(m.link);
    this.toMain = towardMain(m.link);
    this.loop = new BellLoop(bell, NET_AWAKE_MAX_MS, this.step, { holdMs: NET_HOLD_MS });
    this.port.on('message', (batch: ToWorker[]) => this.control(batch));
    this.loop.start();
  }

  /** Run the control messages already queued on the port, now (netBusy). */
  takeQueued(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port))
      this.control(m.message as ToWorker[]);
  }

  /** Open Conns or pending connects: this worker's event loop must keep turning. */
  get busy(): boolean {
    return this.openCount > 0 || this.connects.size > 0;
  }

  markMain(i: number): void {
    this.toMain.mark(i);
    this.queueRing();
  }

  yieldRead(): boolean {
    return this.yieldReads;
  }

  deferRead(c: Conn): void {
    this.deferred.push(c);
    this.loop.queueTurn();
  }

  dropped(i: number): void {
    if (this.conns[i] !== undefined) this.openCount--;
    this.conns[i] = undefined;
    this.loop.fitToConnections(this.openCount);
  }

  /** Open an outbound connection through the reactor (see connect.ts). */
  connect(
    host: string,
    port: number,
    timeout: number,
    ringBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) => {
      throwIfCancelled(signal);
      const req = this.nextReq++;
      const off = onCancel(signal, (e) => {
        this.connects.delete(req); // a late OPEN for it is closed at once
        reject(e);
      });
      this.connects.set(req, {
        resolve: (c) => {
          off();
          resolve(c);
        },
        reject: (e) => {
          off();
          reject(e);
        },
      });
      this.post({ t: 'connect', req, host, port, timeout, ringBytes });
    });
  }

  /** A newer ATTACH replaced this one (not expected in a live worker): fail what is open. */
  detach(): void {
    this.loop.stop();
    this.port.close();
    for (const p of this.connects.values()) p.reject(new ClosedError('the reactor detached this worker'));
    this.connects.clear();
  }

  private post(m: ToMain): void {
    this.outbox.push(m);
    this.queueRing();
  }

  private queueRing(): void {
    const now = performance.now();
    if (!this.ringQueued) {
      this.ringQueued = true;
      this.ringQueuedAt = now;
      setImmediate(this.ringMain);
    } else if (NET_RING_WITHIN_MS > 0 && now - this.ringQueuedAt >= NET_RING_WITHIN_MS) {
      // A long turn: ring now, so the reactor sends what was written while the turn goes on.
      // The queued ring still runs at the turn's end for what is written after this.
      this.ringQueuedAt = now;
      this.yieldReads = true;
      if (this.toMain.pending()) this.reactorBell.ring();
    }
  }

  private readonly ringMain = (): void => {
    this.ringQueued = false;
    this.yieldReads = false; // a setImmediate: the turn's microtasks have all run
    if (this.outbox.length > 0) {
      const batch = this.outbox;
      this.outbox = [];
      this.port.postMessage(batch);
    }
    // The reactor, awake while it owes a socket our answer, often took the marks already: a ring
    // now would find it parked again and wake it for nothing (a notify is ~33 µs of our CPU).
    if (this.toMain.pending()) this.reactorBell.ring();
  };

  private control(batch: ToWorker[]): void {
    if (!Array.isArray(batch)) return;
    for (const m of batch) {
      if (m.t === 'open') this.open(m);
      else if (m.t === 'refused') {
        const p = this.connects.get(m.req);
        this.connects.delete(m.req);
        p?.reject(m.errno === 'ETIMEDOUT' ? new TimeoutError(m.message) : new ConnectError(m.message, m.errno));
      }
    }
  }

  private open(m: OpenMessage): void {
    const conn = new Conn(this, m);
    this.conns[m.i] = conn;
    this.openCount++;
    this.loop.fitToConnections(this.openCount);
    if (m.req !== undefined) {
      const p = this.connects.get(m.req);
      this.connects.delete(m.req);
      if (p) p.resolve(conn);
      else conn.close(); // its connect() was cancelled meanwhile
      return;
    }
    this.serve(conn, m.handler!, m.server!);
  }

  /** One green thread per accepted connection; it always ends by closing the Conn. */
  private serve(conn: Conn, url: string, server: number): void {
    const name = `tcp ${conn.remoteAddress}:${conn.remotePort}`;
    spawn(
      async () => {
        try {
          const fn = await this.handler(url);
          await fn(conn);
        } catch (e) {
          // A reset or a forced close is the peer's or the server's doing, not a handler bug.
          if (!(e instanceof ConnectionResetError) && !(e instanceof ClosedError) && !isCancellation(e)) {
            const err = e instanceof Error ? e : undefined;
            const code = (e as { code?: unknown } | undefined)?.code;
            this.post({
              t: 'failed',
              server,
              message: err ? `${err.name}: ${err.message}` : String(e),
              name: err?.name,
              stack: err?.stack,
              code: typeof code === 'string' ? code : undefined,
              remoteAddress: conn.remoteAddress,
              remotePort: conn.remotePort,
            });
          }
        } finally {
          conn.close();
        }
      },
      { name, signal: conn.signal },
    );
  }

  private handler(url: string): Promise<ConnHandler> {
    let p = this.handlers.get(url);
    if (!p) {
      // After a failed load, import under a fresh URL: Node keeps a module whose source could not
      // be read (EMFILE while the process was out of descriptors) failed forever under its URL,
      // and every later connection would fail with it. A module that failed never ran, so a fresh
      // instance is the same module to the handler.
      const n = this.failedLoads.get(url) ?? 0;
      const at = n > 0 && url.startsWith('file:') ? `${url}${url.includes('?') ? '&' : '?'}shoal-retry=${n}` : url;
      p = loadHandler(at, url);
      p.catch(() => {
        this.handlers.delete(url); // a module fixed on disk (or descriptors freed) loads on the next connection
        this.failedLoads.set(url, n + 1);
      });
      this.handlers.set(url, p);
    }
    return p;
  }

  /**
   * One turn: first the Conns whose reads yielded in the last turn, then every slot the reactor
   * marked. Both only wake waiters; the handlers run in the microtasks after the turn.
   */
  private readonly step = (): number => {
    this.yieldReads = false;
    let n = 0;
    if (this.deferred.length > 0) {
      const ds = this.deferred;
      this.deferred = [];
      for (const c of ds) c.poke();
      n = ds.length;
    }
    return n + this.toWorker.take(this.poke);
  };

  private readonly poke = (i: number): void => this.conns[i]?.poke();
}
