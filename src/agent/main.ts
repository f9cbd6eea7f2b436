/**
 * The agent hub: main's end of the agent protocol. It places agents on workers, keeps the record
 * of every live agent (where it lives, how to re-create it), carries main's own sends and calls,
 * forwards messages between workers, and supervises: when a worker dies it rejects the calls in
 * flight to its agents and re-creates them elsewhere, within a restart intensity.
 *
 * Runs on the main thread only. Owns: one agent port per worker (a MessageChannel, protocol.ts),
 * the agent records, the table of answers main waits for (its own calls and forwarded ones), and
 * per-worker agent counters for rt.stats().
 *
 * Supervision (OTP's one_for_one, per agent):
 *   1. A worker dies: every answer main waits for from it rejects with WorkerExitedError naming the
 *      agent and method (messages in flight are lost: delivery is at most once).
 *   2. Each agent that lived there is re-created on the least-loaded live worker (or on the
 *      replacement, when none is live), from its constructor arguments, then `restore(snapshot)`
 *      when the class has `snapshot()`/`restore()` and a snapshot reached main.
 *   3. More than `intensity` re-creations within `period` ms (default 1 per 5000 ms): the agent is
 *      failed instead (AgentFailedError, `agent.error` set); `restart()` re-creates it.
 */
import type { Worker } from 'node:worker_threads';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { settingOrDefault } from '../config.js';
import { createByteRing } from '../shm/byte-ring.js';
import { createDoorbell, type DoorbellDescriptor } from '../shm/doorbell.js';
import {
  AgentFailedError,
  AgentStoppedError,
  CancelledError,
  ClosedError,
  TimeoutError,
  WorkerExitedError,
} from '../core/errors.js';
import { assertCloneable } from '../pool/message/cloneable.js';
import { fromWire, toWire, type WireError } from '../pool/wire-error.js';
import { addArgReviver, reviveArgs } from '../shared-chan/index.js';
import {
  AgentHandle,
  isAgentDescriptor,
  needsCloneCheck,
  setThreadReviver,
  type Agent,
  type AgentClass,
  type AgentDescriptor,
  type AgentRouter,
  type CallOptions,
  type RestartOptions,
} from './handle.js';
import {
  AGENTS,
  ANSWER,
  CREATE,
  DOWN,
  MOVED,
  CREATED,
  F_ACK,
  F_NOW,
  F_STOP,
  F_SYNC,
  FAILED,
  FWD,
  GONE,
  KIND,
  LOAD,
  MSG,
  PEER_RING_BYTES,
  QUERY,
  REPLY,
  RESTART,
  SNAP,
  RUN_STOP,
  RUN_STOP_NOW,
  RUN_SYNC,
  SYNC_BASE,
  type AgentAttach,
  type PeerAttach,
  type HostBatch,
  type WorkerBatch,
  type LiveAgentRow,
  type ToHost,
  type WireAgentOptions,
} from './protocol.js';
import { validateAgentOptions, type AgentOptions, type CheckedOptions } from './options.js';
import { type DeadlineList, Deadlines, type Timed } from './deadlines.js';
import { IdTable } from './id-table.js';

/** One agent as rt.tasks() reports it. */
export interface LiveAgent {
  kind: 'agent';
  id: number;
  /** `ClassName#id` */
  name: string;
  worker: number;
  state: LiveAgentRow['state'] | 'unresponsive';
  /** the method of the turn running now, or null when idle */
  method: string | null;
  /** messages queued in its mailbox */
  mailbox: number;
  turns: number;
  ageMs: number;
  /** always false (the field lines up with LiveTask's) */
  abandoned: false;
  /** never set for agents (the field lines up with LiveTask's) */
  stack?: undefined;
}

/** Agent counters of one worker (rt.stats().workers[i].agents). */
export interface WorkerAgentStats {
  /** agents living on this worker */
  agents: number;
  /** messages queued in their mailboxes (as last reported by the worker) */
  mailbox: number;
  /** turns run on this worker so far (as last reported) */
  turns: number;
}

/** What few agents need (an error, crashes, a snapshot, a re-creation by restart): made on first use. */
class RecExtra {
  error: Error | undefined = undefined;
  /** when its worker died lately (supervision's intensity window) */
  crashes: number[] = NO_CRASHES;
  snapshot: unknown = undefined;
  /** set while a re-creation by restart is pending (AgentHub.decided calls it) */
  created: ((e: Error | undefined) => void) | undefined = undefined;
  /** nowMs() when a re-creation by restart began */
  since = -1;
}

/** What agents created alike share: module, class, validated options and their wire form. */
class Kind {
  constructor(
    readonly url: string,
    readonly cls: string,
    readonly o: CheckedOptions,
    readonly wire: WireAgentOptions,
  ) {}
}

/**
 * Main's record of one agent. Kept small (every live agent has one, and a burst of creations keeps
 * them all through young GCs): flags in one integer, the rare fields in `x`.
 */
