/**
 * The reactor's control plane: the few messages the reactor (main thread) and a worker's net host
 * exchange on their own MessagePort. Bytes never travel here — they go through the connection
 * slots' rings (src/net/conn-slot.ts); these messages only open and refuse connections and report
 * handler failures, so each costs a wake-up only once per connection, not per chunk.
 *
 * Runs on both sides (imported by src/net/reactor/* and src/net/worker/*). Owns the message vocabulary.
 *
 * Every post is an array of messages (a batch): the reactor collects the OPENs of one event-loop
 * turn per worker and posts them together.
 *
 * Main -> worker:
 *   ATTACH   sent once on the worker's parentPort (not the link port): the link buffer and the port
 *   OPEN     a connection is ready in slot `i`: accepted (with the handler to run) or connected
 *            (answering CONNECT `req`)
 *   REFUSED  CONNECT `req` failed
 * Worker -> main:
 *   CONNECT  open an outbound connection for me
 *   FAILED   a handler of server `server` threw (counted in stats)
 */
import type { MessagePort } from 'node:worker_threads';
import type { ConnSlotDescriptor, NetLinkDescriptor } from './conn-slot.js';

/** The one message on a worker's parentPort that belongs to the reactor. */
export interface AttachMessage {
  readonly kind: 'shoal:net-attach';
  readonly link: NetLinkDescriptor;
  readonly port: MessagePort;
}

/** Where a connection's two ends are. */
export interface Endpoints {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
}

export interface OpenMessage extends Endpoints {
  readonly t: 'open';
  /** slot index in this worker's dirty sets */
  readonly i: number;
  readonly slot: ConnSlotDescriptor;
  /** accepted: the handler module URL and the server id */
  readonly handler?: string;
  readonly server?: number;
  /** connected: the CONNECT request this answers */
  readonly req?: number;
}

export interface RefusedMessage {
  readonly t: 'refused';
  readonly req: number;
  /** 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND'... */
  readonly errno: string;
  readonly message: string;
}

export type ToWorker = OpenMessage | RefusedMessage;

export interface ConnectMessage {
  readonly t: 'connect';
  readonly req: number;
  readonly host: string;
  readonly port: number;
  /** ms; 0 = no limit */
  readonly timeout: number;
  readonly ringBytes: number;
}

export interface FailedMessage {
  readonly t: 'failed';
  readonly server: number;
  /** `${name}: ${message}` of what the handler threw */
  readonly message: string;
  readonly name?: string;
  readonly stack?: string;
  readonly code?: string;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

export type ToMain = ConnectMessage | FailedMessage;

/** Default bytes of each ring of a connection slot (inbound and outbound). */
export const DEFAULT_RING_BYTES = 1 << 15;

/** True for the reactor's ATTACH message (the pool's own messages are arrays). */
export function isAttachMessage(m: unknown): m is AttachMessage {
  return m !== null && typeof m === 'object' && (m as { kind?: unknown }).kind === 'shoal:net-attach';
}
