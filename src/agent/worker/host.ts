/**
 * The agent host: a worker's end of the agent protocol. It creates agents (objects of exported
 * classes), keeps their mailboxes, runs their turns, answers calls, and sends for the agent
 * handles that tasks and agents on this worker hold. Installed by ../worker.ts.
 *
 * Runs on a pool worker. Owns: the table of agents living on this worker (live.ts), the module
 * cache for agent classes, this worker's pending calls to agents elsewhere, the agent port (a
 * MessagePort to main, protocol.ts) and the peer rings to the other workers (peer.ts).
 *
 * The turn loop (`drain`, one per event-loop turn or microtask checkpoint that has work):
 *   1. take the next agent from the run queue; while its mailbox head may start (rule below),
 *      take it and start its turn: the method's synchronous part runs now; a method that returns
 *      a promise keeps the turn open until it settles;
 *   2. an agent whose head may not start yet leaves the run queue; the end of its open turn puts it
 *      back (so an awaiting agent costs nothing while it waits);
 *   3. after DRAIN_BUDGET_MS, yield to the event loop (setImmediate) so port messages, timers and
 *      I/O get their turn; post this turn's outgoing batch (one postMessage).
 * When a turn may start (non-reentrant by default):
 *   - a message for a method listed in `interleave` starts whenever it is at the head;
 *   - any other message starts only when no turn of the agent is open (awaits included);
 *   - with `reentrant: true` every message starts when it reaches the head; sync and stop still
 *     wait for the open turns to end.
 * Sends to an agent on this worker go straight into its mailbox; sends to an agent on another
 * worker go over that pair's peer ring (or, without one, to main as FWD, which forwards them):
 * per-sender FIFO holds because one sender's messages to one agent always take the same path
 * while the agent lives where it lives.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  AgentFailedError,
  AgentStoppedError,
  TimeoutError,
  CancelledError,
  WorkerExitedError,
} from '../../core/errors.js';
import { TaskLoadError } from '../../core/errors.js';
import { codeError } from '../../core/op.js';
import { isThenable } from '../../core/thenable.js';
import { reviveArgs } from '../../shared-chan/index.js';
import { assertCloneable } from '../../pool/message/cloneable.js';
import { fromWire, toWire, type WireError } from '../../pool/wire-error.js';
import { AgentHandle, needsCloneCheck, type AgentDescriptor, type AgentRouter, type CallOptions } from '../handle.js';
import { PARKED, REFUSED, SLID } from '../mailbox.js';
import { PeerLink } from '../peer.js';
import { Doorbell, type DoorbellDescriptor } from '../../shm/doorbell.js';
import {
  AGENTS,
  ANSWER,
  CREATE,
  DOWN,
  MOVED,
  PMSG,
  PREPLY,
  isPeerAttach,
  type PeerAttach,
  type PeerFrame,
  CREATED,
  F_ACK,
  F_CALL,
  F_NOW,
  F_STOP,
  F_SYNC,
  FAILED,
  FWD,
  GONE,
  KIND,
  LOAD,
  MSG,
  QUERY,
  REPLY,
  RESTART,
  SNAP,
  RUN_STOP,
  RUN_SYNC,
  SYNC_BASE,
  type FromHost,
  type HostBatch,
  type WorkerBatch,
  type LiveAgentRow,
  type ToHost,
  type WireAgentOptions,
} from '../protocol.js';
import {
  type Ctor,
  type Entry,
  Live,
  Msg,
  type Namespace,
  type Waiter,
  argsOf,
  entry,
  failedError,
  fullError,
  hasObjects,
  methodOf,
  noMethod,
  reviveValue,
  stoppedError,
} from './live.js';

const DRAIN_BUDGET_MS = 4;
/**
 * This worker's spin outcomes since it started (probes only: perf/probes/agent-hops.mjs reads
 * them to tell a round's misses and parks from its code speed). Plain counters, not API.
 */
export const spinCounters = { spins: 0, hits: 0, misses: 0, forgiven: 0, skips: 0, waits: 0, yields: 0 };
/**
 * How long a worker that wrote to a peer spins for the answer, µs. It must outlast the peer's own
 * wake-up (30-100 µs here when the peer was parked, DESIGN-NOTES) or two workers passing messages
 * back and forth never meet spinning: each spin would end just before the other side's answer.
 */
const SPIN_US = 120;
/**
 * after SPIN_MISSES_TO_SKIP spins in a row missed, the next 1, 2, 4 ... up to SPIN_BACKOFF_MAX
 * chances to spin are skipped. Not more: skipping up to 64 left both workers parking on every hop
 * once a busy machine had made them miss (docs/measurements.md 2026-12-07 10:52).
 */
const SPIN_BACKOFF_MAX = 8;
const SPIN_MISSES_TO_SKIP = 2;
/**
 * hits in a row after which one miss is taken for a pause of the peer (its GC, or a core taken
 * from it for a moment) and costs no skips: the next hop spins again
 */
const SPIN_STREAK = 64;
/** longest run of spins and turns in one event-loop turn before yielding (setImmediate) */
const SPIN_SLICE_MS = 2;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** a LOAD frame (rt.stats() counters) that has nothing to ride with goes out at most this often, ms */
const LOAD_EVERY_MS = 20;

/** One worker's agent host. */
export class AgentHost implements AgentRouter {
  readonly agents = new Map<number, Live>();
  private readonly port: MessagePort;
  private readonly modules = new Map<string, Namespace | Promise<Namespace>>();
  /** agents waiting for their module to load, by module URL */
  private readonly loading = new Map<
    string,
    Array<{ a: Live; cls: string; args: unknown[]; snap: unknown; hasSnap: boolean }>
  >();
  /** agents with turns that may start: [runHead, runLen) of runq (the array keeps its backing store) */
  private readonly runq: Live[] = [];
  private runHead = 0;
  private runLen = 0;
  private draining = false;
  private drainScheduled = false;
  private out: WorkerBatch = [];
  private flushScheduled = false;
  private readonly pending = new Map<number, Waiter>();
  private nextReply = 1;
  private running: Live | undefined;
  private turnsTotal = 0;
  private lastLoad = '';
  private lastDepth = 0;
  private depthAt = 0;
  private readonly snapshotters = new Set<Live>();