class Rec {
  /** R_MOVED | R_STOPPED | R_HAS_SNAP */
  private bits = 0;
  /** answers main waits for from this agent, not counting stop() */
  waiting = 0;
  slot = -1;
  x: RecExtra | undefined = undefined;
  /** rt.agent's promise while the creation is pending (see created); a failure resolves it with a rejection */
  res: ((h: unknown) => void) | undefined = undefined;
  /** nowMs() at rt.agent (small integers: no boxed number per agent) */
  readonly born = nowMs();
  constructor(
    readonly id: number,
    readonly kind: Kind,
    readonly args: unknown[],
  ) {}
  get url(): string {
    return this.kind.url;
  }
  get cls(): string {
    return this.kind.cls;
  }
  get o(): CheckedOptions {
    return this.kind.o;
  }
  get wire(): WireAgentOptions {
    return this.kind.wire;
  }
  get error(): Error | undefined {
    return this.x === undefined ? undefined : this.x.error;
  }
  set error(e: Error | undefined) {
    if (e !== undefined || this.x !== undefined) (this.x ??= new RecExtra()).error = e;
  }
  get crashes(): number[] {
    return this.x === undefined ? NO_CRASHES : this.x.crashes;
  }
  set crashes(c: number[]) {
    if (c !== NO_CRASHES || this.x !== undefined) (this.x ??= new RecExtra()).crashes = c;
  }
  /** nowMs() when the pending creation (or re-creation by restart) began */
  get since(): number {
    return this.x === undefined || this.x.since < 0 ? this.born : this.x.since;
  }
  set since(t: number) {
    (this.x ??= new RecExtra()).since = t;
  }
  /** re-created at least once (workers were told where it went) */
  get moved(): boolean {
    return (this.bits & R_MOVED) !== 0;
  }
  set moved(v: boolean) {
    this.bits = v ? this.bits | R_MOVED : this.bits & ~R_MOVED;
  }
  get stopped(): boolean {
    return (this.bits & R_STOPPED) !== 0;
  }
  set stopped(v: boolean) {
    this.bits = v ? this.bits | R_STOPPED : this.bits & ~R_STOPPED;
  }
  get hasSnap(): boolean {
    return (this.bits & R_HAS_SNAP) !== 0;
  }
  set hasSnap(v: boolean) {
    this.bits = v ? this.bits | R_HAS_SNAP : this.bits & ~R_HAS_SNAP;
  }
  get snapshot(): unknown {
    return this.x?.snapshot;
  }
  set snapshot(v: unknown) {
    (this.x ??= new RecExtra()).snapshot = v;
  }
  get created(): ((e: Error | undefined) => void) | undefined {
    return this.x?.created;
  }
  set created(f: ((e: Error | undefined) => void) | undefined) {
    if (f !== undefined || this.x !== undefined) (this.x ??= new RecExtra()).created = f;
  }
  get label(): string {
    return `${this.cls}#${this.id}`;
  }
}

interface Lane {
  port: MessagePort;
  /** wakes the worker if its thread is parked (a worker with no agents may block in Atomics.wait) */
  wake: () => void;
  /** the worker's agent bell (its peers ring it, peer.ts) */
  bell: DoorbellDescriptor;
  /** this turn's batch (protocol.ts: frames, and compact plain sends inline) */
  out: HostBatch;
  /** the open run of plain sends without arguments (id, method index pairs), not yet in `out` */
  run: Int32Array;
  /** ints written in `run` */
  runLen: number;
  /** the buffers of the runs in `out`: posted as transferred (a copied 32 KiB run cost ~0.3 ms a post, moved ~10 µs) */
  transfer: ArrayBuffer[];
  /** method name -> index in this worker's method table (protocol.ts HostBatch), and back */
  methods: Map<string, number>;
  names: string[];
  /** the method of the last run send and its index (a burst sends one method: no lookup) */
  lastMethod: string;
  lastIndex: number;
  /** this worker's kind table (KIND frames): options -> `class\0url` -> index, and its size */
  kinds: Map<WireAgentOptions, Map<string, number>>;
  kindCount: number;
  /** the last kind looked up (a burst of creations makes one kind: no lookup) */
  lastKindUrl: string;
  lastKindCls: string;
  lastKindWire: WireAgentOptions | undefined;
  lastKind: number;
  agents: number;
  mailbox: number;
  turns: number;
  /** turns counted by workers that died in this slot */
  turnsBefore: number;
  queries: Map<number, (rows: LiveAgentRow[]) => void>;
}

/** An answer main waits for: its own (origin -1) or a worker's forwarded message. */
class Wait implements Timed {
  cleanup: (() => void) | undefined = undefined;
  /** its reply id and timeout (ms), while a deadline runs (deadlines.ts) */
  reply = 0;
  ms = 0;
  dlNext: Timed | null = null;
  dlPrev: Timed | null = null;
  dlList: DeadlineList | null = null;
  deadline = 0;
  constructor(
    readonly rec: Rec,
    readonly what: string,
    readonly slot: number,
    readonly origin: number,
    readonly originReply: number,
    /** settles its promise (a failure resolves it with a rejected one: no reject function kept) */
    readonly resolve: (v: unknown) => void,
  ) {}
}

const hubs = new Map<number, AgentHub>();
let nextHub = 1;

/** Main's agent hub, one per Runtime. */
export class AgentHub implements AgentRouter {
  readonly hubId = nextHub++;
  private readonly lanes: Array<Lane | undefined> = [];
  private readonly recs = new IdTable<Rec>();
  private readonly waits = new IdTable<Wait>();
  private nextId = 1;
  private nextReply = 1;
  private nextQuery = 1;
  private flushQueued = false;
  private reffed = false;
  /** answers main itself waits for (its calls, acks, creations): the ports are ref'd while > 0 */
  private own = 0;
  private closed = false;
  /** rt.close began: no more creations, no re-creation of agents whose workers stop */
  private closing = false;
  /** agents to re-create once a worker is live again */
  private homeless: Rec[] = [];
  /** slots the pool runs (for stats before any worker attached) */
  private slots = 0;

  constructor() {
    hubs.set(this.hubId, this);
  }

  // --- pool hooks ----------------------------------------------------------------------------

