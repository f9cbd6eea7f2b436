/**
 * The agent protocol: the frames main and each worker's agent host exchange on the agent port
 * (one MessageChannel per worker, separate from the task transport, so both task transports
 * carry agents the same way), and the options an agent is created with.
 *
 * Runs on both sides. Owns the frame vocabulary only; values travel by structured clone.
 *
 * Every message on an agent port is an array of frames (a batch): each side collects the frames
 * of one turn of its event loop and posts them together (a post costs a wake-up of the other
 * thread, ~35 µs here; a frame costs well under a microsecond).
 *
 * Direction main -> worker (a batch is a HostBatch: frames, and between them compact plain sends,
 * a plain send being a `send` that nobody waits for, to an agent of generation 1):
 *   id, method                                            (id > 0) a plain send without arguments
 *   -id, method, args                                     (a number < 0) a plain send with arguments
 *   method                                                (a string) the next entry of this port's
 *                                                         method table (index 0, 1, 2 ... in order)
 *   Int32Array [id, m, id, m, ...]                        a run of plain sends without arguments,
 *                                                         m an index into the method table (a run
 *                                                         clones as one memcpy: Fork-join throughput);
 *                                                         -SYNC_BASE < m < 0: create agent `id`
 *                                                         (generation 1, no arguments) of entry -1 - m
 *                                                         of the kind table; m <= -SYNC_BASE: a control
 *                                                         message from main to agent `id` (generation
 *                                                         1), as MSG [2, id, 1, '', [], reply, flags]:
 *                                                         -SYNC_BASE - m = reply * 4 + c, c RUN_SYNC
 *                                                         (F_SYNC), RUN_STOP (F_STOP) or RUN_STOP_NOW
 *                                                         (F_STOP | F_NOW)
 *   CREATE  [1, id, gen, url, className, args, opts, snapshot, hasSnapshot]
 *   MSG     [2, id, gen, method, args, reply, flags]      reply 0: nobody waits (a plain send)
 *   RESTART [3, id, gen, newState, hasState, clearActions, reply]
 *   QUERY   [4, queryId]                                  answer with AGENTS
 *   ANSWER  [5, reply, ok, value]                         answer to a worker's forwarded call
 *   DOWN    [6, slot]                                     the worker in `slot` died: reject what was
 *                                                         sent to it directly and not answered
 *   MOVED   [7, id, slot]                                 agent `id` was re-created in `slot`
 *   KIND    [8, url, className, opts]                     the next entry of this port's kind table
 *   (and, not batched: PeerAttach { kind: 'shoal:agent-peer', slot, out, in, bell }: shared-memory
 *   rings straight to that worker, peer.ts)
 *
 * Direction worker -> worker (peer rings, one each way per pair of workers, made by main at attach;
 * each frame encoded with the value codec, peer.ts):
 *   PMSG    [40, id, gen, method, args, reply, flags]      like MSG; the reply goes back on this port
 *   PREPLY  [41, reply, ok, value]
 *
 * Direction worker -> main (a WorkerBatch: frames, and bare ids):
 *   id                                                    (a number > 0) CREATED ok for agent `id`
 *   -reply                                                (a number < 0) REPLY ok with the value
 *                                                         undefined (sync, stop, acks, void calls)
 *   CREATED [20, id, ok, error]
 *   REPLY   [21, reply, ok, value]                        a call, sync, stop or acknowledged send
 *   FAILED  [22, id, error, method, holds]                a send threw; holds: the agent is failed
 *   SNAP    [23, id, snapshot]                            latest snapshot() of a snapshotting agent
 *   GONE    [24, id]                                      the agent stopped (or failed to construct)
 *   LOAD    [25, agents, mailbox, turns]                  this worker's agent counters
 *   FWD     [26, id, gen, method, args, reply, flags, origin]  a message for an agent that is not on
 *                                                         this worker and has no direct path: main
 *                                                         forwards it and answers `origin`
 *   AGENTS  [27, queryId, LiveAgentRow[]]
 *
 * Message flags (MSG, FWD): F_CALL (reply with the result), F_ACK (reply once the message is in
 * the mailbox: bounded mailboxes with policy 'wait' or 'error'), F_SYNC (reply once every earlier
 * message of this sender has run), F_STOP (stop after the earlier messages; F_NOW: at once).
 */
import type { WireError } from '../pool/wire-error.js';
import type { ByteRingDescriptor } from '../shm/byte-ring.js';
import type { DoorbellDescriptor } from '../shm/doorbell.js';

export const CREATE = 1;
export const MSG = 2;
export const RESTART = 3;
export const QUERY = 4;
export const ANSWER = 5;
export const DOWN = 6;
export const MOVED = 7;
export const KIND = 8;
export const PMSG = 40;
export const PREPLY = 41;

