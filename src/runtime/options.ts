/**
 * Call-site checks of the Runtime facade's options: every option is checked before anything is
 * sent to a thread, so a bad value fails the call that gave it (synchronously, with a code and a
 * message naming the option and the value) and never a task that already runs.
 *
 * Runs on the main thread. Owns nothing but the module policy (allowModules) of each runtime.
 */
import type { TransferListItem } from 'node:worker_threads';
import { MessagePort } from 'node:worker_threads';
import { checkKnownOptions } from '../core/args.js';
import { ModuleNotAllowedError } from '../core/errors.js';
import { codeError, validateOptions, validateSignal, validateTimeout } from '../core/op.js';

/** Which module URLs tasks, agents and handlers may name: prefixes, patterns, or a predicate. */
export type ModuleAllowList = readonly (string | RegExp)[] | ((url: string) => boolean);

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return typeof v;
}

/** A positive integer option, or undefined when absent. */
export function positiveIntOption(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a positive integer, got ${show(v)}`);
  }
  if (!Number.isSafeInteger(v) || v < 1) {
    throw codeError(RangeError, 'ERR_OUT_OF_RANGE', `${name} must be a positive integer, got ${show(v)}`);
  }
  return v;
}

function booleanOption(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a boolean, got ${show(v)}`);
  }
}

const START_KEYS = [
  'workers',
  'transport',
  'maxRunningPerWorker',
  'resourceLimits',
  'blockingThreads',
  'ambient',
  'tracing',
  'allowModules',
  'maxModulesPerWorker',
] as const;
/** The options each submitting call reads. */
export const RUN_KEYS = ['signal', 'timeout', 'transfer'] as const;
export const LOAD_KEYS = ['signal', 'timeout'] as const;
export const BLOCKING_KEYS = ['signal', 'transfer'] as const;
const MAP_KEYS = ['concurrency', 'ordered', 'signal', 'timeout', 'onProgress'] as const;
const LISTEN_KEYS = [
  'handler',
  'port',
  'host',
  'backlog',
  'maxConnections',
  'ringBytes',
  'idleTimeout',
  'onError',
  'refuseWith',
] as const;

/** rt.listen: refuse a misspelt option (the values are checked by net's listen()). */
export function checkListenKeys(o: unknown): void {
  if (o !== null && typeof o === 'object') checkKnownOptions(o as Record<string, unknown>, LISTEN_KEYS, 'rt.listen');
}

/** Check Runtime.start's options (the environment is checked by readConfig in src/config.ts). */
export function checkStartOptions(o: unknown): void {
  validateOptions(o);
  if (o === undefined) return;
  const opts = o as Record<string, unknown>;
  checkKnownOptions(opts, START_KEYS, 'Runtime.start');
  positiveIntOption(opts.workers, 'options.workers');
  positiveIntOption(opts.maxRunningPerWorker, 'options.maxRunningPerWorker');
  positiveIntOption(opts.blockingThreads, 'options.blockingThreads');
  positiveIntOption(opts.maxModulesPerWorker, 'options.maxModulesPerWorker');
  const t = opts.transport;
  if (t !== undefined && t !== 'shared' && t !== 'message') {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `options.transport must be 'shared' or 'message', got ${show(t)}`,
    );
  }
  booleanOption(opts.ambient, 'options.ambient');
  booleanOption(opts.tracing, 'options.tracing');
  const rl = opts.resourceLimits;
  if (rl !== undefined && (typeof rl !== 'object' || rl === null)) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `options.resourceLimits must be an object, got ${show(rl)}`);
  }
  const allow = opts.allowModules;
  if (allow !== undefined && typeof allow !== 'function') {
    if (!Array.isArray(allow) || !allow.every((x) => typeof x === 'string' || x instanceof RegExp)) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        'options.allowModules must be an array of URL prefixes (strings) and RegExps, or a function',
      );
    }
  }
}

/** The checked options of one task submission (rt.run, rt.load, rt.map). */
export interface CheckedRun {
  signal?: AbortSignal;
  timeout?: number;
  transfer?: readonly TransferListItem[];
}

/**
 * Check `{ signal, timeout, transfer }` options; returns them (undefined when absent). Timeouts
 * follow the core API's rule (validateTimeout: an integer number of ms below 2^31, the largest a
 * timer holds), with the same error and code.
 */
export function checkRunOptions(
  o: unknown,
  call = 'rt.run',
  known: readonly string[] = RUN_KEYS,
): CheckedRun | undefined {
  if (o === undefined) return undefined;
  validateOptions(o);
  const opts = o as Record<string, unknown>;
  checkKnownOptions(opts, known, call);
  if (opts.signal !== undefined) validateSignal(opts.signal);
  if (opts.timeout !== undefined) validateTimeout(opts.timeout, 'options.timeout');
  if (opts.transfer !== undefined) checkTransfer(opts.transfer, 'options.transfer');
  return o as CheckedRun;
}

/**
 * A transfer list both transports can honour: an array of distinct, non-detached ArrayBuffers
 * (not SharedArrayBuffers: those are shared, never moved) and MessagePorts. A bad list used to
 * wedge a worker on the message transport; it is refused here, before anything is sent.
 */
export function checkTransfer(t: unknown, name: string): void {
  if (!Array.isArray(t)) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be an array, got ${show(t)}`);
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < t.length; i++) {
    const x: unknown = t[i];
    if (x instanceof ArrayBuffer) {
      try {
        new Uint8Array(x); // throws on a detached buffer
      } catch {
        throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${name}[${i}] is a detached ArrayBuffer`);
      }
    } else if (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        `${name}[${i}] is a SharedArrayBuffer: it is shared with the worker as it is, leave it out of transfer`,
      );
    } else if (!(x instanceof MessagePort)) {
      throw codeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `${name}[${i}] must be an ArrayBuffer or a MessagePort, got ${show(x)}`,
      );
    }
    if (seen.has(x)) {
      throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${name}[${i}] appears twice in the transfer list`);
    }
    seen.add(x);
  }
}

/** Check rt.map's options at the call site (the generator would only throw on its first next()). */
export function checkMapOptions(o: unknown): void {
  if (o === undefined) return;
  checkRunOptions(o, 'rt.map', MAP_KEYS);
  const opts = o as Record<string, unknown>;
  positiveIntOption(opts.concurrency, 'options.concurrency');
  booleanOption(opts.ordered, 'options.ordered');
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      `options.onProgress must be a function, got ${show(opts.onProgress)}`,
    );
  }
}

/**
 * The module policy: `data:` URLs are refused unless allowed (a module made of a string is code
 * from wherever the string came from); with `allowModules`, only what it matches runs.
 */
export class ModulePolicy {
  constructor(private readonly allow: ModuleAllowList | undefined) {}

  /** Return `href` when it may be imported on the workers, else throw ModuleNotAllowedError. */
  check(href: string): string {
    const allow = this.allow;
    if (allow === undefined) {
      if (/^data:/i.test(href)) {
        throw new ModuleNotAllowedError(
          `module ${href.slice(0, 60)} is a data: URL; allow it with Runtime.start({ allowModules: ['data:', ...] })`,
        );
      }
      return href;
    }
    const ok =
      typeof allow === 'function'
        ? allow(href) === true
        : allow.some((p) => (typeof p === 'string' ? href.startsWith(p) : p.test(href)));
    if (!ok) throw new ModuleNotAllowedError(`module ${href.slice(0, 200)} is not in the runtime's allowModules list`);
    return href;
  }
}