  /**
   * A worker started in `slot`: give it its agent port. `wake` rings its doorbell: a worker with
   * no agent yet may be parked in Atomics.wait (up to seconds), and a port message alone does not
   * wake it.
   */
  attach(slot: number, worker: Pick<Worker, 'postMessage'>, wake: () => void = NOOP): void {
    const { port1, port2 } = new MessageChannel();
    const lane: Lane = {
      port: port1,
      wake,
      bell: createDoorbell(),
      out: [],
      run: new Int32Array(RUN_INTS),
      runLen: 0,
      transfer: [],
      methods: new Map(),
      names: [],
      lastMethod: '',
      lastIndex: -1,
      kinds: new Map(),
      kindCount: 0,
      lastKindUrl: '',
      lastKindCls: '',
      lastKindWire: undefined,
      lastKind: -1,
      agents: 0,
      mailbox: 0,
      turns: 0,
      turnsBefore: this.deadTurns[slot] ?? 0,
      queries: new Map(),
    };
    this.lanes[slot] = lane;
    this.slots = Math.max(this.slots, slot + 1);
    port1.on('message', (batch: WorkerBatch) => {
      if (this.lanes[slot] === lane) this.receive(slot, lane, batch);
    });
    if (!this.reffed) port1.unref();
    const msg: AgentAttach = { kind: 'shoal:agent-attach', port: port2, slot, bell: lane.bell };
    worker.postMessage(msg, [port2]);
    wake();
    if (DIRECT) {
      // DOWN frames of the worker this one replaces must reach the others before its new rings:
      // a worker drops its link to a dead slot when it reads DOWN
      this.flush();
      // shared-memory rings straight to every other live worker: worker-side handles send without main
      for (let t = 0; t < this.lanes.length; t++) {
        const other = this.lanes[t];
        if (!other || t === slot) continue;
        const there = createByteRing(PEER_RING_BYTES, { stamped: true }); // new -> t (byte-ring.ts invariant 7)
        const back = createByteRing(PEER_RING_BYTES, { stamped: true }); // t -> new
        const toNew: PeerAttach = { kind: 'shoal:agent-peer', slot: t, out: there, in: back, bell: other.bell };
        const toOld: PeerAttach = { kind: 'shoal:agent-peer', slot, out: back, in: there, bell: lane.bell };
        port1.postMessage(toNew);
        other.port.postMessage(toOld);
        other.wake();
      }
    }
    if (this.homeless.length > 0) {
      const h = this.homeless;
      this.homeless = [];
      for (const r of h) this.place(r, undefined);
    }
  }

  /** The worker in `slot` died (or was stopped): supervision, see the header. */
  exited(slot: number): void {
    const lane = this.lanes[slot];
    if (!lane) return;
    this.lanes[slot] = undefined;
    lane.port.close();
    for (const q of lane.queries.values()) q([]);
    const dead = this.closed || this.closing ? undefined : lane;
    // decide supervision first, so a rejected call says whether its agent comes back
    const now = Date.now();
    const moved: Rec[] = [];
    const failed = new Set<Rec>();
    if (dead) {
      for (const r of this.recs.values()) {
        if (r.slot !== slot || r.stopped) continue;
        r.slot = -1;
        const { intensity, period } = r.o.restart;
        while (r.crashes.length > 0 && now - r.crashes[0]! > period) r.crashes.shift();
        if (r.crashes === NO_CRASHES) r.crashes = [];
        if (r.crashes.length >= intensity) {
          r.error = new AgentFailedError(
            `agent ${r.label} is failed: its worker died more than ${intensity} time(s) in ${period} ms; restart() re-creates it`,
            { cause: new WorkerExitedError(`worker slot ${slot} died`) },
          );
          failed.add(r);
          continue;
        }
        r.crashes.push(now);
        moved.push(r);
      }
    }
    for (const [reply, w] of this.waits.entries()) {
      if (w.slot !== slot) continue;
      this.waits.delete(reply);
      this.settle(
        w,
        false,
        this.closed || this.closing
          ? new ClosedError(`runtime closed: ${w.what} on agent ${w.rec.label} did not finish`)
          : new WorkerExitedError(
              `the worker of agent ${w.rec.label} (slot ${slot}) died while ${w.what} was in flight; ` +
                (failed.has(w.rec)
                  ? 'the agent is failed (restart limit reached; agent.restart() re-creates it)'
                  : 'the agent is re-created (delivery is at most once)'),
            ),
      );
    }
    if (!dead) return;
    for (const l of this.lanes) if (l) this.push(l, [DOWN, slot]);
    this.keepStats(slot, lane);
    for (const r of moved) this.place(r, undefined);
  }

  private keepStats(slot: number, lane: Lane): void {
    // a stand-in so stats keep the slot's turns until the replacement attaches
    this.deadTurns[slot] = lane.turnsBefore + lane.turns;
  }
  private readonly deadTurns: number[] = [];

  // --- creation and placement ----------------------------------------------------------------

  /** rt.agent: create an object of class `cls` from module `url` on a worker. */
  create<C extends AgentClass>(
    url: string,
    cls: string,
    args: unknown[],
    options: AgentOptions | undefined,
  ): Promise<Agent<C>> {
    if (this.closed || this.closing) {
      return Promise.reject(new ClosedError(`runtime is closed: agent ${cls} was not created`));
    }
    const o = validateAgentOptions(options, this.slots);
    if (!allPrimitive(args)) assertCloneable(args, 'args');
    const r = new Rec(this.nextId++, this.kindFor(url, cls, o), args);
    this.recs.set(r.id, r);
    this.own++;
    this.refresh();
    // no closure per agent: 100k pending creations are 100k objects that survive young GCs
    const p = new Promise<unknown>(capture) as Promise<Agent<C>>;
    r.res = captured.res; // the reject function is not kept (decided resolves with a rejection)
    this.place(r, o.worker);
    this.watchCreations();
    return p;
  }