  /** shared-memory links straight to the other workers (slot -> link, peer.ts) */
  private readonly peers = new Map<number, PeerLink>();
  /** `peers`' links as an array, and the frame callback of each (hot loops iterate these) */
  private peerList: PeerLink[] = [];
  private peerOn: Array<(f: PeerFrame) => void> = [];
  private peerBare: Array<(id: number, gen: number, method: string) => void> = [];
  /** this worker's agent bell: peers ring it after publishing to us */
  private readonly bell: Doorbell;
  /** an async wait on `bell` is pending */
  private bellArmed = false;
  /** inside spin(): turns run from there, and nested calls return at once */
  private spinning = false;
  /** this drain wrote to a peer: an answer may come back within a spin */
  private sentToPeer = false;
  /** chances to spin left to skip, and the next skip after a miss (see spin) */
  private spinSkip = 0;
  private spinBackoff = 1;
  /** spins in a row that missed */
  private spinMisses = 0;
  /** spins in a row that hit (a miss after SPIN_STREAK of them is a pause, not a silent peer) */
  private spinHits = 0;
  /** agent id -> slot it was re-created in (MOVED); else the handle's slot hint */
  private readonly routes = new Map<number, number>();
  /** agent id -> the path this worker's messages to it take (a slot, or -1: through main), fixed at first use */
  private readonly paths = new Map<number, number>();
  /** replies owed by peers: reply id -> slot (DOWN rejects them) */
  private readonly owedBy = new Map<number, number>();
  readonly slot: number;

  constructor(port: MessagePort, slot: number, bell: DoorbellDescriptor) {
    this.port = port;
    this.slot = slot;
    // no spin inside bell.wait: peers do not move SEQ while we run (peer.ts ringIfParked); the
    // host spins on the rings themselves (spinForPeers)
    this.bell = new Doorbell(bell, { spinIterations: 0 });
    port.on('message', this.onPort);
  }

  private readonly onPort = (batch: HostBatch | PeerAttach): void => {
    if (Array.isArray(batch)) this.receive(batch);
    else if (isPeerAttach(batch)) this.addPeer(batch);
  };

