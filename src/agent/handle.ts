/**
 * Agent handles: the shape users hold (`Agent<C>`, typed from the class), the wire form a handle
 * takes when it crosses to another thread, and the base class both sides' handles extend.
 *
 * Runs on any thread. Owns nothing: a handle is an address (agent id, generation, class name,
 * mailbox policy) plus the thread's router (main: AgentHub, main.ts; worker: AgentHost, worker/host.ts).
 *
 * How a handle crosses: its own enumerable properties are exactly its wire form (the router sits
 * in a private field), so structured clone and the value codec both carry it as a plain object
 * `{ shoalAgent: 1, id, gen, name, policy, hub }`; the receiving thread revives it (task arguments
 * and agent message arguments automatically, through shared-chan's addArgReviver; a value read
 * from a channel with `asAgent(value)`).
 */
import { codeError } from '../core/op.js';
import { setObjectReviver } from '../codec/index.js';
import type { MailboxPolicy } from './protocol.js';

/**
 * Any class an agent can be made of: `rt.agent<typeof Counter>(url, 'Counter', [0])` checks the
 * constructor arguments and the method names, arguments and results against it.
 *
 * @example
 * const counter = await rt.agent<typeof Counter>(url, 'Counter', [0]);
 */
// biome-ignore lint/suspicious/noExplicitAny: constructor parameter lists of any class
export type AgentClass = abstract new (...args: any) => any;

/** Names of the methods of instance type `I`. */
export type MethodName<I> = {
  // biome-ignore lint/suspicious/noExplicitAny: any method signature
  [K in keyof I]: I[K] extends (...a: any) => any ? K : never;
}[keyof I] &
  string;

// biome-ignore lint/suspicious/noExplicitAny: any method signature
type Fn = (...a: any) => any;
type ArgsOf<I, K extends keyof I> = I[K] extends Fn ? Parameters<I[K]> : never;
type ResultOf<I, K extends keyof I> = I[K] extends Fn ? Awaited<ReturnType<I[K]>> : never;

/** Options of one call (`agent.callWith`). */
export interface CallOptions {
  /** reject with TimeoutError after this many ms (default: the agent's callTimeout, 30000) */
  timeout?: number;
  /** reject with CancelledError when aborted (the turn, once started, still runs) */
  signal?: AbortSignal;
}

/** Options of `agent.stop()`. */
export interface StopOptions {
  /**
   * true (default): the stop is a message like the others, so what this sender sent before it
   * runs first. false: stop now; queued calls reject with AgentStoppedError, queued sends drop.
   */
  drain?: boolean;
}

/** Options of `agent.restart()`. */
export interface RestartOptions {
  /** drop the messages held while the agent was failed (their calls reject); default false */
  clearActions?: boolean;
}

/**
 * A handle on an agent: an object of class `C` living on one worker, with an ordered mailbox.
 * Method names, arguments and results are typed from the class.
 *
 * @example
 * const counter = await rt.agent<typeof Counter>(url, 'Counter', [0]);
 * counter.send('inc', 5);
 * console.log(await counter.call('get')); // 5
 */
export interface Agent<C extends AgentClass = AgentClass> {
  /** agent id (unique in its runtime while it lives) */
  readonly id: number;
  /** the class name */
  readonly name: string;
  /**
   * Queue `method(...args)`: ordered after everything this sender sent before (FIFO per sender).
   * The promise resolves at once, or, for a bounded mailbox with policy 'wait' / 'error', when the
   * message is in the mailbox (it rejects with MailboxFullError under 'error'). It rejects with
   * AgentFailedError / AgentStoppedError when the agent is known to be failed / stopped.
   */
  send<K extends MethodName<InstanceType<C>>>(method: K, ...args: ArgsOf<InstanceType<C>, K>): Promise<void>;
  /** Queue `method(...args)` (same order as `send`) and resolve with its result. Default timeout 30 s. */
  call<K extends MethodName<InstanceType<C>>>(
    method: K,
    ...args: ArgsOf<InstanceType<C>, K>
  ): Promise<ResultOf<InstanceType<C>, K>>;
  /** `call` with a timeout or signal of its own. */
  callWith<K extends MethodName<InstanceType<C>>>(
    options: CallOptions,
    method: K,
    ...args: ArgsOf<InstanceType<C>, K>
  ): Promise<ResultOf<InstanceType<C>, K>>;
  /** Resolve once everything this sender sent before has run (Clojure's `await`). */
  sync(options?: CallOptions): Promise<void>;
  /** Stop the agent (after what this sender sent before, unless `{ drain: false }`). */
  stop(options?: StopOptions): Promise<void>;
  /** The error that failed the agent (errorMode 'fail'), or undefined. Main thread only. */
  readonly error: Error | undefined;
  /**
   * Clear a failed agent's error and let it run its held mailbox again (or drop it with
   * `clearActions`). `newState`: passed to the class's `restore(state)` if it has one, else
   * assigned onto the object. Main thread only.
   */
  restart(newState?: unknown, options?: RestartOptions): Promise<void>;
}

/** The wire form of a handle (what crosses threads). */
export interface AgentDescriptor {
  shoalAgent: 1;
  id: number;
  gen: number;
  name: string;
  /** null: unbounded, or a policy that never makes a send wait */
  policy: MailboxPolicy | null;
  /** the main-side hub (runtime) the agent belongs to */
  hub: number;
  /** default call timeout, ms (0: none) */
  timeout: number;
  /** the worker slot the agent lived on when this handle was made (a routing hint) */
  slot: number;
}