  /** Whether `r` has a creation pending (rt.agent's, or restart's re-creation). */
  private static pending(r: Rec): boolean {
    return r.res !== undefined || r.created !== undefined;
  }

  /** The pending creation of `r` is decided: `e` undefined, it lives; else it failed with `e`. */
  private decided(r: Rec, e: Error | undefined): void {
    const res = r.res;
    if (res === undefined) {
      r.created?.(e);
      return;
    }
    r.res = undefined;
    this.own--;
    this.refresh();
    if (e) {
      this.recs.delete(r.id);
      res(rejected(e));
    } else res(this.handle(r));
  }

  private creationSweep: NodeJS.Timeout | undefined;

  /** No creation waits forever: past its callTimeout it rejects with TimeoutError (swept each second). */
  private watchCreations(): void {
    if (this.creationSweep) return;
    this.creationSweep = setInterval(() => {
      const now = nowMs();
      let pending = 0;
      this.recs.forEach((r) => {
        if (!AgentHub.pending(r)) return;
        pending++;
        const ms = r.o.callTimeout;
        if (ms > 0 && now - r.since > ms) {
          this.decided(r, new TimeoutError(`creating agent ${r.label} timed out after ${ms} ms`));
          this.forget(r);
        }
      });
      if (pending === 0) {
        clearInterval(this.creationSweep);
        this.creationSweep = undefined;
      }
    }, 1000);
    this.creationSweep.unref();
  }

  private handle(r: Rec): AgentHandle {
    const bounded = r.o.wire.size !== Infinity && (r.o.wire.policy === 'wait' || r.o.wire.policy === 'error');
    // the descriptor is read by the constructor only: one scratch object, not a literal per agent
    const d = scratch;
    d.id = r.id;
    d.name = r.cls;
    d.policy = bounded ? r.o.wire.policy : null;
    d.hub = this.hubId;
    d.timeout = r.o.callTimeout;
    d.slot = r.slot;
    return new AgentHandle(d, this);
  }

  /** Put `r` on a worker: `want` (explicit), else the least-loaded live one. */
  private place(r: Rec, want: number | undefined): void {
    let slot = want !== undefined && this.lanes[want] ? want : -1;
    if (slot < 0) {
      let best = Infinity;
      for (let s = 0; s < this.lanes.length; s++) {
        const l = this.lanes[s];
        if (l && l.agents < best) {
          best = l.agents;
          slot = s;
        }
      }
    }
    if (slot < 0) {
      this.homeless.push(r);
      return;
    }
    const lane = this.lanes[slot]!;
    r.slot = slot;
    lane.agents++;
    const k = r.args.length === 0 && !r.hasSnap ? this.kindOf(lane, r) : -1;
    if (k >= 0)
      this.appendRun(lane, r.id, -1 - k); // (id, -1 - kind): protocol.ts HostBatch
    else this.push(lane, [CREATE, r.id, 1, r.url, r.cls, r.args, r.wire, r.snapshot, r.hasSnap]);
    if (r.crashes.length > 0 || r.moved) {
      r.moved = true; // re-created: workers that route to it directly learn its new place
      for (const l of this.lanes) if (l && l !== lane) this.push(l, [MOVED, r.id, slot]);
    }
  }

  /**
   * The index of (module, class, options) of `r` in the lane's kind table, defining it (a KIND
   * frame) the first time; -1 when the table is full (the creation goes as a CREATE frame).
   */
  private kindOf(lane: Lane, r: Rec): number {
    const wire = r.wire;
    if (lane.lastKindUrl === r.url && lane.lastKindCls === r.cls && lane.lastKindWire === wire) return lane.lastKind;
    let byClass = lane.kinds.get(wire);
    if (byClass === undefined) lane.kinds.set(wire, (byClass = new Map()));
    const key = `${r.cls}\u0000${r.url}`;
    let k = byClass.get(key);
    if (k === undefined) {
      if (lane.kindCount >= MAX_METHODS) return -1;
      k = lane.kindCount++;
      byClass.set(key, k);
      this.push(lane, [KIND, r.url, r.cls, wire]);
    }
    lane.lastKindUrl = r.url;
    lane.lastKindCls = r.cls;
    lane.lastKindWire = wire;
    lane.lastKind = k;
    return k;
  }

  private readonly urls = new Map<string, string>();
  private lastKind: Kind | undefined;

  /** The Kind of agents of (url, cls, o): the last one again for a burst made alike. */
  private kindFor(url: string, cls: string, o: CheckedOptions): Kind {
    const k = this.lastKind;
    if (k !== undefined && k.o === o && k.cls === cls && k.url === url) return k;
    return (this.lastKind = new Kind(this.intern(url), cls, o, this.wireFor(o)));
  }

  /** One string per module URL (rt.agent(new URL(...)) makes a new one per call; a Rec keeps it). */
  private intern(url: string): string {
    const hit = this.urls.get(url);
    if (hit !== undefined) return hit;
    if (this.urls.size >= 1024) this.urls.clear();
    this.urls.set(url, url);
    return url;
  }

  /** wire options by content: agents made alike share one object, which a batch clones once */
  private readonly wires = new Map<string, WireAgentOptions>();
  private lastOpts: CheckedOptions | undefined;
  private lastWire: WireAgentOptions | undefined;

