/**
 * The transport switch: `SHOAL_TRANSPORT=message` replaces every shared-memory path with
 * MessagePort (so both paths stay tested and benchmarked); `shared`, or nothing, means the
 * shared-memory default; any other value is a ConfigError (src/config.ts). Read at the moment
 * something is created (a channel, a runtime), so a test may flip it between creations.
 *
 * Runs on any thread (workers inherit the parent's environment). Owns nothing.
 */

import { setting } from '../config.js';

/** Which path carries values between threads. */
export type TransportMode = 'shared' | 'message';

/**
 * The transport selected by SHOAL_TRANSPORT now: 'message' or the default 'shared'.
 *
 * @example
 * if (transportMode() === 'message') console.log('running on the MessagePort fallback');
 */
export function transportMode(): TransportMode {
  return setting('transport'); // throws ConfigError naming SHOAL_TRANSPORT when it is invalid
}
