/**
 * Argument checks and errors with codes — the one place that builds the Node-style errors a
 * call site throws for bad input (`TypeError` ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE,
 * `RangeError` ERR_OUT_OF_RANGE, `Error` ERR_INVALID_STATE) and the checks every layer shares
 * (integers in a range, sizes, timeouts, signals, options objects).
 *
 * Runs on any thread. Owns nothing. Imports nothing, so every layer (core, shm, codec, ...) may
 * use it.
 *
 * Rules the call sites follow:
 *  1. Check at the call site, before anything changes, and throw synchronously (an async API
 *     still throws here rather than rejecting later, unless it documents otherwise).
 *  2. The message names the argument and what the caller gave (`got ${typeName(v)}` for a wrong
 *     type, `got ${String(v)}` for a value out of range); tests pin messages and codes.
 *  3. A wrong type is a TypeError ERR_INVALID_ARG_TYPE; a number of the right type outside its
 *     range a RangeError ERR_OUT_OF_RANGE; a value of the right type that cannot be used (e.g.
 *     `undefined` put on a channel, an op used twice) a TypeError ERR_INVALID_ARG_VALUE; a call
 *     that the object's state forbids an Error ERR_INVALID_STATE.
 */

/** An error that carries a stable, Node-style `code`. */
export type CodedError<E extends Error = Error> = E & { code: string };

/**
 * Build an error of class `Ctor` with a `code` property (TypeError/RangeError at the call site).
 *
 * @example
 * throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'select needs at least one op');
 */
export function codeError<E extends Error>(
  Ctor: new (message: string) => E,
  code: string,
  message: string,
): CodedError<E> {
  const e = new Ctor(message) as CodedError<E>;
  e.code = code;
  return e;
}

/** A TypeError with `code` (ERR_INVALID_ARG_TYPE unless told). */
export function typeError(message: string, code = 'ERR_INVALID_ARG_TYPE'): CodedError<TypeError> {
  return codeError(TypeError, code, message);
}

/** A RangeError ERR_OUT_OF_RANGE. */
export function rangeError(message: string): CodedError<RangeError> {
  return codeError(RangeError, 'ERR_OUT_OF_RANGE', message);
}

/** An Error ERR_INVALID_STATE: the call is well-formed but the object's state forbids it. */
export function stateError(message: string): CodedError {
  return codeError(Error, 'ERR_INVALID_STATE', message);
}

/** Throw ERR_OUT_OF_RANGE with `message` (for call-site checks of the protocols). */
export function outOfRange(message: string): never {
  throw rangeError(message);
}

/** Throw ERR_INVALID_ARG_TYPE with `message`. */
export function badType(message: string): never {
  throw typeError(message);
}

/** How a message names what the caller gave instead of the expected type: `typeof v`, or 'null'. */
export function typeName(v: unknown): string {
  return v === null ? 'null' : typeof v;
}

/** True for 1, 2, 4, 8, ... up to 2^30. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 2 ** 30 && (n & (n - 1)) === 0;
}

/** Throw ERR_OUT_OF_RANGE unless `v` is an integer in [min, max] (ERR_INVALID_ARG_TYPE unless a number). */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw typeError(`${name} must be a number, got ${typeof v}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw rangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** Throw ERR_OUT_OF_RANGE unless `v` is a power of two in [min, max]. */
export function checkPowerOfTwo(name: string, v: unknown, min: number, max: number): number {
  checkInt(name, v, min, max);
  if (!isPowerOfTwo(v as number)) throw rangeError(`${name} must be a power of two, got ${v}`);
  return v as number;
}

/** Check a size (a buffer's, a capacity): an integer in [min, max], ERR_INVALID_ARG_TYPE unless a number. */
export function checkSize(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw typeError(`${name} must be a number, got ${typeof v}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw rangeError(`${name} must be an integer >= ${min} and <= ${max}, got ${String(v)}`);
  }
  return v;
}

/** Throw ERR_OUT_OF_RANGE unless `v` is an integer >= 1 (any other type included). */
export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw rangeError(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Throw ERR_OUT_OF_RANGE unless `v` is a finite number of ms >= 0 (any other type included). */
export function checkDurationMs(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
    throw rangeError(`${name} must be a non-negative finite number of ms, got ${String(v)}`);
  }
  return v;
}

/** Throw ERR_INVALID_ARG_TYPE unless `v` is a boolean. */
export function checkBoolean(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw typeError(`${name} must be a boolean, got ${typeof v}`);
  return v;
}

/** Throw ERR_INVALID_ARG_TYPE unless `v` is a function. */
export function checkFunction<F extends (...args: never[]) => unknown>(name: string, v: unknown): F {
  if (typeof v !== 'function') throw typeError(`${name} must be a function, got ${typeName(v)}`);
  return v as F;
}

/** Throw ERR_INVALID_ARG_TYPE unless `v` is a string. */
export function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string') throw typeError(`${name} must be a string, got ${typeof v}`);
  return v;
}

/** Longest timeout a timer can hold (setTimeout turns anything larger into 1 ms). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Check a timeout at the call site: an integer number of ms in [0, MAX_TIMEOUT_MS]. */
export function validateTimeout(ms: unknown, name = 'timeout'): number {
  if (typeof ms !== 'number') throw typeError(`${name} must be a number of ms, got ${typeof ms}`);
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIMEOUT_MS) {
    throw rangeError(`${name} must be an integer in [0, ${MAX_TIMEOUT_MS}] ms, got ${String(ms)}`);
  }
  return ms;
}

/** Check an optional `signal` option at the call site. */
export function validateSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw typeError(`signal must be an AbortSignal, got ${typeof signal}`);
}

/**
 * Refuse an option `call` does not read: most likely a misspelling (`worker` for `workers`,
 * `timeOut`), which would otherwise leave the real option at its default without a word.
 *
 * @example
 * checkKnownOptions(opts, ['signal', 'timeout'], 'rt.load');
 */
export function checkKnownOptions(opts: object, known: readonly string[], call: string): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k))
      throw typeError(`options.${k} is not an option of ${call} (known: ${known.join(', ')})`, 'ERR_INVALID_ARG_VALUE');
  }
}

/** Check that an options argument is an object (or absent). */
export function validateOptions(opts: unknown): void {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw typeError(`options must be an object, got ${typeName(opts)}`);
  }
}