  /**
   * The options sent in CREATE, shared by every agent created with the same ones: structured
   * clone writes an object seen before in the same message as a back-reference, so a burst of
   * creations clones its options once (4x less clone work for 100k agents, docs/measurements.md).
   * Read-only once made.
   */
  private wireFor(o: CheckedOptions): WireAgentOptions {
    if (o === this.lastOpts) return this.lastWire!; // the defaults (rt.agent without options) are one object
    const w = o.wire;
    const key = `${w.errorMode}|${w.size}|${w.policy}|${w.reentrant}|${o.callTimeout}|${w.interleave.join(',')}`;
    let hit = this.wires.get(key);
    if (hit === undefined) {
      if (this.wires.size >= 256) this.wires.clear();
      hit = { ...w, hub: this.hubId, timeout: o.callTimeout };
      this.wires.set(key, hit);
    }
    this.lastOpts = o;
    this.lastWire = hit;
    return hit;
  }

  // --- AgentRouter: main's own handles -------------------------------------------------------

  send(h: AgentDescriptor, method: string, args: unknown[], flags: number): Promise<void> {
    const r = this.recs.get(h.id);
    const bad = this.refuse(r, h, method, flags);
    if (bad) return Promise.reject(bad);
    if (args.length > 0 && needsCloneCheck(args)) assertCloneable(args, 'args');
    if (h.policy === null) {
      const lane = this.lanes[r!.slot]!;
      if (flags === 0) {
        if (args.length === 0) {
          // the open run (protocol.ts HostBatch): two ints a send, one memcpy a batch when cloned
          let mi: number | undefined = method === lane.lastMethod ? lane.lastIndex : lane.methods.get(method);
          if (mi === undefined) mi = this.defineMethod(lane, method);
          if (mi >= 0) {
            lane.lastMethod = method;
            lane.lastIndex = mi;
            this.appendRun(lane, h.id, mi);
            return RESOLVED;
          }
        }
        // compact plain send (protocol.ts): no frame array, and a batch of primitives clones fast
        if (lane.runLen > 0) closeRun(lane);
        const n = args.length === 0 ? lane.out.push(h.id, method) : lane.out.push(-h.id, method, args);
        this.added(lane, n >= SLICE * 2);
      } else this.push(lane, [MSG, h.id, 1, method, args, 0, flags]);
      return RESOLVED;
    }
    return this.wait(r!, method, args, flags | F_ACK, undefined) as Promise<void>;
  }

  call(
    h: AgentDescriptor,
    method: string,
    args: unknown[],
    flags: number,
    o: CallOptions | undefined,
  ): Promise<unknown> {
    const r = this.recs.get(h.id);
    if ((flags & F_STOP) !== 0 && (!r || r.stopped) && !this.closed) return RESOLVED; // stop is idempotent
    const bad = this.refuse(r, h, method, flags);
    if (bad) return Promise.reject(bad);
    if (args.length > 0 && needsCloneCheck(args)) {
      try {
        assertCloneable(args, 'args');
      } catch (e) {
        return Promise.reject(e); // a call rejects (nothing sent), as it does from a worker
      }
    }
    return this.wait(r!, method, args, flags, o);
  }

  error(h: AgentDescriptor): Error | undefined {
    return this.recs.get(h.id)?.error;
  }

  restart(h: AgentDescriptor, newState: unknown, hasState: boolean, o: RestartOptions | undefined): Promise<void> {
    const r = this.recs.get(h.id);
    if (!r || r.stopped)
      return Promise.reject(new AgentStoppedError(`agent ${h.name}#${h.id} is stopped: it cannot restart`));
    const clear = o?.clearActions === true;
    if (r.slot < 0) {
      // failed by supervision (its worker kept dying): re-create it
      r.error = undefined;
      r.crashes = NO_CRASHES;
      if (hasState) {
        r.snapshot = newState;
        r.hasSnap = true;
      }
      this.own++;
      this.refresh();
      r.since = nowMs();
      return new Promise<void>((resolve, reject) => {
        r.created = (e) => {
          r.created = undefined;
          this.own--;
          this.refresh();
          if (e) reject(e);
          else resolve();
        };
        this.place(r, r.o.worker);
        this.watchCreations();
      });
    }
    return new Promise<void>((resolve) => {
      const reply = this.nextReply++;
      const w = new Wait(r, 'restart()', r.slot, -1, 0, resolve as (v: unknown) => void);
      this.waits.set(reply, w);
      this.own++;
      r.waiting++;
      this.refresh();
      this.push(this.lanes[r.slot]!, [RESTART, r.id, 1, newState, hasState, clear, reply]);
    }).then(() => {
      r.error = undefined;
    });
  }

  /** Why a message from main cannot go now, or undefined. */
  private refuse(r: Rec | undefined, h: AgentDescriptor, method: string, flags: number): Error | undefined {
    if (this.closed)
      return new ClosedError(`runtime is closed: ${method || 'message'} to agent ${h.name}#${h.id} not sent`);
    if (!r || r.stopped) {
      if (flags & F_STOP) return undefined;
      return new AgentStoppedError(`agent ${h.name}#${h.id} is stopped: ${method || 'sync()'} was not delivered`);
    }
    if (r.error && (flags & F_STOP) === 0) {
      return new AgentFailedError(
        `agent ${r.label} is failed: ${method || 'sync()'} rejected until agent.restart() (cause: ${r.error.message})`,
        { cause: r.error },
      );
    }
    if (r.slot < 0 && (flags & F_STOP) === 0) {
      return new WorkerExitedError(
        `agent ${r.label} is being re-created after its worker died: ${method || 'sync()'} not sent`,
      );
    }
    return undefined;
  }

