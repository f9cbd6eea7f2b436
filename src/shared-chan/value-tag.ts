/**
 * Shared channel — the value tags: which values both transports carry without the codec's
 * framing (small ints, other numbers, short latin1 strings, booleans, null), and `tagOf`, the
 * classifier. The memory channel stores a fast-tagged value in its slot directly
 * (memory/value.ts, where the tag table and the slot words are); the port channel uses the same
 * classifier to judge a value's size as the memory channel does, so both accept the same values.
 *
 * Runs on any thread. Owns nothing.
 */

export const TAG_CODEC = 0;
export const TAG_INT = 1;
export const TAG_F64 = 2;
export const TAG_LATIN1 = 3;
export const TAG_TRUE = 4;
export const TAG_FALSE = 5;
export const TAG_NULL = 6;

/**
 * The fast tag for `v`, or TAG_CODEC when it needs the codec (memory/value.ts, invariants 1 and 2).
 *
 * @example
 * tagOf(7, 248) // TAG_INT
 */
export function tagOf(v: unknown, valueBytes: number): number {
  switch (typeof v) {
    case 'number':
      return (v | 0) === v && (v !== 0 || 1 / v > 0) ? TAG_INT : TAG_F64;
    case 'string': {
      const n = v.length;
      if (n > valueBytes) return TAG_CODEC;
      for (let i = 0; i < n; i++) if (v.charCodeAt(i) > 255) return TAG_CODEC;
      return TAG_LATIN1;
    }
    case 'boolean':
      return v ? TAG_TRUE : TAG_FALSE;
    case 'object':
      return v === null ? TAG_NULL : TAG_CODEC;
    default:
      return TAG_CODEC;
  }
}
