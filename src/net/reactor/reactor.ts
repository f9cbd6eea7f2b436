/**
 * The reactor: the main thread's side of every TCP connection. On Node 20 a socket cannot move to
 * a worker thread, so the main thread keeps them all and the workers reach them through
 * connection slots in shared memory (src/net/conn-slot.ts).
 *
 * Runs on the main thread only. Owns: its doorbell (every worker rings it), one WorkerLink per
 * pool worker (worker-link.ts: link buffer, control port, slot table, free slots), the accepted and connected
 * sockets (through MainConn), and the per-turn batch of control messages and bells.
 *
 * The loop, in the order the code runs (docs/design.md "Reactor" has the same list):
 * 1. Poll (libuv): socket 'data' copies bytes into the slot's INBOUND ring (or pauses the socket
 *    when it is full); 'end' sets RD_CLOSED after the last byte; 'error' / 'close' set ERROR and
 *    free the slot; a server's 'connection' picks the least-loaded worker, takes a slot and queues
 *    an OPEN for that worker. Each publish marks the slot TOWARD_WORKER and queues a turn.
 * 2. Turn (one setImmediate per loop iteration, or the wake of a parked wait): take every
 *    worker's TOWARD_MAIN set; for each slot: push paused inbound bytes (resume the socket once
 *    in), drain OUTBOUND into one socket.write() (stop at `false` until 'drain'), end the socket
 *    after W_END, let go after W_CLOSE, recycle the slot once the socket is closed too.
 * 3. Still in the turn: each worker marked since the last turn (by step 1 or 2) gets its queued
 *    control messages in one postMessage and one ring of its doorbell: one wake-up per worker per
 *    turn, however many connections and chunks.
 * 4. Stay awake or park (net/bell-loop.ts, shared with the net hosts). While the reactor is busy
 *    (step 2 found work, or some worker owes an answer to bytes it was handed and the awake window
 *    says it is likely soon) it queues the next turn and leaves its doorbell RUNNING, so workers'
 *    rings cost no syscall and their answers are taken on the next loop iteration; a socket event
 *    that hands bytes over un-parks it the same way. With no answer owed it parks at once: it
 *    then waits for sockets only, as a plain node:net server sleeps in epoll, and leaves the CPU
 *    to the threads doing work. After an idle stretch with answers owed (AwakeWindow: adaptive,
 *    at most 100 µs, shorter when staying awake did not pay; 2x longer with at most 4 connections
 *    open) it parks too (loop-parker.ts: unref'd waitAsync; the sockets and servers are what
 *    keep the process alive).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import { settingOrDefault } from '../../config.js';
import { createDoorbell, Doorbell } from '../../shm/doorbell.js';
import { createNetLink } from '../conn-slot.js';
import { BellLoop } from '../bell-loop.js';
import { MainConn, type ConnServer } from './connection.js';
import { WorkerLink, type LinkReactor } from './worker-link.js';
import type { AttachMessage, ConnectMessage, Endpoints, FailedMessage, ToMain } from '../protocol.js';

/** A server the reactor accepts for (implemented by TcpServer in listen.ts). */
export interface AcceptingServer extends ConnServer {
  readonly id: number;
  readonly handler: string;
  readonly ringBytes: number;
  conns: Set<MainConn>;
  handlerFailed(m: FailedMessage): void;
  refuse(socket: Socket): void;
  close(options?: { timeout?: number }): Promise<void>;
}

/** Reactor counters (`rt.stats().net`). */
export interface ReactorStats {
  /** connections open now, per worker slot */
  readonly connections: readonly number[];
  readonly accepted: number;
  readonly connected: number;
  readonly handlerErrors: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** reactor turns run, times it parked, and rings that had to wake a parked worker (a syscall) */
  readonly turns: number;
  readonly parks: number;
  readonly workerWakeups: number;
  /** connections whose reads skipped Node's stream layer (scratch-reads.ts); the rest used 'data' */
  readonly scratchReads: number;
}

/**
 * Longest the reactor stays awake after its last work (ms); step 4 of the loop, net/awake-window.ts.
 * SHOAL_REACTOR_AWAKE_US (default 100, 0 = park as soon as a turn finds nothing) overrides it.
 */
const REACTOR_AWAKE_MAX_MS = settingOrDefault('reactorAwakeUs') / 1000; // validated by Runtime.start (src/config.ts)

