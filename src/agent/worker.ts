/**
 * The worker side of agents, as the rest of the package sees it: installs the agent host
 * (worker/host.ts) when main attaches this worker, says whether agents keep the worker busy, and
 * gives a turn its own handle (`currentAgent`). The host's data model is in worker/live.ts.
 *
 * Runs on a pool worker (installed by workers/pool-worker.ts). Owns the thread's one AgentHost.
 */
import type { MessagePort } from 'node:worker_threads';
import { addArgReviver } from '../shared-chan/index.js';
import { AgentHandle, isAgentDescriptor, setThreadReviver } from './handle.js';
import { isAgentAttach } from './protocol.js';
import { AgentHost } from './worker/host.js';

let host: AgentHost | undefined;

/**
 * Listen on the worker's parentPort for main's agent-attach message. Call once from a worker
 * entry file (workers/pool-worker.ts).
 */
export function installAgentHost(parentPort: Pick<MessagePort, 'on'>): void {
  parentPort.on('message', (m: unknown) => {
    if (!isAgentAttach(m)) return;
    host?.detach();
    host = new AgentHost(m.port, m.slot, m.bell);
  });
}

/**
 * True while agents live on this worker or calls of its own are pending: a pool worker must then
 * not block its thread in Atomics.wait (the agent port's messages need the event loop). Asked
 * right before the worker parks. Main rings the worker's bell after posting it agent messages,
 * but a ring that came while the worker was still running leaves it about to park with them
 * unread (a port message alone does not end an Atomics.wait): so, when nothing else is live,
 * the messages waiting on the agent port are handled here, now (in order: they are the oldest),
 * and the answer reflects them (a CREATE makes the worker busy; a peer link alone does not).
 */
export function agentsBusy(): boolean {
  if (host === undefined) return false;
  if (host.agents.size > 0 || host.pendingCount > 0) return true;
  host.readPort();
  return host.agents.size > 0 || host.pendingCount > 0;
}

/**
 * The handle of the agent whose turn (or constructor) is running now, on its own worker; undefined
 * elsewhere. Take it in the constructor to keep it: `this.self = currentAgent()`.
 *
 * @example
 * export class Ping { constructor() { this.me = currentAgent() } hit(pong) { pong.send('hit', this.me) } }
 */
export function currentAgent<T = AgentHandle>(): T | undefined {
  return (host?.currentHandle() ?? undefined) as T | undefined;
}

addArgReviver((v) => (isAgentDescriptor(v) && host !== undefined ? new AgentHandle(v, host) : v));
setThreadReviver((d) => (host !== undefined ? new AgentHandle(d, host) : undefined));