export function isAgentDescriptor(v: unknown): v is AgentDescriptor {
  return (
    v !== null &&
    typeof v === 'object' &&
    (v as AgentDescriptor).shoalAgent === 1 &&
    typeof (v as AgentDescriptor).id === 'number' &&
    typeof (v as AgentDescriptor).gen === 'number'
  );
}

/** Where a handle sends: main's hub or a worker's host. */
export interface AgentRouter {
  send(h: AgentDescriptor, method: string, args: unknown[], flags: number): Promise<void>;
  call(
    h: AgentDescriptor,
    method: string,
    args: unknown[],
    flags: number,
    o: CallOptions | undefined,
  ): Promise<unknown>;
  error(h: AgentDescriptor): Error | undefined;
  restart(h: AgentDescriptor, newState: unknown, hasState: boolean, o: RestartOptions | undefined): Promise<void>;
}

/** The handle class both threads use; only the router differs. */
export class AgentHandle implements AgentDescriptor {
  readonly shoalAgent = 1 as const;
  readonly id: number;
  readonly gen: number;
  readonly name: string;
  readonly policy: MailboxPolicy | null;
  readonly hub: number;
  readonly timeout: number;
  readonly slot: number;
  readonly #router: AgentRouter;

  constructor(d: AgentDescriptor, router: AgentRouter) {
    this.id = d.id;
    this.gen = d.gen;
    this.name = d.name;
    this.policy = d.policy;
    this.hub = d.hub;
    this.timeout = d.timeout;
    this.slot = d.slot;
    this.#router = router;
  }

  send(method: string, ...args: unknown[]): Promise<void>;
  send(method: string): Promise<void> {
    if (typeof method !== 'string') throw methodType(method);
    // `arguments`, not a rest parameter: a send without arguments (Fork-join's) allocates no array
    // biome-ignore lint/complexity/noArguments: see above
    const n = arguments.length;
    if (n === 1) return this.#router.send(this, method, NO_ARGS, 0);
    const args = new Array<unknown>(n - 1);
    // biome-ignore lint/complexity/noArguments: see above
    for (let i = 1; i < n; i++) args[i - 1] = arguments[i];
    return this.#router.send(this, method, args, 0);
  }

  call(method: string, ...args: unknown[]): Promise<unknown> {
    if (typeof method !== 'string') throw methodType(method);
    return this.#router.call(this, method, args, 1, undefined);
  }

  callWith(options: CallOptions, method: string, ...args: unknown[]): Promise<unknown> {
    if (typeof method !== 'string') throw methodType(method);
    if (options === null || typeof options !== 'object') {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `options must be an object, got ${typeof options}`);
    }
    return this.#router.call(this, method, args, 1, options);
  }

  sync(options?: CallOptions): Promise<void> {
    return this.#router.call(this, '', NO_ARGS, 4, options) as Promise<void>;
  }

  stop(options?: StopOptions): Promise<void> {
    return this.#router.call(this, '', NO_ARGS, options?.drain === false ? 8 | 16 : 8, undefined) as Promise<void>;
  }

  get error(): Error | undefined {
    return this.#router.error(this);
  }

  restart(newState?: unknown, options?: RestartOptions): Promise<void> {
    return this.#router.restart(this, newState, newState !== undefined, options);
  }

  /** Plain wire form (what crosses threads). */
  toJSON(): AgentDescriptor {
    return {
      shoalAgent: 1,
      id: this.id,
      gen: this.gen,
      name: this.name,
      policy: this.policy,
      hub: this.hub,
      timeout: this.timeout,
      slot: this.slot,
    };
  }
}

const NO_ARGS: unknown[] = [];

/**
 * False when every argument is a primitive or an agent handle (whose wire form is plain data), so
 * the call-site clone check can be skipped: the walker asks structuredClone about any class
 * instance, a handle included, which cost more than the send itself (Savina Big, Chameneos).
 */
export function needsCloneCheck(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'function') && !(a instanceof AgentHandle)) return true;
  }
  return false;
}

function methodType(m: unknown): TypeError {
  return codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `method must be a method name (a string), got ${typeof m}`);
}

/**
 * The revivers of the current thread: main's (hubs by id) and, on a pool worker, its host's. Both
 * modules load on a worker that imports the whole package, so each is asked in turn.
 */
const threadRevivers: Array<(d: AgentDescriptor) => AgentHandle | undefined> = [];

export function setThreadReviver(f: (d: AgentDescriptor) => AgentHandle | undefined): void {
  threadRevivers.unshift(f); // the latest (a worker's host) first
}

/**
 * Turn a handle that arrived as a plain object (read from a channel, say) back into a handle on
 * this thread. Task arguments and agent arguments are revived for you.
 *
 * @example
 * const h = asAgent<typeof Counter>(await ch.take()); h.send('inc');
 */
export function asAgent<C extends AgentClass = AgentClass>(v: unknown): Agent<C> {
  if (v instanceof AgentHandle) return v as unknown as Agent<C>;
  if (!isAgentDescriptor(v)) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'not an agent handle (expected what rt.agent returned)');
  }
  let h: AgentHandle | undefined;
  for (const f of threadRevivers) if ((h = f(v)) !== undefined) break;
  if (!h) throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', `agent ${v.name}#${v.id} belongs to no runtime here`);
  return h as unknown as Agent<C>;
}

// values decoded by the codec (channel values, task arguments and results on the shared transport)
setObjectReviver((o) => {
  if (!isAgentDescriptor(o)) return o;
  for (const f of threadRevivers) {
    const h = f(o);
    if (h !== undefined) return h;
  }
  return o;
});