/**
 * The reactor. One per Runtime; workers are attached as the pool starts (and replaces) them.
 *
 * @example
 * const reactor = new Reactor();
 * reactor.attach(0, worker);          // the worker runs installNetHost(parentPort)
 * const srv = await listen(reactor, { port: 0, handler: new URL('../../reactor/echo.js', import.meta.url) });
 */
export class Reactor implements LinkReactor {
  private readonly bell = new Doorbell(createDoorbell());
  private readonly links: Array<WorkerLink | undefined> = [];
  private readonly toFlush: WorkerLink[] = [];
  /** steps 2 to 4: turns while busy, parked on `bell` otherwise (net/bell-loop.ts) */
  private readonly loop = new BellLoop(this.bell, REACTOR_AWAKE_MAX_MS, () => this.step(), {
    expecting: () => this.owed > 0,
  });
  /** connections whose worker was handed bytes it has not answered (step 4: stay awake for them) */
  private owed = 0;
  private notifies = 0;
  private nextServer = 1;
  readonly servers = new Map<number, AcceptingServer>();
  private rr = 0;
  private accepted = 0;
  private connected = 0;
  private scratchReads = 0;
  private handlerErrors = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  constructor() {
    this.loop.start();
  }

  /**
   * A worker started in pool slot `slot` (or replaced a dead one): give it a link. Its net host
   * (src/net/worker/host.ts, installed by the worker's entry file) answers on the port we send.
   * `wake`: makes the worker read its ports now (the pool rings its task bell): a pool worker with
   * no connection open and no task may be parked in Atomics.wait for seconds, deaf to our OPEN.
   */
  attach(slot: number, worker: Pick<Worker, 'postMessage'>, wake?: () => void): void {
    if (this.links[slot]?.alive) this.detach(slot);
    const { port1, port2 } = new MessageChannel();
    const link = new WorkerLink(this, slot, createNetLink(this.bell.descriptor), port1, wake);
    port1.on('message', (batch: ToMain[]) => this.control(link, batch));
    port1.unref(); // sockets and servers keep the process alive, not the link
    this.links[slot] = link;
    const msg: AttachMessage = { kind: 'shoal:net-attach', link: link.desc, port: port2 };
    worker.postMessage(msg, [port2]);
  }

  /** The worker in `slot` is gone: close its connections; new ones go to the other workers. */
  detach(slot: number): void {
    const link = this.links[slot];
    if (!link) return;
    this.links[slot] = undefined;
    link.alive = false;
    link.port.close();
    for (const s of link.connecting) s.destroy();
    for (const c of link.conns) c?.workerGone();
    link.conns.length = 0;
    link.active = 0;
    this.fitWindow();
  }

  /** @internal a new server id (listen.ts) */
  newServerId(): number {
    return this.nextServer++;
  }

  /** Accept `socket` for `server`: pick the least-loaded worker and open a slot on it. */
  accept(server: AcceptingServer, socket: Socket): void {
    const link = this.pick();
    const got = link?.take(server.ringBytes);
    if (!link || !got) {
      server.refuse(socket);
      return;
    }
    this.accepted++;
    socket.setNoDelay(true);
    const c = new MainConn(link, got.i, got.slot, socket, server);
    if (c.scratchReads) this.scratchReads++;
    link.conns[got.i] = c;
    link.active++;
    this.fitWindow();
    server.conns.add(c);
    link.post({
      t: 'open',
      i: got.i,
      slot: got.slot,
      handler: server.handler,
      server: server.id,
      ...endpoints(socket),
    });
  }

  /** Reactor-wide counters. */
  stats(): ReactorStats {
    let bytesIn = this.bytesIn;
    let bytesOut = this.bytesOut;
    for (const l of this.links)
      for (const c of l?.conns ?? [])
        if (c) {
          bytesIn += c.bytesIn;
          bytesOut += c.bytesOut;
        }
    return Object.freeze({
      connections: Object.freeze(this.links.map((l) => l?.active ?? 0)),
      accepted: this.accepted,
      connected: this.connected,
      handlerErrors: this.handlerErrors,
      bytesIn,
      bytesOut,
      turns: this.loop.turns,
      parks: this.loop.parks,
      workerWakeups: this.notifies,
      scratchReads: this.scratchReads,
    });
  }

