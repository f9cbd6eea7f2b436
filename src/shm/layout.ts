/**
 * Layout helpers shared by the shared-memory protocols: alignment, cache-line padding, argument
 * checks for sizes and offsets, and the check that a descriptor received through postMessage
 * really points at a region of the expected kind.
 *
 * Runs on any thread. Owns no memory; it only computes sizes and validates inputs.
 */
import { RingCorruptError } from '../core/errors.js';

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

/** True for 1, 2, 4, 8, ... up to 2^30. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 2 ** 30 && (n & (n - 1)) === 0;
}

function typeError(message: string): TypeError {
  const e = new TypeError(message) as TypeError & { code: string };
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

function rangeError(message: string): RangeError {
  const e = new RangeError(message) as RangeError & { code: string };
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}

/** Throw ERR_OUT_OF_RANGE unless `v` is an integer in [min, max]. */
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

/** Throw ERR_INVALID_ARG_TYPE unless `v` is a SharedArrayBuffer. */
export function checkSab(name: string, v: unknown): SharedArrayBuffer {
  if (!(v instanceof SharedArrayBuffer)) {
    throw typeError(`${name} must be a SharedArrayBuffer, got ${v === null ? 'null' : typeof v}`);
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

/** Throw ERR_OUT_OF_RANGE with `message` (for call-site checks of the protocols). */
export function outOfRange(message: string): never {
  throw rangeError(message);
}

/** Throw ERR_INVALID_ARG_TYPE with `message`. */
export function badType(message: string): never {
  throw typeError(message);
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
