/**
 * copyBytes — copy a byte range between Uint8Arrays (shared or not) without allocating.
 *
 * Runs on any thread. Owns nothing.
 *
 * Why: `dest.set(src.subarray(a, b), d)` allocates a view per copy, and Node 20's Buffer#copy
 * makes one internally for a partial range. Frames on the hot paths (a 64-byte echo, a task's
 * arguments) are mostly small, where a plain loop beats the allocation; larger ranges still go
 * through `set`, which is a memcpy.
 */

/** Bytes up to which a loop is used instead of `set` on a fresh view. */
const LOOP_MAX = 64;

/**
 * Copy `src[from, to)` into `dest` at `d`; returns `d + (to - from)`.
 *
 * @example
 * let at = 0;
 * at = copyBytes(ring.bytes, r.frameOffset, r.frameOffset + r.frameLength, out, at);
 */
export function copyBytes(src: Uint8Array, from: number, to: number, dest: Uint8Array, d: number): number {
  const n = to - from;
  if (n <= LOOP_MAX) {
    for (let i = 0; i < n; i++) dest[d + i] = src[from + i]!;
  } else {
    dest.set(from === 0 && to === src.length ? src : src.subarray(from, to), d);
  }
  return d + n;
}