  private wait(r: Rec, method: string, args: unknown[], flags: number, o: CallOptions | undefined): Promise<unknown> {
    if (r.stopped || r.slot < 0) return Promise.resolve(undefined); // stop of a stopped agent
    const what =
      flags & F_SYNC ? 'sync()' : flags & F_STOP ? 'stop()' : flags & F_ACK ? `send('${method}')` : `call('${method}')`;
    const signal = o?.signal;
    if (signal?.aborted)
      return Promise.reject(new CancelledError(`${what} on agent ${r.label} was cancelled`, { cause: signal.reason }));
    // no executor closure per wait (a sync per agent: Fork-join create)
    const p = new Promise<unknown>(capture);
    const reply = this.nextReply++;
    const w = new Wait(r, what, r.slot, -1, 0, captured.res);
    this.waits.set(reply, w);
    this.own++;
    if (what !== 'stop()') r.waiting++;
    const ms = o?.timeout ?? (flags & F_ACK ? 0 : r.o.callTimeout);
    if (ms > 0) {
      w.reply = reply;
      w.ms = ms;
      this.deadlines.add(w, ms);
    }
    if (signal) {
      const onAbort = (): void => {
        if (!this.waits.delete(reply)) return;
        this.settle(
          w,
          false,
          new CancelledError(`${what} on agent ${r.label} was cancelled`, { cause: signal.reason }),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      w.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.refresh();
    const lane = this.lanes[r.slot]!;
    const c =
      flags === F_SYNC ? RUN_SYNC : flags === F_STOP ? RUN_STOP : flags === (F_STOP | F_NOW) ? RUN_STOP_NOW : -1;
    if (c >= 0 && reply <= MAX_RUN_REPLY)
      this.appendRun(lane, r.id, -SYNC_BASE - reply * 4 - c); // protocol.ts HostBatch: a control entry
    else this.push(lane, [MSG, r.id, 1, method, args, reply, flags]);
    return p;
  }

  private readonly deadlines = new Deadlines<Wait>((w) => {
    if (!this.waits.delete(w.reply)) return;
    this.settle(
      w,
      false,
      new TimeoutError(
        `${w.what} on agent ${w.rec.label} timed out after ${w.ms} ms (a busy agent, or a call cycle such as A -> B -> A)`,
      ),
    );
  });

  private settle(w: Wait, ok: boolean, v: unknown): void {
    if (w.dlList !== null) this.deadlines.remove(w);
    w.cleanup?.();
    if (w.what !== 'stop()') w.rec.waiting--;
    if (w.origin < 0) {
      this.own--;
      w.resolve(ok ? v : rejected(v));
    } else {
      const lane = this.lanes[w.origin];
      if (lane) this.push(lane, [ANSWER, w.originReply, ok, ok ? v : toWireLoose(v)]);
    }
    this.refresh();
  }

  // --- port ------------------------------------------------------------------------------------

  /**
   * Give `method` the next index of the lane's method table (the worker appends the name it reads
   * to its own table in the same order), or -1 when the table is full (the send goes compact).
   */
  private defineMethod(lane: Lane, method: string): number {
    if (lane.methods.size >= MAX_METHODS) return -1;
    if (lane.runLen > 0) closeRun(lane);
    const mi = lane.methods.size;
    lane.methods.set(method, mi);
    lane.names.push(method);
    lane.out.push(method);
    return mi;
  }

  private push(lane: Lane, f: ToHost): void {
    if (lane.runLen > 0) closeRun(lane);
    // a long burst goes out in slices, so the worker starts on the first while main clones the next
    this.added(lane, lane.out.push(f) >= SLICE);
  }

  /** Two ints into the lane's open run (protocol.ts HostBatch); a full run is posted at once. */
  private appendRun(lane: Lane, a: number, b: number): void {
    const run = lane.run;
    let n = lane.runLen;
    run[n++] = a;
    run[n++] = b;
    lane.runLen = n;
    this.added(lane, n === RUN_INTS);
  }

  /** Something went into `lane`: post it now when `full`, else once this microtask drain ends. */
  private added(lane: Lane, full: boolean): void {
    if (full) this.flushLane(lane);
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    for (const lane of this.lanes) if (lane && (lane.out.length > 0 || lane.runLen > 0)) this.flushLane(lane);
  };

  private flushLane(lane: Lane): void {
    if (lane.runLen > 0) closeRun(lane);
    const b = lane.out;
    lane.out = [];
    if (lane.transfer.length > 0) {
      const t = lane.transfer;
      lane.transfer = [];
      lane.port.postMessage(b, t);
    } else lane.port.postMessage(b);
    lane.wake();
  }

  private receive(slot: number, lane: Lane, batch: WorkerBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const f = batch[i]!;
      if (typeof f === 'number') {
        if (f < 0) {
          // compact REPLY (ok, undefined), protocol.ts WorkerBatch
          const w = this.waits.get(-f);
          if (!w) continue;
          this.waits.delete(-f);
          if (w.what === 'stop()') this.forget(w.rec);
          this.settle(w, true, undefined);
          continue;
        }
        // compact CREATED (ok), protocol.ts WorkerBatch
        const r = this.recs.get(f);
        if (r) this.decided(r, undefined);
        continue;
      }
      switch (f[0]) {
        case REPLY: {
          const w = this.waits.get(f[1]);
          if (!w) break;
          this.waits.delete(f[1]);
          if (w.what === 'stop()' && f[2]) this.forget(w.rec);
          this.settle(
            w,
            f[2],
            f[2] ? (w.origin < 0 ? reviveValue(f[3]) : f[3]) : w.origin < 0 ? fromWire(f[3] as WireError) : f[3],
          );
          break;
        }
        case FWD:
          this.forward(f[7] ?? slot, f[1], f[3], f[4], f[5], f[6]);
          break;
        case CREATED: {
          const r = this.recs.get(f[1]);
          if (!r) break;
          if (!f[2]) {
            lane.agents--;
            r.stopped = true;
            r.slot = -1;
            this.decided(r, fromWire(f[3] as WireError) as Error);
          } else this.decided(r, undefined);
          break;
        }
        case FAILED: {
          const r = this.recs.get(f[1]);
          if (!r) break;
          const e = fromWire(f[2]) as Error;
          if (f[4]) r.error = e;
          if (r.o.onError) {
            try {
              r.o.onError(e, f[3]);
            } catch (e2) {
              process.emitWarning(`shoal agent ${r.label}: options.onError threw: ${(e2 as Error)?.message ?? e2}`);
            }
          }
          break;
        }
        case SNAP: {
          const r = this.recs.get(f[1]);
          if (r) {
            r.snapshot = f[2];
            r.hasSnap = true;
          }
          break;
        }
        case GONE: {
          const r = this.recs.get(f[1]);
          if (r && r.slot === slot) this.forget(r);
          break;
        }
        case LOAD:
          lane.mailbox = f[2];
          lane.turns = f[3];
          break;
        case AGENTS: {
          const q = lane.queries.get(f[1]);
          if (q) q(f[2]);
          break;
        }
        default:
          throw new Error(`agent hub: unknown frame kind ${String((f as unknown[])[0])} from worker ${slot}`);
      }
    }
  }

  private forget(r: Rec): void {
    if (r.stopped) return;
    r.stopped = true;
    const lane = r.slot >= 0 ? this.lanes[r.slot] : undefined;
    if (lane) lane.agents--;
    this.recs.delete(r.id);
    // turns still open on the worker (stop({ drain: false }) does not wait for them): nobody waits
    if (r.waiting > 0)
      for (const [reply, w] of this.waits.entries()) {
        if (w.rec !== r || w.what === 'stop()') continue;
        this.waits.delete(reply);
        this.settle(w, false, new AgentStoppedError(`agent ${r.label} was stopped while ${w.what} ran`));
      }
  }

  /** A worker-side handle's message for an agent on another worker (or on the same, moved). */
  private forward(origin: number, id: number, method: string, args: unknown[], reply: number, flags: number): void {
    const r = this.recs.get(id);
    const answer = (e: Error): void => {
      const lane = this.lanes[origin];
      if (reply !== 0 && lane) this.push(lane, [ANSWER, reply, false, toWireLoose(e)]);
    };
    if (!r || r.stopped) {
      if (flags & F_STOP) {
        const lane = this.lanes[origin];
        if (reply !== 0 && lane) this.push(lane, [ANSWER, reply, true, undefined]);
      } else answer(new AgentStoppedError(`agent #${id} is stopped: ${method || 'the message'} was not delivered`));
      return;
    }
    if (r.slot < 0) {
      answer(r.error ?? new WorkerExitedError(`agent ${r.label} is being re-created after its worker died`));
      return;
    }
    let mainReply = 0;
    if (reply !== 0) {
      mainReply = this.nextReply++;
      const what = flags & F_SYNC ? 'sync()' : flags & F_STOP ? 'stop()' : `call('${method}')`;
      this.waits.set(mainReply, new Wait(r, what, r.slot, origin, reply, NOOP));
      if (what !== 'stop()') r.waiting++;
    }
    this.push(this.lanes[r.slot]!, [MSG, id, 1, method, args, mainReply, flags]);
  }

  /** Ref the agent ports while main waits for answers (so the process stays up for them). */
  private refresh(): void {
    const mine = this.own > 0;
    if (mine === this.reffed) return;
    this.reffed = mine;
    lanesRef(this.lanes, mine);
  }

  // --- observation -----------------------------------------------------------------------------

  /** Per-slot agent counters. */
  stats(slots: number): WorkerAgentStats[] {
    const out: WorkerAgentStats[] = [];
    for (let s = 0; s < slots; s++) {
      const l = this.lanes[s];
      out.push(
        Object.freeze({
          agents: l?.agents ?? 0,
          mailbox: l?.mailbox ?? 0,
          turns: l ? l.turnsBefore + l.turns : (this.deadTurns[s] ?? 0),
        }),
      );
    }
    return out;
  }

  /** Number of live agents. */
  get size(): number {
    return this.recs.size;
  }

  /** Every agent with its current method (a worker that does not answer in `waitMs`: 'unresponsive'). */
  async live(waitMs = 250): Promise<LiveAgent[]> {
    const seen = new Map<number, [number, LiveAgentRow]>();
    const asks: Promise<void>[] = [];
    for (let s = 0; s < this.lanes.length; s++) {
      const lane = this.lanes[s];
      if (!lane) continue;
      const qid = this.nextQuery++;
      asks.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          lane.queries.set(qid, (rows) => {
            clearTimeout(timer);
            lane.queries.delete(qid);
            for (const row of rows) seen.set(row.id, [s, row]);
            resolve();
          });
          this.push(lane, [QUERY, qid]);
        }),
      );
    }
    if (asks.length > 0) {
      lanesRef(this.lanes, true);
      await Promise.all(asks);
      lanesRef(this.lanes, this.reffed);
    }
    const now = nowMs();
    const out: LiveAgent[] = [];
    for (const r of this.recs.values()) {
      const hit = seen.get(r.id);
      const row = hit?.[1];
      out.push({
        kind: 'agent',
        id: r.id,
        name: r.label,
        worker: r.slot,
        state: row ? row.state : r.error ? 'failed' : r.slot < 0 ? 'loading' : 'unresponsive',
        method: row?.method ?? null,
        mailbox: row?.mailbox ?? 0,
        turns: row?.turns ?? 0,
        ageMs: now - r.born,
        abandoned: false,
      });
    }
    return out;
  }

  /**
   * rt.close began: refuse new agents and stop supervising (workers are about to stop), but keep
   * carrying messages so tasks still finishing can use their agents.
   */
  beginClose(): void {
    this.closing = true;
  }

  /** Reject everything main waits for, forget every agent, close the ports. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [reply, w] of this.waits.entries()) {
      this.waits.delete(reply);
      this.settle(w, false, new ClosedError(`runtime closed: ${w.what} on agent ${w.rec.label} did not finish`));
    }
    for (const r of this.recs.values())
      this.decided(r, new ClosedError(`runtime closed: agent ${r.label} was not created`));
    this.recs.clear();
    this.homeless = [];
    if (this.creationSweep) clearInterval(this.creationSweep);
    this.deadlines.clear();
    this.flush();
    for (const l of this.lanes) l?.port.close();
    hubs.delete(this.hubId);
  }
}

function lanesRef(lanes: Array<Lane | undefined>, on: boolean): void {
  for (const l of lanes) {
    if (!l) continue;
    if (on) l.port.ref();
    else l.port.unref();
  }
}

const NOOP = (): void => {};
/** AgentHub.handle's descriptor (main thread only; copied by the AgentHandle constructor) */
const scratch: AgentDescriptor = {
  shoalAgent: 1,
  id: 0,
  gen: 1,
  name: '',
  policy: null,
  hub: 0,
  timeout: 0,
  slot: -1,
};
const RESOLVED: Promise<void> = Promise.resolve();
/**
 * The resolving functions of the promise `new Promise(capture)` just made: one module-level
 * executor instead of a closure (and its context) per promise. Read them right after the `new`.
 */