export const CREATED = 20;
export const REPLY = 21;
export const FAILED = 22;
export const SNAP = 23;
export const GONE = 24;
export const LOAD = 25;
export const FWD = 26;
export const AGENTS = 27;

/** In a run (HostBatch), m <= -SYNC_BASE is a control message (kinds stay below it). */
export const SYNC_BASE = 1 << 13;
/** the control message of a run entry: (-SYNC_BASE - m) & 3 */
export const RUN_SYNC = 0;
export const RUN_STOP = 1;
export const RUN_STOP_NOW = 2;

export const F_CALL = 1;
export const F_ACK = 2;
export const F_SYNC = 4;
export const F_STOP = 8;
export const F_NOW = 16;

/** Data bytes of each peer ring (one each way per pair of workers, peer.ts); a frame is at most half. */
export const PEER_RING_BYTES = 1 << 20;

/** What happens to a message that finds a bounded mailbox full. */
export type MailboxPolicy = 'wait' | 'drop' | 'slide' | 'error';

/** The options a worker needs (validated on main, sent in CREATE). */
export interface WireAgentOptions {
  errorMode: 'fail' | 'continue';
  /** Infinity: unbounded */
  size: number;
  policy: MailboxPolicy;
  reentrant: boolean;
  interleave: string[];
  /** the hub (runtime) id and the default call timeout, for handles made on the worker */
  hub: number;
  timeout: number;
}

/** One agent as its worker reports it for rt.tasks(). */
export interface LiveAgentRow {
  id: number;
  name: string;
  state: 'idle' | 'running' | 'failed' | 'loading';
  /** method of the turn running now (the first, when several interleave) */
  method: string | null;
  mailbox: number;
  turns: number;
  ageMs: number;
}

export type ToHost =
  | [typeof CREATE, number, number, string, string, unknown[], WireAgentOptions, unknown, boolean]
  | [typeof MSG, number, number, string, unknown[], number, number]
  | [typeof RESTART, number, number, unknown, boolean, boolean, number]
  | [typeof QUERY, number]
  | [typeof ANSWER, number, boolean, unknown]
  | [typeof DOWN, number]
  | [typeof MOVED, number, number]
  | [typeof KIND, string, string, WireAgentOptions];

/**
 * A batch main posts to a worker: ToHost frames (arrays) and compact plain sends (a number, then
 * the method, then the args when the number is negative), in order. A flat run of primitives
 * clones several times faster than an array per message.
 */
export type HostBatch = Array<ToHost | number | string | unknown[] | Int32Array>;

export type PeerFrame =
  | [typeof PMSG, number, number, string, unknown[], number, number]
  | [typeof PREPLY, number, boolean, unknown];

/**
 * A shared-memory link straight to the worker in `slot` (posted on the agent port, outside the
 * batches; peer.ts): the ring this worker writes, the ring it reads, and that worker's agent bell.
 */
export interface PeerAttach {
  kind: 'shoal:agent-peer';
  slot: number;
  out: ByteRingDescriptor;
  in: ByteRingDescriptor;
  bell: DoorbellDescriptor;
}

export type FromHost =
  | [typeof CREATED, number, boolean, WireError | undefined]
  | [typeof REPLY, number, boolean, unknown]
  | [typeof FAILED, number, WireError, string, boolean]
  | [typeof SNAP, number, unknown]
  | [typeof GONE, number]
  | [typeof LOAD, number, number, number]
  | [typeof FWD, number, number, string, unknown[], number, number, number]
  | [typeof AGENTS, number, LiveAgentRow[]];

/**
 * A batch a worker posts to main: FromHost frames, bare agent ids (> 0), each one a CREATED that
 * succeeded (the common answer of a burst of creations: a number clones far cheaper than a frame),
 * and negated reply ids (< 0), each a REPLY ok with the value undefined (a burst of syncs' answers).
 */
export type WorkerBatch = Array<FromHost | number>;

/** The message that hands a worker its agent port (posted on the worker's parentPort). */
export interface AgentAttach {
  kind: 'shoal:agent-attach';
  port: import('node:worker_threads').MessagePort;
  slot: number;
  /** this worker's agent bell: peers ring it after publishing to its incoming rings (peer.ts) */
  bell: DoorbellDescriptor;
}

export function isAgentAttach(m: unknown): m is AgentAttach {
  return m !== null && typeof m === 'object' && (m as { kind?: unknown }).kind === 'shoal:agent-attach';
}

export function isPeerAttach(m: unknown): m is PeerAttach {
  return m !== null && typeof m === 'object' && (m as { kind?: unknown }).kind === 'shoal:agent-peer';
}
