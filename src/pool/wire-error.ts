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
  ShoalError,
  TaskLoadError,
  TimeoutError,
  TooManyPendingError,
  WorkerExitedError,
} from '../core/errors.js';

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

/** Encode `e` for the wire (worker side). Never throws. */
export function toWire(e: unknown, depth = 0): WireError {
  if (!(e instanceof Error)) {
    return { isError: false, name: 'Error', message: String(e), hasCause: false, value: cloneOr(e, String(e)) };
  }
  const w: WireError = { isError: true, name: e.name, message: e.message, stack: e.stack, hasCause: false };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) w.code = cloneOr(code, String(code));
  if ('cause' in e && depth < MAX_CAUSE_DEPTH) {
    w.hasCause = true;
    w.cause = toWire(e.cause, depth + 1);
  }
  let props: Record<string, unknown> | undefined;
  for (const k of Object.keys(e)) {
    if (k === 'code' || k === 'cause' || k === 'name' || k === 'message' || k === 'stack') continue;
    const v = (e as unknown as Record<string, unknown>)[k];
    try {
      props ??= {};
      props[k] = structuredClone(v);
    } catch {
      // an uncloneable property (a socket, a function) is dropped rather than losing the error
    }
  }
  if (props) w.props = props;
  return w;
}

const shoalClasses: Record<string, new (message: string) => ShoalError> = {
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
  if (Shoal && w.name === Shoal.name) e = new Shoal(w.message);
  else e = new (builtins[w.name] ?? Error)(w.message);
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
  if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')) return v;
  try {
    return structuredClone(v);
  } catch {
    return fallback;
  }
}
