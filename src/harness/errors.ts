/**
 * The harness's error: bad options given to `shoal load` / `shoal bench` (or their functions),
 * named with what the user gave.
 *
 * Runs on the main thread. Owns nothing. Also the checks every harness function's options share.
 */
import { ShoalError } from '../core/errors.js';

/**
 * An option of the load or bench harness is invalid.
 *
 * @example
 * try { await runLoad(rt, { url: 'ftp://x' }) } catch (e) { if (e.code === 'ERR_SHOAL_HARNESS_OPTION') ... }
 */
export class HarnessOptionError extends ShoalError {
  static readonly code = 'ERR_SHOAL_HARNESS_OPTION';
  constructor(message: string) {
    super(HarnessOptionError.code, message);
  }
}

/** What the user gave, for an error message: strings quoted, so '5' and 5 read apart. */
export function given(v: unknown): string {
  return typeof v === 'string' ? `'${v}' (a string)` : String(v);
}

/**
 * A harness function's options as a whole: an object, of keys `call` reads (a misspelt one would
 * leave the real option at its default), and a `signal` that is an AbortSignal.
 *
 * @example
 * checkHarnessOptions(options, OPTION_NAMES, 'runLoad');
 */
export function checkHarnessOptions(o: unknown, known: ReadonlySet<string>, call: string): void {
  if (o === null || typeof o !== 'object') throw new HarnessOptionError(`options must be an object, got ${given(o)}`);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new HarnessOptionError(`'${k}' is not a ${call} option (known: ${[...known].join(', ')})`);
  }
  const signal = (o as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new HarnessOptionError(`signal must be an AbortSignal, got ${given(signal)}`);
}