const captured = { res: NOOP as (v: unknown) => void };
function capture(res: (v: unknown) => void): void {
  captured.res = res;
}

/**
 * A rejected promise to resolve a pending one with (which then rejects with `e`): main keeps only
 * the resolve function of its pending promises (the reject function is one more object per
 * creation and per wait). Marked handled: the pending promise's own rejection is what its holder
 * sees (or what is reported unhandled).
 */
function rejected(e: unknown): Promise<never> {
  const p = Promise.reject(e);
  p.catch(NOOP);
  return p;
}
const R_MOVED = 1;
const R_STOPPED = 2;
const R_HAS_SNAP = 4;
/** the crash log of an agent that never crashed (shared: one array less per agent) */
const NO_CRASHES = Object.freeze([]) as unknown as number[];
/** ms on a monotonic clock, an integer (a Smi for 12 days; a boxed double after: still right) */
function nowMs(): number {
  return Math.floor(performance.now());
}
/** SHOAL_AGENT_DIRECT=0: worker-side handles send through main instead of straight to the owner */
const DIRECT = settingOrDefault('agentDirect'); // SHOAL_AGENT_DIRECT, validated at start (src/config.ts)
/** frames per post in a long burst (see push) */
const SLICE = 2048;
/** ints in a lane's open run of plain sends (2 a send): a full run is posted at once */
const RUN_INTS = 8192;
/** a run this short goes as compact sends (a typed array per post costs more than a few primitives) */
const RUN_MIN_INTS = 16;
/** method names a lane's table holds; past it, sends go compact (the name in every message) */
const MAX_METHODS = 4096;
/** a sync or stop from main in a run (protocol.ts HostBatch); a larger reply id goes as MSG */
const MAX_RUN_REPLY = ((0x7fffffff - SYNC_BASE) >> 2) - 1;

