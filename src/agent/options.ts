/**
 * The options of `rt.agent` and their validation (once, on main, at the call site).
 *
 * Runs on the main thread. Owns nothing.
 */
import { checkKnownOptions } from '../core/args.js';
import { codeError } from '../core/op.js';
import type { MailboxPolicy, WireAgentOptions } from './protocol.js';

/** Options of `rt.agent(url, ClassName, args, options)`. */
export interface AgentOptions {
  /**
   * What a `send` whose method throws does to the agent: 'fail' (default) holds its mailbox, sets
   * `agent.error`, and rejects later sends and calls with AgentFailedError until `restart()`;
   * 'continue' calls the class's `onError(error, method, args)` (on the worker) and this
   * `onError` (on main), and goes on. A failing `call` only rejects that call, in both modes.
   */
  errorMode?: 'fail' | 'continue';
  /** main-side hook for a send that threw (both error modes) */
  onError?: (error: Error, method: string) => void;
  /** Unbounded by default; `{ size, policy }` bounds it (policy default 'wait'). */
  mailbox?: { size: number; policy?: MailboxPolicy };
  /** let every message start while earlier turns await (default false: one turn at a time) */
  reentrant?: boolean;
  /** methods (read-only ones, say) that may start while another turn awaits */
  interleave?: readonly string[];
  /** default timeout of `call`, `sync` and `stop`, ms (default 30000; 0 = none) */
  callTimeout?: number;
  /** supervision when its worker dies: at most `intensity` re-creations per `period` ms (default 1 per 5000) */
  restart?: { intensity?: number; period?: number };
  /** place on this worker slot (default: the least-loaded worker) */
  worker?: number;
  /** place by key: the same key always picks the same worker slot (while it is alive) */
  key?: string | number;
}

/** Validated options. */
export interface CheckedOptions {
  wire: Omit<WireAgentOptions, 'hub' | 'timeout'>;
  onError: ((error: Error, method: string) => void) | undefined;
  callTimeout: number;
  restart: { intensity: number; period: number };
  worker: number | undefined;
}

const POLICIES = ['wait', 'drop', 'slide', 'error'];

/** Validate `o` (throws TypeError / RangeError naming the option); `slots`: workers in the pool. */
export function validateAgentOptions(o: AgentOptions | undefined, slots: number): CheckedOptions {
  if (o === undefined) return DEFAULTS;
  if (o === null || typeof o !== 'object') bad(TypeError, 'options', 'an object', o);
  if (onlyPlacement(o)) {
    // the common shapes ({}, { worker }, { key }): shared options, no object and no wire key per agent
    const worker = placement(o, slots);
    if (worker === undefined) return DEFAULTS;
    let hit = placed[worker];
    if (hit === undefined) placed[worker] = hit = Object.freeze({ ...DEFAULTS, worker });
    return hit;
  }
  checkKnownOptions(o, KNOWN, 'rt.agent');
  const errorMode = o.errorMode ?? 'fail';
  if (errorMode !== 'fail' && errorMode !== 'continue')
    bad(TypeError, 'options.errorMode', "'fail' or 'continue'", errorMode);
  if (o.onError !== undefined && typeof o.onError !== 'function')
    bad(TypeError, 'options.onError', 'a function', o.onError);
  let size = Infinity;
  let policy: MailboxPolicy = 'wait';
  if (o.mailbox !== undefined) {
    if (o.mailbox === null || typeof o.mailbox !== 'object')
      bad(TypeError, 'options.mailbox', '{ size, policy }', o.mailbox);
    size = o.mailbox.size;
    if (!Number.isInteger(size) || size < 1) bad(RangeError, 'options.mailbox.size', 'a positive integer', size);
    policy = o.mailbox.policy ?? 'wait';
    if (!POLICIES.includes(policy))
      bad(TypeError, 'options.mailbox.policy', "'wait', 'drop', 'slide' or 'error'", policy);
  }
  const interleave = o.interleave ?? [];
  if (!Array.isArray(interleave) || interleave.some((m) => typeof m !== 'string')) {
    bad(TypeError, 'options.interleave', 'an array of method names', interleave);
  }
  const callTimeout = o.callTimeout ?? 30_000;
  if (typeof callTimeout !== 'number' || !(callTimeout >= 0) || callTimeout === Infinity) {
    bad(RangeError, 'options.callTimeout', 'a non-negative number of ms', callTimeout);
  }
  const intensity = o.restart?.intensity ?? 1;
  const period = o.restart?.period ?? 5000;
  if (!Number.isInteger(intensity) || intensity < 0)
    bad(RangeError, 'options.restart.intensity', 'an integer >= 0', intensity);
  if (typeof period !== 'number' || !(period > 0))
    bad(RangeError, 'options.restart.period', 'a positive number of ms', period);
  const worker = placement(o, slots);
  if (o.reentrant !== undefined && typeof o.reentrant !== 'boolean')
    bad(TypeError, 'options.reentrant', 'a boolean', o.reentrant);
  return {
    wire: { errorMode, size, policy, reentrant: o.reentrant === true, interleave: [...interleave] },
    onError: o.onError,
    callTimeout,
    restart: { intensity, period },
    worker,
  };
}

const DEFAULTS: CheckedOptions = Object.freeze({
  wire: Object.freeze({ errorMode: 'fail', size: Infinity, policy: 'wait', reentrant: false, interleave: [] }),
  onError: undefined,
  callTimeout: 30_000,
  restart: Object.freeze({ intensity: 1, period: 5000 }),
  worker: undefined,
}) as CheckedOptions;

/** The worker slot `o` asks for (worker, else key), or undefined: the least-loaded. */
function placement(o: AgentOptions, slots: number): number | undefined {
  if (o.worker !== undefined) {
    if (!Number.isInteger(o.worker) || o.worker < 0 || (slots > 0 && o.worker >= slots)) {
      bad(RangeError, 'options.worker', `a worker slot in [0, ${slots - 1}]`, o.worker);
    }
    return o.worker;
  }
  if (o.key !== undefined) {
    if (typeof o.key !== 'string' && typeof o.key !== 'number')
      bad(TypeError, 'options.key', 'a string or number', o.key);
    return hash(String(o.key)) % Math.max(1, slots);
  }
  return undefined;
}

/** Every option rt.agent reads. */
const KNOWN: readonly string[] = [
  'errorMode',
  'onError',
  'mailbox',
  'reentrant',
  'interleave',
  'callTimeout',
  'restart',
  'worker',
  'key',
];

/** No option but `worker` / `key` is set (an option set to undefined counts as unset). */
function onlyPlacement(o: AgentOptions): boolean {
  for (const k in o) {
    if (k !== 'worker' && k !== 'key' && (o as Record<string, unknown>)[k] !== undefined) return false;
  }
  return true;
}

/** DEFAULTS placed on one slot, by slot (read-only, shared by every agent made so) */
const placed: CheckedOptions[] = [];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function bad(Ctor: new (m: string) => Error, name: string, expected: string, got: unknown): never {
  const shown =
    typeof got === 'string' ? `'${got}'` : got === null ? 'null' : typeof got === 'object' ? typeof got : String(got);
  throw codeError(
    Ctor,
    Ctor === RangeError ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE',
    `${name} must be ${expected}, got ${shown}`,
  );
}
