/**
 * Errors across threads: turn a thrown value into a cloneable WireError on the worker and back
 * into a real Error on the main thread, keeping name, message, stack, code, cause (recursively)
 * and any other cloneable own properties.
 *
 * Runs on both sides. Owns nothing.
 *
 * Why not rely on structured clone: Node 20 clones an Error's message and stack, but drops
 * `code`, custom properties and the class name of user-defined errors, and every shoal error
 * would come back as a plain Error (so `instanceof CancelledError` or `e.code` checks on the
 * main thread would silently fail).
 */
import {
  AgentFailedError,
  AgentStoppedError,
  MailboxFullError,
  CancelledError,
  ClosedError,
  CodecError,
  RingCorruptError,
  ShoalError,
  TaskLoadError,
  TimeoutError,
  TooManyPendingError,
  WorkerExitedError,
} from '../core/errors.js';
import { MAX_DEPTH, nestedDeeperThan } from './message/cloneable.js';

/** A thrown value in a form both transports can carry. */
export interface WireError {
  /** false when the thrown value was not an Error (e.g. `throw 42`): `value` holds it */
  isError: boolean;
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  cause?: WireError;
  hasCause: boolean;
  /** other own enumerable properties that survived a clone check */
  props?: Record<string, unknown>;
  value?: unknown;
}

const MAX_CAUSE_DEPTH = 8;

/**
 * Encode `e` for the wire (worker side). Never throws, whatever was thrown: a throwing getter on
 * `code`, `message`, `name`, `stack`, `cause` or any other property, a Proxy of an Error, an object
 * whose `toString` throws, `Object.create(null)`... Each field is read on its own; a field that
 * throws is left out (or replaced by a description), never the whole error.
 */
export function toWire(e: unknown, depth = 0): WireError {
  try {
    return encode(e, depth);
  } catch {
    // the last line of defence: even the guarded reads above failed (a Proxy that throws on every trap)
    return { isError: true, name: 'Error', message: 'a task threw a value that cannot be read', hasCause: false };
  }
}

function encode(e: unknown, depth: number): WireError {
  if (!isErrorSafe(e)) {
    const text = describe(e);
    return { isError: false, name: 'Error', message: text, hasCause: false, value: cloneOr(e, text) };
  }
  const err = e as Error;
  const name = read(err, 'name');
  const message = read(err, 'message');
  const stack = read(err, 'stack');
  const w: WireError = {
    isError: true,
    name: typeof name.value === 'string' ? name.value : 'Error',
    message: typeof message.value === 'string' ? message.value : message.ok ? describe(message.value) : '',
    hasCause: false,
  };
  if (typeof stack.value === 'string') w.stack = stack.value;
  const code = read(err, 'code');
  if (code.ok && code.value !== undefined) w.code = cloneOr(code.value, describe(code.value));
  let hasCause = false;
  try {
    hasCause = 'cause' in err;
  } catch {}
  if (hasCause && depth < MAX_CAUSE_DEPTH) {
    const cause = read(err, 'cause');
    if (cause.ok) {
      w.hasCause = true;
      w.cause = toWire(cause.value, depth + 1);
    }
  }
  let keys: string[] = [];
  try {
    keys = Object.keys(err);
  } catch {}
  let props: Record<string, unknown> | undefined;
  for (const k of keys) {
    if (k === 'code' || k === 'cause' || k === 'name' || k === 'message' || k === 'stack') continue;
    try {
      const v = (err as unknown as Record<string, unknown>)[k];
      const c = structuredClone(v);
      if (c !== null && typeof c === 'object' && nestedDeeperThan(c, MAX_DEPTH)) continue; // main could not rebuild it
      props ??= {};
      props[k] = c;
    } catch {
      // an unreadable or uncloneable property (a getter that throws, a socket) is dropped
    }
  }
  if (props) w.props = props;
  return w;
}

/** `e instanceof Error`, false when even asking throws (a Proxy whose getPrototypeOf trap throws). */
function isErrorSafe(e: unknown): boolean {
  try {
    return e instanceof Error;
  } catch {
    return false;
  }
}

function read(o: object, key: string): { ok: boolean; value: unknown } {
  try {
    return { ok: true, value: (o as Record<string, unknown>)[key] };
  } catch {
    return { ok: false, value: undefined };
  }
}

/** String(v), or a description when String() throws (a throwing toString, a null prototype). */
function describe(v: unknown): string {
  try {
    return String(v);
  } catch {
    try {
      return Object.prototype.toString.call(v);
    } catch {
      return '[unprintable value]';
    }
  }
}

const shoalClasses: Record<string, new (message: string) => ShoalError> = {
  // RingCorruptError takes (reason, message): the message is put back below, `reason` is a prop
  [RingCorruptError.code]: RingCorruptError as unknown as new (message: string) => ShoalError,
  [CodecError.code]: CodecError,
  [CancelledError.code]: CancelledError,
  [TimeoutError.code]: TimeoutError,
  [ClosedError.code]: ClosedError,
  [WorkerExitedError.code]: WorkerExitedError,
  [TooManyPendingError.code]: TooManyPendingError,
  [TaskLoadError.code]: TaskLoadError,
  [AgentFailedError.code]: AgentFailedError,
  [AgentStoppedError.code]: AgentStoppedError,
  [MailboxFullError.code]: MailboxFullError,
};

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuild a thrown value from the wire (main side). Shoal errors come back as their own class. */
export function fromWire(w: WireError): unknown {
  if (!w.isError) return w.value;
  let e: Error;
  const Shoal = typeof w.code === 'string' ? shoalClasses[w.code] : undefined;
  if (Shoal && w.name === Shoal.name) {
    e = new Shoal(w.message);
    // constructors that compose their message (RingCorruptError) get the original one back
    Object.defineProperty(e, 'message', { value: w.message, configurable: true, writable: true });
  } else e = new (builtins[w.name] ?? Error)(w.message);
  if (e.name !== w.name) Object.defineProperty(e, 'name', { value: w.name, configurable: true, writable: true });
  if (w.stack !== undefined) e.stack = w.stack;
  if (w.code !== undefined && !(e instanceof ShoalError)) (e as { code?: unknown }).code = w.code;
  if (w.hasCause) {
    Object.defineProperty(e, 'cause', {
      value: w.cause ? fromWire(w.cause) : undefined,
      configurable: true,
      writable: true,
    });
  }
  if (w.props) Object.assign(e, w.props);
  return e;
}

function cloneOr(v: unknown, fallback: unknown): unknown {
  if (typeof v === 'bigint') return v;
  if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')) return v;
  try {
    const c = structuredClone(v);
    // a thrown value nested deeper than the codec carries would be refused on the way to main
    return c !== null && typeof c === 'object' && nestedDeeperThan(c, MAX_DEPTH) ? fallback : c;
  } catch {
    return fallback;
  }
}