/** Move the lane's open run into its batch (in order: before whatever is pushed next). */
function closeRun(lane: Lane): void {
  const n = lane.runLen;
  const run = lane.run;
  lane.runLen = 0;
  let creates = false;
  if (n < RUN_MIN_INTS) for (let i = 1; i < n; i += 2) if (run[i]! < 0) creates = true;
  if (n >= RUN_MIN_INTS || creates) {
    const copy = run.slice(0, n); // a fresh buffer of its own: moved, not copied, by the post
    lane.out.push(copy);
    lane.transfer.push(copy.buffer);
    return;
  }
  // short, sends only: compact sends (id, method name), as protocol.ts allows
  const names = lane.names;
  for (let i = 0; i < n; i += 2) lane.out.push(run[i]!, names[run[i + 1]!]!);
}

function allPrimitive(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'function')) return false;
  }
  return true;
}

function reviveValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  return reviveArgs([v])[0];
}

/** A WireError from a value that is already one (forwarded) or an Error made here. */
function toWireLoose(v: unknown): unknown {
  if (v instanceof Error) return wire(v);
  return v;
}

function wire(e: Error): WireError {
  return toWire(e);
}

setThreadReviver((d) => {
  const hub = hubs.get(d.hub);
  return hub ? new AgentHandle(d, hub) : undefined;
});
addArgReviver((v) => {
  if (!isAgentDescriptor(v)) return v;
  const hub = hubs.get(v.hub);
  return hub ? new AgentHandle(v, hub) : v;
});
