/**
 * The harness's error: bad options given to `shoal load` / `shoal bench` (or their functions),
 * named with what the user gave.
 *
 * Runs on the main thread. Owns nothing.
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
