/**
 * What the agent host keeps per agent and per message: `Live` (one agent on this worker, with its
 * mailbox), `Msg` and `Entry` (a mailbox entry: a bare method name for a plain send without
 * arguments, else a Msg), and the small helpers and error builders the host uses on them.
 *
 * Runs on a pool worker (the agent host, host.ts). Owns nothing shared.
 */
import { AgentFailedError, AgentStoppedError, MailboxFullError } from '../../core/errors.js';
import { codeError } from '../../core/op.js';
import { reviveArgs } from '../../shared-chan/index.js';
import { Mailbox } from '../mailbox.js';
import { F_STOP, F_SYNC, type WireAgentOptions } from '../protocol.js';

export type Ctor = new (...args: unknown[]) => Record<string, unknown>;
export type Namespace = Record<string, unknown>;

/** Who waits for a message's outcome on this thread. */
export interface Waiter {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/**
 * One message in a mailbox: a plain send without arguments that nobody waits for is just its
 * method name (no object per message: a burst of a million sends to an agent on the same worker
 * would otherwise be a million objects surviving young GCs); anything else is a Msg.
 */
export type Entry = Msg | string;

/** A message with arguments, flags or someone waiting for its outcome. */
export class Msg {
  constructor(
    readonly method: string,
    readonly args: unknown[],
    /** main's reply id (0: none) */
    readonly reply: number,
    readonly flags: number,
    /** a waiter on this thread (local call / sync / ack), or null */
    readonly local: Waiter | null,
    /** the peer (worker slot) the reply goes to, or -1: main */
    readonly origin = -1,
  ) {}
}

/** One agent living on this worker. */
export class Live {
  inst: Record<string, unknown> | undefined;
  ctor: Ctor | undefined;
  readonly box: Mailbox<Entry>;
  /** turns open now (more than one only for interleaved or reentrant turns) */
  open = 0;
  /** an open turn that is not interleavable */
  exclusive = false;
  failed: unknown = undefined;
  stopped = false;
  queued = false;
  current: string | null = null;
  turns = 0;
  readonly born = performance.now();
  /** a turn ran since the last snapshot was sent */
  dirty = false;
  /** the class has snapshot() */
  snapshots = false;
  constructor(
    readonly id: number,
    readonly gen: number,
    readonly name: string,
    readonly opts: WireAgentOptions,
    readonly interleave: Set<string> | null,
  ) {
    this.box = new Mailbox<Entry>(opts.size, opts.policy, isControl);
  }
}

/** The mailbox entry for a message (Entry): the bare method name when nothing else is needed. */
export function entry(
  method: string,
  args: unknown[],
  reply: number,
  flags: number,
  w: Waiter | null,
  origin: number,
): Entry {
  if (args.length === 0 && reply === 0 && flags === 0 && w === null) return method;
  return new Msg(method, args, reply, flags, w, origin);
}

export function methodOf(m: Entry): string {
  return typeof m === 'string' ? m : m.method;
}

/** The arguments of `m` (a fresh empty array for a bare entry: an onError hook may keep it). */
export function argsOf(m: Entry): unknown[] {
  return typeof m === 'string' || m.args.length === 0 ? [] : m.args; // never the shared NO_ARGS
}

export function hasObjects(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && typeof a === 'object') return true;
  }
  return false;
}

/** Revive handles inside a value received from another thread (a call's result). */
export function reviveValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  return reviveArgs([v])[0];
}

export function stoppedError(id: number, method: string, name = 'agent'): AgentStoppedError {
  return new AgentStoppedError(`${name}#${id} is stopped: ${method || 'the message'} was not delivered`);
}

export function failedError(a: Live, method: string): AgentFailedError {
  return new AgentFailedError(
    `agent ${a.name}#${a.id} is failed (a send threw): ${method || 'sync()'} rejected until agent.restart()`,
    { cause: a.failed },
  );
}

/** sync and stop: never refused, counted or pushed out by a bounded mailbox (mailbox.ts rule 3) */
export function isControl(m: Entry): boolean {
  return typeof m !== 'string' && (m.flags & (F_SYNC | F_STOP)) !== 0;
}

export function fullError(a: Live, method: string): MailboxFullError {
  return new MailboxFullError(
    `agent ${a.name}#${a.id}: mailbox full (${a.box.size}, policy '${a.box.policy}'), ${method} was not queued`,
  );
}

export function noMethod(a: Live, method: string): TypeError {
  return codeError(TypeError, 'ERR_SHOAL_NO_METHOD', `agent ${a.name}#${a.id} has no method '${method}'`);
}
