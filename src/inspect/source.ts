/**
 * What the inspection tools (REPL, `shoal top`, metrics) read from a runtime: the `InspectSource`
 * the Runtime hands to its Inspector, and the plain shapes of what it yields.
 *
 * Runs on the main thread. Owns nothing: these are the runtime's own snapshots, described
 * structurally so this layer (below src/runtime) need not import the runtime.
 *
 * To show a new kind of thing (agents, HTTP servers...), add an optional reader here and a view in
 * views.ts; the REPL command, `.json` and `shoal top` pick it up from the view.
 */
import type { LiveTask } from '../pool/pool.js';
import type { ReactorStats } from '../net/reactor/reactor.js';
import type { ChanStats } from '../core/chan.js';

/** One worker's numbers, as `rt.stats().workers[i]` gives them. */
export interface WorkerStatsLike {
  readonly slot: number;
  readonly threadId: number;
  readonly running: number;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  readonly restarts: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly ringUse: number;
  readonly parks: number;
  readonly parkedWhileLive: number;
  readonly siblingWakes: number;
}

/** `rt.stats()`, structurally. */
export interface StatsLike {
  readonly transport: 'message' | 'shared';
  readonly inFlight: number;
  readonly queued: number;
  readonly workers: readonly WorkerStatsLike[];
  readonly blockingThreads: number;
  readonly net?: ReactorStats;
}

/** One connection of a server (the reactor's MainConn, structurally). */
export interface ConnLike {
  readonly index: number;
  readonly socket: { readonly remoteAddress?: string; readonly remotePort?: number; readonly destroyed?: boolean };
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * A server the reactor accepts for: TcpServer today; an HTTP server adds `requests` to its stats
 * (and `kind: 'http'`) and is shown with a request rate.
 */
export interface ServerLike {
  readonly id: number;
  readonly handler: string;
  readonly conns: ReadonlySet<ConnLike>;
  readonly kind?: string;
  address?(): { address: string; port: number } | string | null;
  stats?(): {
    readonly open?: number;
    readonly accepted?: number;
    readonly refused?: number;
    readonly handlerErrors?: number;
    readonly requests?: number;
  };
}

/** A channel made with `rt.channel()` (channel-registry.ts keeps them weakly). */
export interface ChannelEntry {
  readonly id: number;
  /** 'shared' (SharedArrayBuffer) or 'message' (MessagePort) */
  readonly transport: string;
  stats(): ChanStats;
}

/**
 * One agent as `.agents` and `shoal top` show it. The agents feature fills these in through
 * `InspectSource.agents`; until it does, the views say "no agents".
 */
export interface AgentInfo {
  readonly id: number | string;
  readonly name: string;
  /** pool slot of the worker it lives on */
  readonly worker: number;
  /** messages waiting in its mailbox */
  readonly mailbox: number;
  /** mailbox capacity, when bounded */
  readonly capacity?: number;
  readonly state?: string;
  /** the error holding it (errorMode 'fail'), if any */
  readonly error?: string;
}

/** Everything the inspection tools read. The Runtime builds one (runtime.ts `inspector`). */
export interface InspectSource {
  /** put in the REPL's scope as `rt` */
  readonly rt: object;
  stats(): StatsLike;
  tasks(): Promise<readonly LiveTask[]>;
  servers(): Iterable<ServerLike>;
  channels(): Iterable<ChannelEntry>;
  /** live agents; absent until the agents feature wires it (views then say "no agents") */
  agents?(): readonly AgentInfo[] | Promise<readonly AgentInfo[]>;
}
