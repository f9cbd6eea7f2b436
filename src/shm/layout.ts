/**
 * Layout helpers shared by the shared-memory protocols: alignment, cache-line padding, the checks
 * of a region's offset and size (argument checks in general: core/args.ts), and the check that a descriptor received through postMessage
 * really points at a region of the expected kind.
 *
 * Runs on any thread. Owns no memory; it only computes sizes and validates inputs.
 */
import { checkInt, rangeError, typeError, typeName } from '../core/args.js';
import { RingCorruptError } from '../core/errors.js';

// The argument checks moved to core/args.ts; importable from here as before.
export { badType, checkInt, checkPowerOfTwo, isPowerOfTwo, outOfRange } from '../core/args.js';

/**
 * Bytes between words written by different threads. 64 is the x86/ARM line; 128 would also
 * defeat the adjacent-line prefetcher, but doubles the header of every small ring.
 */
export const CACHE_LINE = 64;

/** Int32 words per cache line. */
export const LINE_WORDS = CACHE_LINE / 4;

/** Round `n` up to a multiple of `a` (a power of two). */
export function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

/** Throw ERR_INVALID_ARG_TYPE unless `v` is a SharedArrayBuffer. */
export function checkSab(name: string, v: unknown): SharedArrayBuffer {
  if (!(v instanceof SharedArrayBuffer)) {
    throw typeError(`${name} must be a SharedArrayBuffer, got ${typeName(v)}`);
  }
  return v;
}

/** Throw unless `[byteOffset, byteOffset + size)` lies in `sab` and byteOffset is 8-aligned. */
export function checkRegion(sab: SharedArrayBuffer, byteOffset: unknown, size: number): number {
  checkInt('byteOffset', byteOffset, 0, sab.byteLength);
  if ((byteOffset as number) % 8 !== 0) throw rangeError(`byteOffset must be a multiple of 8, got ${byteOffset}`);
  if ((byteOffset as number) + size > sab.byteLength) {
    throw rangeError(`region of ${size} bytes at ${byteOffset} does not fit a SharedArrayBuffer of ${sab.byteLength}`);
  }
  return byteOffset as number;
}

/**
 * Check the magic word a region's creator wrote, so a descriptor pointing at the wrong memory
 * fails at construction instead of as garbage later.
 */
export function checkMagic(words: Int32Array, index: number, magic: number, what: string): void {
  const seen = Atomics.load(words, index); // pairs with: the creator's init*() Atomics.store of MAGIC
  if (seen !== magic) {
    throw new RingCorruptError(
      'descriptor',
      `${what}: magic word is 0x${(seen >>> 0).toString(16)}, expected 0x${(magic >>> 0).toString(16)}`,
    );
  }
}