  /** Handle every message waiting on the agent port, now (agentsBusy). */
  readPort(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      this.onPort(m.message as HostBatch | PeerAttach);
    }
  }

  private addPeer(m: PeerAttach): void {
    const link = new PeerLink(m.slot, m);
    this.peers.set(m.slot, link);
    this.peerList = [...this.peers.values()];
    this.peerOn = this.peerList.map((l) => (f: PeerFrame) => this.peerFrame(l.slot, f));
    this.peerBare = this.peerList.map(
      (l) => (id: number, gen: number, method: string) => this.peerBareSend(l.slot, id, gen, method),
    );
    this.armBell();
  }

  // --- peer rings ------------------------------------------------------------------------------
  //
  // Peer rings (peer.ts) carry messages between workers without main. How this side reads them:
  //   1. Every drain ends by publishing what its turns wrote to peers (one HEADER store and one
  //      ring of the peer's bell per peer), then releasing what it read from them (one HEAD store
  //      each, after the publishing stores: peer.ts wake-ups, step 2).
  //   2. If it wrote to a peer, an answer may come back soon (ping-pong, a ring of agents): it
  //      spins on the peer rings (the word each one's next frame lands on, spinForPeers) for up to SPIN_US, reads what came, runs those turns, publishes,
  //      and spins again, for at most SPIN_SLICE_MS per event-loop turn (then setImmediate).
  //      Two spins in a row that missed make it skip its next 1, 2, 4 ... (up to SPIN_BACKOFF_MAX)
  //      chances to spin, and a hit resets that: a worker whose peers do not answer soon stops
  //      paying, and one miss alone (a peer descheduled for a moment) does not park the next hops;
  //      nor does a miss after SPIN_STREAK hits in a row (a pause of a peer that was answering).
  //      The spin allocates nothing: its clock is read every 1024 rounds, and the hop's own path
  //      (send, deliver, the run queue) keeps no closure contexts or fresh arrays per message.
  //   3. Otherwise (or after a miss) it waits on its bell with Atomics.waitAsync (armBell): the
  //      event loop stays free, and a peer's ring wakes it (a futex wake only while parked).
  //   An armed wait and a spin never overlap: spin() runs only while no wait is armed.

  /** Read every peer ring; returns the frames read. */
  private pollPeers(): number {
    let n = 0;
    // arrays, not the Map: this runs several times a hop on the ping-pong path
    const list = this.peerList;
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.readable()) n += list[i]!.poll(this.peerOn[i]!, this.peerBare[i]!);
    }
    return n;
  }

  private readonly peerFrame = (from: number, f: PeerFrame): void => {
    if (f[0] === PMSG) {
      const a = this.agents.get(f[1]);
      const args = f[4]; // handles in it revived by the codec (handle.ts setObjectReviver)
      if (a !== undefined && a.gen === f[2]) {
        const m = entry(f[3], args, f[5], f[6], null, from);
        if (f[5] === 0 && f[6] === 0) this.offerPlain(a, m);
        else this.enqueue(a, m);
      } else this.push([FWD, f[1], f[2], f[3], args, f[5], f[6], from]); // not here (moved, or gone): main knows
    } else if (f[0] === PREPLY) {
      const p = this.pending.get(f[1]);
      if (p) {
        if (f[2]) p.resolve(f[3]);
        else p.reject(fromWire(f[3] as WireError));
      }
    } else throw new Error(`agent host: unknown peer frame kind ${String((f as unknown[])[0])}`);
  };

  /** A bare frame (peer.ts): a send without arguments that nobody waits for. */
  private peerBareSend(from: number, id: number, gen: number, method: string): void {
    const a = this.agents.get(id);
    if (a !== undefined && a.gen === gen) this.offerPlain(a, method);
    else this.push([FWD, id, gen, method, NO_ARGS, 0, 0, from]); // not here (moved, or gone): main knows
  }

  /** Publish what turns wrote to peers (step 1). */
  private publishPeers(): void {
    const list = this.peerList;
    for (let i = 0; i < list.length; i++) if (list[i]!.dirty && list[i]!.publish()) this.armBell(); // full: wait for room
  }

  /**
   * Hand the frames read from peers back to their writers (peer.ts wake-ups, step 2): after this
   * drain's publish, so the HEAD store's fence does not delay the answer, and before any wait.
   */
  private releasePeers(): void {
    const list = this.peerList;
    for (let i = 0; i < list.length; i++) list[i]!.release();
  }

  /** Step 3: wait for a peer's ring without blocking the event loop. */
  private armBell(): void {
    this.releasePeers(); // never wait holding room a peer's writer may be waiting for
    if (this.bellArmed || this.spinning || this.peers.size === 0) return;
    const seen = this.bell.seq(); // pairs with: peer.ts PeerLink (the peer's Doorbell.ring after it publishes)
    this.bellArmed = true;
    // a frame published (or room made for our backlog) before `seen` was read rang already:
    // act on it now, or it waits for a ring that may never come
    for (const peer of this.peers.values()) {
      if (peer.readable() || peer.roomCame()) {
        setImmediate(this.onBell);
        return;
      }
    }
    spinCounters.waits++;
    this.bell.wait(seen, { ref: false, recheck: this.anyReadable }).then(this.onBell, this.onBell);
  }

  /** After publishing PARKED: did a peer publish meanwhile? (doorbell.ts invariant 8) */
  private readonly anyReadable = (): boolean => {
    const list = this.peerList;
    for (let i = 0; i < list.length; i++) if (list[i]!.readable()) return true; // pairs with: peer.ts ringIfParked
    return false;
  };

  /**
   * Spin for up to SPIN_US until a peer publishes to us (its next frame's HEADER is stored) or our bell's SEQ moves
   * past `seen` (a release that made room for our backlog). Reads only: no STATE store, so the
   * lines a peer writes are not stolen back on every hop. True when something came.
   */
  private spinForPeers(seen: number): boolean {
    let end = 0;
    for (let i = 1; ; i++) {
      if (this.anyReadable()) return true; // pairs with: peer.ts publish (byte-ring-writer.ts publish)
      if (this.bell.seq() !== seen) return true; // pairs with: peer.ts onWriterWaiting (ring)
      if ((i & 1023) === 0) {
        // the clock is read first after 1024 rounds (~10-30 µs): an answer that comes that soon
        // reads no clock (a clock read returns a new heap number: ~30 bytes a hop when it was
        // every 64 rounds, docs/measurements.md 2026-12-07 10:52)
        const now = performance.now();
        if (end === 0) end = now + SPIN_US / 1000;
        else if (now > end) return false;
      }
    }
  }

  private readonly onBell = (): void => {
    this.bellArmed = false;
    this.publishPeers(); // a peer made room for our backlog, or frames came
    if (this.pollPeers() > 0) this.drain();
    else this.armBell();
  };

  /** Step 2: spin for answers from peers, running their turns as they come. */
  private spin(): void {
    if (this.spinning || this.bellArmed || this.peers.size === 0) return;
    if (this.spinSkip > 0) {
      spinCounters.skips++;
      this.spinSkip--;
      this.armBell();
      return;
    }
    this.spinning = true;
    const t0 = performance.now();
    let yielded = false;
    let hops = 0;
    try {
      for (;;) {
        this.sentToPeer = false;
        const seen = this.bell.seq();
        if (this.pollPeers() === 0) {
          spinCounters.spins++;
          if (!this.spinForPeers(seen)) {
            spinCounters.misses++;
            // a miss after a run of hits is a pause (the peer collecting garbage, or descheduled),
            // not a peer that stopped answering: it costs no skips
            if (this.spinHits >= SPIN_STREAK) {
              spinCounters.forgiven++;
              this.spinHits = 0;
            } else if (++this.spinMisses >= SPIN_MISSES_TO_SKIP) {
              this.spinHits = 0;
              this.spinSkip = this.spinBackoff;
              this.spinBackoff = Math.min(SPIN_BACKOFF_MAX, this.spinBackoff * 2);
            }
            break;
          }
          spinCounters.hits++;
          this.spinHits++;
          this.spinMisses = 0;
          this.spinBackoff = 1;
          if (this.pollPeers() === 0) continue;
        }
        this.drain(); // runs the turns; publishes; does not spin (this.spinning)
        if (!this.sentToPeer && this.runHead >= this.runLen) break;
        if ((++hops & 7) === 0 && performance.now() - t0 > SPIN_SLICE_MS) {
          yielded = true;
          spinCounters.yields++;
          setImmediate(this.respin);
          break;
        }
      }
    } finally {
      this.spinning = false;
    }
    if (this.out.length > 0 || this.peers.size > 0) this.flush();
    if (!yielded) this.armBell();
  }

  private readonly respin = (): void => {
    if (this.pollPeers() > 0) this.drain();
    else this.spin();
  };

  /** The worker in `slot` died: what it owed us will never come. */
  private down(slot: number): void {
    this.peers.delete(slot);
    this.peerList = [...this.peers.values()];
    this.peerOn = this.peerList.map((l) => (f: PeerFrame) => this.peerFrame(l.slot, f));
    this.peerBare = this.peerList.map(
      (l) => (id: number, gen: number, method: string) => this.peerBareSend(l.slot, id, gen, method),
    );
    for (const [reply, s] of this.owedBy) {
      if (s !== slot) continue;
      this.pending
        .get(reply)
        ?.reject(
          new WorkerExitedError(`the worker (slot ${slot}) of the agent this call went to died before answering`),
        );
    }
    for (const [id, p] of this.paths) if (p === slot) this.paths.delete(id);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  detach(): void {
    this.port.close();
  }

  currentHandle(): AgentHandle | undefined {
    const a = this.running;
    if (!a) return undefined;
    return new AgentHandle(
      {
        shoalAgent: 1,
        id: a.id,
        gen: a.gen,
        name: a.name,
        policy:
          a.opts.size !== Infinity && (a.opts.policy === 'wait' || a.opts.policy === 'error') ? a.opts.policy : null,
        hub: a.opts.hub,
        timeout: a.opts.timeout,
        slot: this.slot,
      },
      this,
    );
  }

  // --- AgentRouter: handles held on this worker ---------------------------------------------

  send(h: AgentDescriptor, method: string, args: unknown[], flags: number): Promise<void> {
    if (h.policy !== 'wait' && h.policy !== 'error') {
      this.deliver(h, method, args, flags, null);
      return RESOLVED;
    }
    return this.sendAcked(h, method, args, flags);
  }

  /**
   * `send` to a bounded mailbox that acknowledges. Its own method: a closure in `send` would make
   * every call of it allocate the context the closure captures (72 bytes a hop on the ping-pong
   * path, docs/measurements.md 2026-12-07 10:52), taken or not.
   */
  private sendAcked(h: AgentDescriptor, method: string, args: unknown[], flags: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.deliver(h, method, args, flags | F_ACK, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  call(
    h: AgentDescriptor,
    method: string,
    args: unknown[],
    flags: number,
    o: CallOptions | undefined,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const ms = o?.timeout ?? h.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
      const what = flags & F_SYNC ? 'sync()' : flags & F_STOP ? 'stop()' : `call('${method}')`;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const signal = o?.signal;
      const onAbort = (): void => fail(new CancelledError(`${what} on agent ${h.name}#${h.id} was cancelled`));
      let reply = 0;
      const fail = (e: unknown): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (reply !== 0) {
          // gave up waiting: a late answer finds nobody (and the entry does not leak)
          this.pending.delete(reply);
          this.owedBy.delete(reply);
        }
        reject(e);
      };
      const w: Waiter = {
        resolve: (v) => {
          if (done) return;
          done = true;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: fail,
      };
      if (signal?.aborted) return onAbort();
      if (ms > 0)
        timer = setTimeout(
          () =>
            fail(
              new TimeoutError(
                `${what} on agent ${h.name}#${h.id} timed out after ${ms} ms (a busy agent, or a call cycle such as A -> B -> A)`,
              ),
            ),
          ms,
        );
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        reply = this.deliver(h, method, args, flags, w);
      } catch (e) {
        fail(e); // the arguments cannot go to the agent's worker: nothing was sent
      }
    });
  }

  error(): Error | undefined {
    return undefined; // the failed state is main's to report
  }

  restart(): Promise<void> {
    return Promise.reject(
      codeError(
        TypeError,
        'ERR_SHOAL_MAIN_ONLY',
        'agent.restart() is called from the main thread (where rt.agent ran)',
      ),
    );
  }

  /** Route one message: into a local mailbox, or to main for an agent elsewhere. */
  /** Returns the reply id a remote answer will carry (0: local, or nobody waits). */
  private deliver(h: AgentDescriptor, method: string, args: unknown[], flags: number, w: Waiter | null): number {
    const a = this.agents.get(h.id);
    // the same call-site rule wherever the agent lives: what could not cross to another worker is
    // refused here too (the peer path's encode throws on its own), so placement changes nothing
    if ((a !== undefined || !this.peers.has(this.paths.get(h.id) ?? -1)) && needsCloneCheck(args)) {
      assertCloneable(args, 'args');
    }
    if (a !== undefined && a.gen === h.gen) {
      this.enqueue(a, entry(method, args, 0, flags, w, -1));
      return 0;
    }
    // one path per target, fixed at first use, so this sender's messages to it stay in order
    let path = this.paths.get(h.id);
    if (path === undefined) {
      const where = this.routes.get(h.id) ?? h.slot;
      path = where !== undefined && where >= 0 && this.peers.has(where) ? where : -1;
      this.paths.set(h.id, path);
    }
    const peer = path >= 0 ? this.peers.get(path) : undefined;
    const reply = w !== null ? this.nextReply++ : 0;
    if (peer !== undefined) {
      if (args.length === 0 && reply === 0 && flags === 0) peer.writeBare(h.id, h.gen, method);
      else peer.write([PMSG, h.id, h.gen, method, args, reply, flags]); // throws here when args cannot go
      this.sentToPeer = true;
      this.scheduleFlush();
    } else this.push([FWD, h.id, h.gen, method, args, reply, flags, this.slot]);
    if (w !== null) this.owe(reply, path, w);
    return reply;
  }

  /**
   * Wait for reply `id` (from main, or from the peer in `path` >= 0). Its own method: the closures
   * in deliver itself would make every send allocate the context they capture (a ThreadRing hop
   * did, docs/measurements.md 2026-12-07 10:52), whether a reply is awaited or not.
   */
  private owe(id: number, path: number, w: Waiter): void {
    const owed = path >= 0;
    if (owed) this.owedBy.set(id, path);
    this.pending.set(id, {
      resolve: (v) => {
        this.pending.delete(id);
        if (owed) this.owedBy.delete(id);
        w.resolve(v);
      },
      reject: (e) => {
        this.pending.delete(id);
        if (owed) this.owedBy.delete(id);
        w.reject(e);
      },
    });
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled && !this.draining) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  // --- port --------------------------------------------------------------------------------

  /** main's method table for runs of plain sends (protocol.ts HostBatch) */
  private readonly methods: string[] = [];

  private receive(batch: HostBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const x = batch[i]!;
      if (x instanceof Int32Array) {
        this.receiveRun(x);
        continue;
      }
      if (typeof x === 'string') {
        this.methods.push(x); // the next entry of main's method table
        continue;
      }
      if (typeof x === 'number') {
        // a compact plain send (protocol.ts HostBatch)
        const id = x > 0 ? x : -x;
        const method = batch[++i] as string;
        let args = NO_ARGS;
        if (x < 0) {
          args = batch[++i] as unknown[];
          if (hasObjects(args)) args = reviveArgs(args);
        }
        const a = this.agents.get(id);
        if (a !== undefined && a.gen === 1)
          this.offerPlain(a, args.length === 0 ? method : new Msg(method, args, 0, 0, null));
        continue;
      }
      const f = x as ToHost;
      switch (f[0]) {
        case MSG: {
          const a = this.agents.get(f[1]);
          const m = entry(f[3], hasObjects(f[4]) ? reviveArgs(f[4]) : f[4], f[5], f[6], null, -1);
          if (a === undefined || a.gen !== f[2]) this.answer(m, false, stoppedError(f[1], f[3]));
          else this.enqueue(a, m);
          break;
        }
        case ANSWER: {
          const p = this.pending.get(f[1]);
          if (p) {
            if (f[2]) p.resolve(reviveValue(f[3]));
            else p.reject(fromWire(f[3] as WireError));
          }
          break;
        }
        case CREATE:
          this.create(f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
          break;
        case RESTART:
          this.restartLocal(f[1], f[2], f[3], f[4], f[5], f[6]);
          break;
        case QUERY:
          this.push([AGENTS, f[1], this.rows()]);
          break;
        case DOWN:
          this.down(f[1]);
          break;
        case KIND:
          this.kinds.push({ url: f[1], cls: f[2], opts: f[3] });
          break;
        case MOVED:
          this.routes.set(f[1], f[2]);
          this.paths.delete(f[1]); // at most once: what was in flight to the dead worker is lost anyway
          break;
        default:
          throw new Error(`agent host: unknown frame kind ${String((f as unknown[])[0])}`);
      }
    }
    this.drain();
  }

  /** main's kind table for creations in runs (protocol.ts KIND) */
  private readonly kinds: Array<{ url: string; cls: string; opts: WireAgentOptions }> = [];

  /** A run from main: [id, method index] pairs (plain sends), or [id, -1 - kind] (creations). */
  private receiveRun(run: Int32Array): void {
    const methods = this.methods;
    const agents = this.agents;
    for (let j = 0; j < run.length; j += 2) {
      const m = run[j + 1]!;
      if (m <= -SYNC_BASE) {
        // a sync or stop from main (protocol.ts HostBatch), as its MSG frame would be
        const id = run[j]!;
        const c = (-SYNC_BASE - m) & 3;
        const reply = (-SYNC_BASE - m) >>> 2;
        const a = agents.get(id);
        if (
          c === RUN_SYNC &&
          a !== undefined &&
          a.gen === 1 &&
          a.open === 0 &&
          a.box.total === 0 &&
          a.inst !== undefined &&
          a.failed === undefined &&
          !a.stopped
        ) {
          // nothing of main's is queued or running there: the sync holds already (no Msg, no mailbox)
          this.push(-reply); // compact REPLY ok (protocol.ts WorkerBatch)
          continue;
        }
        const flags = c === RUN_SYNC ? F_SYNC : c === RUN_STOP ? F_STOP : F_STOP | F_NOW;
        const s = new Msg('', NO_ARGS, reply, flags, null, -1);
        if (a === undefined || a.gen !== 1) this.answer(s, false, stoppedError(id, ''));
        else this.enqueue(a, s);
        continue;
      }
      if (m < 0) {
        const k = this.kinds[-1 - m]!;
        this.create(run[j]!, 1, k.url, k.cls, NO_ARGS, k.opts, undefined, false);
        continue;
      }
      const a = agents.get(run[j]!);
      if (a !== undefined && a.gen === 1) this.offerPlain(a, methods[m]!);
    }
  }

  private push(f: FromHost | number): void {
    if (this.out.push(f) >= SLICE)
      this.flush(); // a long burst goes out in slices (pipelining)
    else if (!this.flushScheduled && !this.draining) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.snapshotters.size > 0) this.takeSnapshots();
    const now = performance.now();
    if (now - this.depthAt > 50) {
      // O(agents): at most every 50 ms
      this.depthAt = now;
      this.lastDepth = this.depth();
    }
    const load = `${this.agents.size},${this.lastDepth},${this.turnsTotal}`;
    if (load !== this.lastLoad && (this.out.length > 0 || this.turnsTotal > 0)) {
      if (this.out.length > 0 || now - this.loadAt >= LOAD_EVERY_MS) {
        // rides along with other frames; alone (turns fed only by peer rings), at most every
        // LOAD_EVERY_MS: a postMessage per ping-pong hop cost more CPU than the hop (measurements.md)
        this.loadAt = now;
        this.lastLoad = load;
        this.out.push([LOAD, this.agents.size, this.lastDepth, this.turnsTotal]);
      } else if (this.loadTimer === undefined) {
        this.loadTimer = setTimeout(this.flushLoad, LOAD_EVERY_MS);
        this.loadTimer.unref();
      }
    }
    this.publishPeers();
    if (this.out.length === 0) return;
    const b = this.out;
    this.out = [];
    try {
      this.port.postMessage(b);
    } catch {
      for (const f of b) {
        try {
          this.port.postMessage([f]);
        } catch (e) {
          if (typeof f !== 'number' && f[0] === REPLY && f[2]) {
            const why = codeError(
              TypeError,
              'ERR_SHOAL_UNCLONEABLE',
              `an agent's result cannot be sent back: ${(e as Error).message}`,
            );
            this.port.postMessage([[REPLY, f[1], false, toWire(why)]]);
          }
        }
      }
    }
  };

  private loadAt = 0;
  private loadTimer: NodeJS.Timeout | undefined;
  private readonly flushLoad = (): void => {
    this.loadTimer = undefined;
    if (!this.flushScheduled) this.flush();
  };

  private depth(): number {
    let n = 0;
    for (const a of this.agents.values()) n += a.box.total;
    return n;
  }

  private takeSnapshots(): void {
    // snapshots go first in the batch: a reply that follows was answered from a state no newer
    for (const a of this.snapshotters) {
      if (!a.dirty || a.inst === undefined) continue;
      a.dirty = false;
      try {
        this.out.unshift([SNAP, a.id, (a.inst.snapshot as () => unknown).call(a.inst)]);
      } catch (e) {
        process.emitWarning(`shoal agent ${a.name}#${a.id}: snapshot() threw: ${(e as Error)?.message ?? e}`);
      }
    }
  }

  // --- lifecycle -----------------------------------------------------------------------------

  private create(
    id: number,
    gen: number,
    url: string,
    cls: string,
    args: unknown[],
    opts: WireAgentOptions,
    snap: unknown,
    hasSnap: boolean,
  ): void {
    const a = new Live(id, gen, cls, opts, opts.interleave.length ? new Set(opts.interleave) : null);
    this.agents.set(id, a);
    const ns = this.modules.get(url);
    if (ns !== undefined && !(ns instanceof Promise)) {
      this.build(a, ns, url, cls, args, snap, hasSnap);
      return;
    }
    // the module is loading: one wait for every agent of a burst (not a promise each)
    let q = this.loading.get(url);
    if (q === undefined) {
      q = [];
      this.loading.set(url, q);
      const all = q;
      const done = (m: Namespace): void => {
        if (this.loading.get(url) === all) this.loading.delete(url);
        for (const p of all) this.build(p.a, m, url, p.cls, p.args, p.snap, p.hasSnap);
        this.drain();
      };
      this.load(url).then(done, (e: unknown) =>
        done(
          new Proxy(
            {},
            {
              get() {
                throw new TaskLoadError(`cannot load agent module ${url}: ${(e as Error)?.message ?? e}`, { cause: e });
              },
            },
          ),
        ),
      );
    }
    q.push({ a, cls, args, snap, hasSnap });
  }

  /** Construct agent `a` from class `cls` of module namespace `ns`; answer main (CREATED). */
  private build(
    a: Live,
    ns: Namespace,
    url: string,
    cls: string,
    args: unknown[],
    snap: unknown,
    hasSnap: boolean,
  ): void {
    if (a.stopped) return;
    try {
      const C = ns[cls];
      if (typeof C !== 'function') {
        const names = Object.keys(ns).filter((k) => typeof ns[k] === 'function');
        throw new TaskLoadError(
          C === undefined
            ? `agent module ${url} has no export '${cls}' (function exports: ${names.join(', ') || 'none'})`
            : `export '${cls}' of agent module ${url} is a ${typeof C}, not a class`,
        );
      }
      a.ctor = C as Ctor;
      this.running = a;
      try {
        a.inst = args.length === 0 ? new (C as Ctor)() : new (C as Ctor)(...reviveArgs(args));
        if (hasSnap && typeof a.inst.restore === 'function') (a.inst.restore as (s: unknown) => void)(snap);
      } finally {
        this.running = undefined;
      }
      if (typeof a.inst.snapshot === 'function') {
        this.snapshotters.add(a);
        a.snapshots = true;
      }
    } catch (e) {
      this.agents.delete(a.id);
      a.stopped = true;
      this.push([CREATED, a.id, false, toWire(e)]);
      for (const m of a.box.clear()) this.answer(m, false, e);
      return;
    }
    this.push(a.id); // compact CREATED (ok): protocol.ts WorkerBatch
    if (a.box.depth > 0) this.schedule(a);
  }

  private load(url: string): Promise<Namespace> {
    const hit = this.modules.get(url);
    if (hit) return Promise.resolve(hit);
    const p = (import(url) as Promise<Namespace>).then(
      (m) => {
        this.modules.set(url, m);
        return m;
      },
      (e: unknown) => {
        this.modules.delete(url);
        throw e;
      },
    );
    this.modules.set(url, p);
    return p;
  }

  private restartLocal(
    id: number,
    gen: number,
    state: unknown,
    hasState: boolean,
    clear: boolean,
    reply: number,
  ): void {
    const a = this.agents.get(id);
    if (a === undefined || a.gen !== gen) {
      this.push([REPLY, reply, false, toWire(stoppedError(id, 'restart'))]);
      return;
    }
    try {
      if (hasState && a.inst !== undefined) {
        if (typeof a.inst.restore === 'function') (a.inst.restore as (s: unknown) => void)(state);
        else Object.assign(a.inst, state);
      }
    } catch (e) {
      this.push([REPLY, reply, false, toWire(e)]);
      return;
    }
    const cause = a.failed;
    a.failed = undefined;
    if (clear) {
      for (const m of a.box.clear()) {
        this.answer(
          m,
          false,
          new AgentFailedError(`agent ${a.name}#${a.id} was restarted with clearActions: message dropped`, { cause }),
        );
      }
    }
    a.dirty = true;
    this.push([REPLY, reply, true, undefined]);
    if (a.box.depth > 0) this.schedule(a);
  }

  /** `why` is made only when a queued message needs it (an Error costs microseconds: its stack). */
  private stopLocal(a: Live, why: () => Error): void {
    a.stopped = true;
    this.agents.delete(a.id);
    this.snapshotters.delete(a);
    if (a.box.total > 0) {
      const e = why();
      for (const m of a.box.clear()) this.answer(m, false, e);
    }
    this.push([GONE, a.id]);
  }

  // --- mailboxes and turns -------------------------------------------------------------------

  /**
   * A plain send (nobody waits for it) arriving from outside any turn (main's port, a peer ring):
   * to an agent that could start it at once (unbounded, nothing queued, and no open turn, or an
   * open one this message may join: an `interleave` method, or a reentrant agent) it runs now, as
   * enqueue + step would run it next (the same order: its mailbox is empty), without the mailbox
   * and the run queue. Bounded like a drain: past DRAIN_BUDGET_MS of such turns, messages queue
   * until the next drain ends.
   */
  private offerPlain(a: Live, m: Entry): void {
    if (
      a.queued ||
      a.box.depth !== 0 ||
      a.box.size !== Infinity || // a bounded box counts the message it takes before its turn starts
      a.inst === undefined ||
      a.failed !== undefined ||
      a.stopped ||
      this.draining ||
      this.running !== undefined ||
      this.directOff
    ) {
      this.enqueue(a, m);
      return;
    }
    // step's rule for a head message while a turn is open (a ping-pong's pinger awaits in `run`
    // and takes its `pong`s interleaved: measurements.md 2026-12-07 08:20)
    const inter = a.open !== 0 && a.interleave !== null && a.interleave.has(methodOf(m));
    if (a.open !== 0 && !inter && !a.opts.reentrant) {
      this.enqueue(a, m);
      return;
    }
    const n = ++this.direct;
    if (n === 8) this.directT0 = performance.now();
    else if ((n & 255) === 0 && performance.now() - this.directT0 > DRAIN_BUDGET_MS) this.directOff = true;
    if (a.open === 0) this.plainTurn(a, m);
    else this.turn(a, m, inter);
  }

  /** turns offerPlain ran since the last drain, when the 8th began, and whether it stopped */
  private direct = 0;
  private directT0 = 0;
  private directOff = false;

  private enqueue(a: Live, m: Entry): void {
    if (a.stopped) {
      this.answer(m, false, stoppedError(a.id, methodOf(m), a.name));
      return;
    }
    if (typeof m === 'string') {
      // a plain send: none of the checks below apply
      const r = a.box.offer(m, false);
      if (r === REFUSED) return; // 'drop' (or 'error' with nobody to tell: a plain send is not acked)
      if (r === SLID) this.slid(a);
      if (!a.queued && a.inst !== undefined && a.failed === undefined) this.schedule(a);
      return;
    }
    const control = (m.flags & (F_SYNC | F_STOP)) !== 0;
    if (a.failed !== undefined && (m.flags & (F_CALL | F_SYNC | F_ACK)) !== 0 && (m.flags & F_STOP) === 0) {
      this.answer(m, false, failedError(a, m.method));
      return;
    }
    if ((m.flags & F_NOW) !== 0 || ((m.flags & F_STOP) !== 0 && a.failed !== undefined)) {
      this.stopLocal(a, () => new AgentStoppedError(`agent ${a.name}#${a.id} was stopped before message ran`));
      this.answer(m, true, undefined);
      return;
    }
    const r = a.box.offer(m, control);
    if (r === REFUSED) {
      if (a.box.policy === 'drop' && (m.flags & F_CALL) === 0) this.answer(m, true, undefined);
      else this.answer(m, false, fullError(a, m.method));
      return;
    }
    if (r === SLID) this.slid(a);
    if (r !== PARKED && (m.flags & F_ACK) !== 0) this.answer(m, true, undefined);
    if (!a.queued && a.inst !== undefined && a.failed === undefined) this.schedule(a);
  }

  /** The message a 'slide' mailbox pushed out: tell whoever waits for it. */
  private slid(a: Live): void {
    const old = a.box.slid!;
    a.box.slid = undefined;
    if (typeof old === 'string') return;
    if (old.flags & F_CALL) this.answer(old, false, fullError(a, old.method));
    else if (old.flags & (F_SYNC | F_STOP)) this.answer(old, true, undefined);
  }

  private schedule(a: Live): void {
    if (a.queued) return;
    a.queued = true;
    this.runq[this.runLen++] = a;
    if (!this.draining && !this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(this.drainTask);
    }
  }

  private readonly drainTask = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    // the budget's clock starts 8 steps in: a drain of a few steps, as on every ping-pong hop,
    // reads no clock
    let t0 = 0;
    let n = 0;
    try {
      while (this.runHead < this.runLen) {
        const a = this.runq[this.runHead]!;
        this.runq[this.runHead++] = undefined as unknown as Live;
        a.queued = false;
        this.step(a);
        if (++n === 8) t0 = performance.now();
        else if ((n & 255) === 0 && performance.now() - t0 > DRAIN_BUDGET_MS) break;
      }
    } finally {
      if (this.runHead >= this.runLen) {
        // taken slots were cleared; keep the array's store (a length reset dropped it, and every
        // drain grew it again: docs/measurements.md 2026-12-07 10:52)
        this.runHead = this.runLen = 0;
        this.direct = 0;
        this.directOff = false;
      } else if (this.runHead > 4096) {
        this.runq.copyWithin(0, this.runHead, this.runLen);
        this.runq.fill(undefined as unknown as Live, this.runLen - this.runHead, this.runLen);
        this.runLen -= this.runHead;
        this.runHead = 0;
      }
      this.draining = false;
    }
    if (this.runHead < this.runLen && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drainTask); // over budget: let the event loop in
    }
    if (this.peers.size > 0) {
      // peer rings, steps 1-3 (see "peer rings" above)
      this.publishPeers();
      this.releasePeers();
      if (this.sentToPeer && !this.spinning) this.spin();
      else this.armBell();
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Start the turns of `a` that may start now (at most 256, then requeue it: fairness). */
  private step(a: Live): void {
    a.queued = true; // a turn ending inside this step must not put `a` on the run queue again
    let k = 0;
    for (; k < 256; k++) {
      if (a.stopped || a.failed !== undefined || a.inst === undefined) break;
      const m = a.box.peek();
      if (m === undefined) break;
      if (a.open === 0 && (typeof m === 'string' || (m.flags === 0 && m.reply === 0 && m.local === null))) {
        // the hot path: a plain send (nobody waits for it) to an agent with no open turn
        a.box.take();
        const admitted = a.box.admitted;
        if (admitted !== undefined && typeof admitted !== 'string' && (admitted.flags & F_ACK) !== 0)
          this.answer(admitted, true, undefined);
        this.plainTurn(a, m);
        continue;
      }
      const control = typeof m !== 'string' && (m.flags & (F_SYNC | F_STOP)) !== 0;
      const inter = !control && a.interleave !== null && a.interleave.has(methodOf(m));
      // sync and stop wait for the open turns; other messages too unless they may interleave
      if (a.open > 0 && (control || (!a.opts.reentrant && !inter))) break;
      a.box.take();
      const admitted = a.box.admitted;
      if (admitted !== undefined && typeof admitted !== 'string' && (admitted.flags & F_ACK) !== 0)
        this.answer(admitted, true, undefined);
      if (control) {
        if ((m as Msg).flags & F_STOP) {
          this.stopLocal(a, () => new AgentStoppedError(`agent ${a.name}#${a.id} was stopped before the message ran`));
        }
        this.answer(m, true, undefined);
        continue;
      }
      this.turn(a, m, inter);
    }
    a.queued = false;
    if (k === 256) this.schedule(a); // more may start: after the other agents (fairness)
  }

  /**
   * `turn` for a plain send (a bare entry, or a Msg nobody waits for) on an agent with no open
   * turn: step's hot path, with the same outcome.
   */
  private plainTurn(a: Live, m: Entry): void {
    const inst = a.inst!;
    const method = typeof m === 'string' ? m : m.method;
    const fn = inst[method];
    if (typeof fn !== 'function' || method === 'constructor') {
      this.ended(a, m, false, noMethod(a, method), false);
      return;
    }
    a.current = method;
    a.open = 1;
    a.exclusive = true;
    this.running = a;
    let r: unknown;
    try {
      r = invoke(inst, fn, m);
    } catch (e) {
      this.running = undefined;
      this.ended(a, m, false, e, true);
      return;
    }
    this.running = undefined;
    if (!isThenable(r)) {
      // ended(a, m, true, r, true) inlined: nobody waits for a plain send's value
      a.open = 0;
      a.exclusive = false;
      a.current = null;
      a.turns++;
      this.turnsTotal++;
      if (a.snapshots) a.dirty = true;
      return;
    }
    this.settleLater(a, m, r, false);
  }

  private turn(a: Live, m: Entry, inter: boolean): void {
    const inst = a.inst!;
    const method = methodOf(m);
    const fn = inst[method];
    if (typeof fn !== 'function' || method === 'constructor') {
      this.ended(a, m, false, noMethod(a, method), false);
      return;
    }
    if (a.open === 0 || !inter) a.current = method; // an interleaved turn does not hide the one it joined
    a.open++;
    if (!inter) a.exclusive = true;
    this.running = a;
    let r: unknown;
    try {
      r = invoke(inst, fn, m); // args revived on arrival (receive)
    } catch (e) {
      this.running = undefined;
      this.ended(a, m, false, e, true, inter);
      return;
    }
    this.running = undefined;
    if (!isThenable(r)) {
      this.ended(a, m, true, r, true, inter);
      return;
    }
    this.settleLater(a, m, r, inter);
  }

  /** The turn's method returned a promise: the turn stays open until it settles. */
  private settleLater(a: Live, m: Entry, r: PromiseLike<unknown>, inter: boolean): void {
    r.then(
      (v) => {
        this.ended(a, m, true, v, true, inter);
        this.drain();
      },
      (e: unknown) => {
        this.ended(a, m, false, e, true, inter);
        this.drain();
      },
    );
  }

  private ended(a: Live, m: Entry, ok: boolean, v: unknown, opened: boolean, inter = false): void {
    if (opened) {
      a.open--;
      if (!inter) a.exclusive = false;
      if (a.open === 0) a.current = null;
    }
    a.turns++;
    this.turnsTotal++;
    if (a.snapshots) a.dirty = true;
    if (ok) {
      if (typeof m !== 'string') this.answer(m, true, v);
    } else if (typeof m !== 'string' && (m.flags & F_CALL) !== 0) {
      this.answer(m, false, v);
    } else if (!a.stopped) {
      this.sendFailed(a, m, v);
    }
    if (!a.stopped && a.box.depth > 0 && a.failed === undefined) this.schedule(a);
  }

  /** A send's method threw: errorMode decides. */
  private sendFailed(a: Live, m: Entry, e: unknown): void {
    const method = methodOf(m);
    if (a.opts.errorMode === 'continue') {
      const hook = a.inst?.onError;
      if (typeof hook === 'function') {
        try {
          (hook as (e: unknown, method: string, args: unknown[]) => void).call(a.inst, e, method, argsOf(m));
        } catch (e2) {
          process.emitWarning(`shoal agent ${a.name}#${a.id}: onError threw: ${(e2 as Error)?.message ?? e2}`);
        }
      }
      this.push([FAILED, a.id, toWire(e), method, false]);
      return;
    }
    a.failed = e;
    this.push([FAILED, a.id, toWire(e), method, true]);
    // calls cannot wait for a restart that may never come: they reject now; sends stay held
    const held = a.box.clear();
    for (const x of held) {
      if (typeof x !== 'string' && (x.flags & (F_CALL | F_SYNC)) !== 0 && (x.flags & F_STOP) === 0)
        this.answer(x, false, failedError(a, x.method));
      else a.box.offer(x, true);
    }
  }

  /** Tell whoever waits for `m` (a waiter here, or main by reply id). */
  private answer(m: Entry, ok: boolean, v: unknown): void {
    if (typeof m === 'string') return; // a plain send: nobody waits
    if (m.local !== null) {
      if (ok) m.local.resolve(v);
      else m.local.reject(v);
      return;
    }
    if (m.reply === 0) return;
    if (m.origin >= 0) {
      const peer = this.peers.get(m.origin);
      if (peer === undefined) return;
      try {
        peer.write([PREPLY, m.reply, ok, ok ? v : toWire(v)]);
      } catch (e) {
        // the result cannot be encoded: the caller gets why instead of waiting for its timeout
        peer.write([PREPLY, m.reply, false, toWire(e)]);
      }
      this.sentToPeer = true;
      this.scheduleFlush();
      return;
    }
    if (ok && v === undefined)
      this.push(-m.reply); // compact REPLY (protocol.ts WorkerBatch): sync, stop, acks
    else this.push([REPLY, m.reply, ok, ok ? v : toWire(v)]);
  }

  private rows(): LiveAgentRow[] {
    const now = performance.now();
    const out: LiveAgentRow[] = [];
    for (const a of this.agents.values()) {
      if (out.length >= 10_000) break;
      out.push({
        id: a.id,
        name: a.name,
        state: a.inst === undefined ? 'loading' : a.failed !== undefined ? 'failed' : a.open > 0 ? 'running' : 'idle',
        method: a.current,
        mailbox: a.box.total,
        turns: a.turns,
        ageMs: now - a.born,
      });
    }
    return out;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
/** frames per post in a long burst */
const SLICE = 2048;

const NO_ARGS: unknown[] = [];

/** Run message `m`'s method on the agent's instance: a plain send carries no arguments. */
function invoke(inst: Record<string, unknown>, fn: unknown, m: Entry): unknown {
  return typeof m === 'string'
    ? (fn as () => unknown).call(inst)
    : (fn as (...x: unknown[]) => unknown).apply(inst, m.args);
}