  /** Close every server: stop accepting, give handlers `timeoutMs`, then close their connections. */
  async closeServers(timeoutMs: number): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close({ timeout: timeoutMs })));
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.loop.isStopped;
  }

  /** Stop the loop and drop every connection (servers are closed by their owners first). */
  close(): void {
    for (let s = 0; s < this.links.length; s++) this.detach(s);
    this.loop.stop();
  }

  /** @internal a connection's slot was recycled or dropped */
  gone(c: MainConn): void {
    this.bytesIn += c.bytesIn;
    this.bytesOut += c.bytesOut;
    this.fitWindow();
  }

  /** @internal answers owed by workers changed (connection.ts SlotOwner.owe) */
  owe(delta: 1 | -1): void {
    this.owed += delta;
  }

  /** The awake window's cap follows the number of open connections (FEW_CONNS). */
  private fitWindow(): void {
    let open = 0;
    for (const l of this.links) if (l) open += l.active;
    this.loop.fitToConnections(open);
  }

  /** @internal ring `link` (and post its control batch) at the end of this turn */
  schedule(link: WorkerLink): void {
    if (link.queued) return;
    link.queued = true;
    this.toFlush.push(link);
    this.loop.queueTurn();
  }

  /** Steps 2 and 3 of the loop (one turn's work); returns how much it found. */
  private step(): number {
    let n = 0;
    for (const l of this.links) if (l?.alive) n += l.toMain.take(l.visit);
    if (this.toFlush.length > 0) {
      this.flush();
      n++;
    }
    return n;
  }

  /** Step 3: one postMessage and one ring per worker marked since the last turn. */
  private flush(): void {
    const links = this.toFlush.splice(0);
    for (const l of links) {
      l.queued = false;
      if (!l.alive) continue;
      if (l.outbox.length > 0) {
        const batch = l.outbox;
        l.outbox = [];
        l.port.postMessage(batch);
        l.wake?.(); // a worker parked in the pool's Atomics.wait would not read the batch for seconds
      }
      if (l.bell.ring()) this.notifies++;
    }
  }

  /** Least-loaded live worker; ties go round-robin so equal workers share new connections. */
  private pick(): WorkerLink | undefined {
    let best: WorkerLink | undefined;
    const n = this.links.length;
    for (let k = 0; k < n; k++) {
      const l = this.links[(this.rr + k) % n];
      if (l?.alive && (best === undefined || l.active < best.active)) best = l;
    }
    this.rr = (this.rr + 1) % Math.max(1, n);
    return best;
  }

  private control(link: WorkerLink, batch: ToMain[]): void {
    if (!link.alive || !Array.isArray(batch)) return;
    for (const m of batch) {
      if (m.t === 'connect') this.connectFor(link, m);
      else if (m.t === 'failed') {
        this.handlerErrors++;
        this.servers.get(m.server)?.handlerFailed(m);
      }
    }
  }

  /** CONNECT from a worker: dial, then OPEN a slot on that same worker (or REFUSE). */
  private connectFor(link: WorkerLink, m: ConnectMessage): void {
    const socket = netConnect({ host: m.host, port: m.port, allowHalfOpen: true, noDelay: true });
    link.connecting.add(socket);
    let timer: NodeJS.Timeout | undefined;
    const refuse = (errno: string, message: string): void => {
      if (!link.connecting.delete(socket)) return;
      if (timer) clearTimeout(timer);
      socket.destroy();
      link.post({ t: 'refused', req: m.req, errno, message });
    };
    const onError = (e: NodeJS.ErrnoException): void => refuse(e.code ?? 'ERR_SOCKET', e.message);
    socket.once('error', onError);
    if (m.timeout > 0) {
      timer = setTimeout(
        () => refuse('ETIMEDOUT', `connect to ${m.host}:${m.port} timed out after ${m.timeout} ms`),
        m.timeout,
      );
    }
    socket.once('connect', () => {
      if (!link.connecting.delete(socket)) return;
      if (timer) clearTimeout(timer);
      socket.off('error', onError);
      const got = link.take(m.ringBytes);
      if (!got) {
        socket.destroy();
        link.post({ t: 'refused', req: m.req, errno: 'EMFILE', message: 'too many connections on this worker' });
        return;
      }
      this.connected++;
      const c = new MainConn(link, got.i, got.slot, socket, undefined);
      if (c.scratchReads) this.scratchReads++;
      link.conns[got.i] = c;
      link.active++;
      this.fitWindow();
      link.post({ t: 'open', i: got.i, slot: got.slot, req: m.req, ...endpoints(socket) });
    });
  }
}

function endpoints(s: Socket): Endpoints {
  return {
    remoteAddress: s.remoteAddress ?? '',
    remotePort: s.remotePort ?? 0,
    remoteFamily: s.remoteFamily ?? '',
    localAddress: s.localAddress ?? '',
    localPort: s.localPort ?? 0,
  };
}
