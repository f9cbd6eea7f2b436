/**
 * WorkerLink — the reactor's side of one pool worker: its link buffer (doorbell and the two dirty
 * sets, src/net/conn-slot.ts), its control port, its table of connection slots and the free
 * slots kept for reuse, and the control messages queued for it this turn.
 *
 * Runs on the main thread only. Owns: the slot table and free lists of one worker; the
 * connections themselves are MainConns (connection.ts), the loop that services them is the
 * Reactor's (reactor.ts).
 */
import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { Doorbell } from '../../shm/doorbell.js';
import {
  createConnSlot,
  resetConnSlot,
  towardMain,
  towardWorker,
  MAX_SLOTS_PER_WORKER,
  type ConnSlotDescriptor,
  type DirtySet,
  type NetLinkDescriptor,
} from '../conn-slot.js';
import type { MainConn, SlotOwner } from './connection.js';
import type { ToWorker } from '../protocol.js';

/**
 * Bytes of free slots a worker link keeps for the next connections (at least 64 slots). A fresh
 * slot costs a SharedArrayBuffer (its allocation, and page faults as its rings are first used)
 * and the GC its external memory brings; a server whose clients reconnect (a load generator's
 * next round, clients without keep-alive) reuses them instead. 32 MiB is ~500 slots of the
 * default 32 KiB rings.
 */
const FREE_SLOT_BYTES = 32 << 20;

/** What a link needs from its reactor. */
export interface LinkReactor {
  /** ring `link` (and post its control batch) at the end of this turn */
  schedule(link: WorkerLink): void;
  /** a connection's slot was recycled or dropped */
  gone(c: MainConn): void;
  /** answers owed by workers changed (SlotOwner.owe) */
  owe(delta: 1 | -1): void;
}

/** Main-side state of one worker: its link buffer, port and slots. Main thread only. */
export class WorkerLink implements SlotOwner {
  readonly slot: number;
  readonly desc: NetLinkDescriptor;
  readonly toWorker: DirtySet;
  readonly toMain: DirtySet;
  readonly bell: Doorbell;
  readonly port: MessagePort;
  readonly conns: Array<MainConn | undefined> = [];
  readonly connecting = new Set<Socket>();
  private readonly freeIdx: number[] = [];
  private readonly freeSlots = new Map<number, ConnSlotDescriptor[]>();
  private readonly reactor: LinkReactor;
  active = 0;
  alive = true;
  outbox: ToWorker[] = [];
  queued = false;
  /** makes the worker read its ports (the pool's bell: it may be parked in Atomics.wait) */
  readonly wake: (() => void) | undefined;
  /** bound once: the visitor of TOWARD_MAIN */
  readonly visit: (i: number) => void;

  constructor(reactor: LinkReactor, slot: number, desc: NetLinkDescriptor, port: MessagePort, wake?: () => void) {
    this.reactor = reactor;
    this.wake = wake;
    this.slot = slot;
    this.desc = desc;
    this.toWorker = towardWorker(desc);
    this.toMain = towardMain(desc);
    this.bell = new Doorbell(desc.workerBell);
    this.port = port;
    this.visit = (i) => {
      const c = this.conns[i];
      if (c === undefined) return; // a stale mark of a recycled slot
      try {
        c.service();
      } catch (e) {
        process.emitWarning(`shoal reactor: connection ${this.slot}/${i} failed: ${(e as Error)?.stack ?? e}`);
        c.forceClose();
      }
    };
  }

  markWorker(i: number): void {
    this.toWorker.mark(i);
    this.reactor.schedule(this);
  }

  owe(delta: 1 | -1): void {
    this.reactor.owe(delta);
  }

  post(m: ToWorker): void {
    this.outbox.push(m);
    this.reactor.schedule(this);
  }

  /** Take a free slot index and a slot of `ringBytes` (recycled when one is free). */
  take(ringBytes: number): { i: number; slot: ConnSlotDescriptor } | undefined {
    let i = this.freeIdx.pop();
    if (i === undefined) {
      if (this.conns.length >= MAX_SLOTS_PER_WORKER) return undefined;
      i = this.conns.length;
      this.conns.push(undefined);
    }
    const slot = this.freeSlots.get(ringBytes)?.pop() ?? createConnSlot(ringBytes);
    return { i, slot };
  }

  release(c: MainConn): void {
    if (this.conns[c.index] !== c) return;
    this.conns[c.index] = undefined;
    this.active--;
    this.reactor.gone(c);
    if (!this.alive) return;
    resetConnSlot(c.slot); // net/conn-slot.ts invariant 4: socket closed and W_CLOSE seen
    let list = this.freeSlots.get(c.slot.ringBytes);
    if (!list) this.freeSlots.set(c.slot.ringBytes, (list = []));
    if (list.length < Math.max(64, FREE_SLOT_BYTES / c.slot.sab.byteLength)) list.push(c.slot);
    this.freeIdx.push(c.index);
  }
}
