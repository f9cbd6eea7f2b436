/**
 * Shared channel — how one value sits in a slot (layout.ts): small integers in the
 * slot header, other numbers as a float64, short latin1 strings as one byte per char, booleans
 * and null as a tag alone, and everything else as a codec frame (codec/index.ts). The fast kinds skip
 * the codec's writer and reader entirely; they are what most channels carry.
 *
 * Runs on any thread. Owns nothing: it reads and writes the slot it is handed, inside the
 * putter's (or taker's) synchronous section between claiming and publishing (or releasing) the
 * slot; the SEQ store that publishes it is the caller's (core.ts).
 *
 * Tags (slot word TAG):
 *
 * | tag | name        | LEN      | INLINE  | payload                      | decodes to          |
 * |-----|-------------|----------|---------|------------------------------|---------------------|
 * | 0   | TAG_CODEC   | bytes    | —       | one codec value item         | what decode() gives |
 * | 1   | TAG_INT     | —        | the int | —                            | number (int32)      |
 * | 2   | TAG_F64     | —        | —       | float64 at payload offset 0  | number              |
 * | 3   | TAG_LATIN1  | chars    | —       | one byte per char (< 256)    | string              |
 * | 4   | TAG_TRUE    | —        | —       | —                            | true                |
 * | 5   | TAG_FALSE   | —        | —       | —                            | false               |
 * | 6   | TAG_NULL    | —        | —       | —                            | null                |
 *
 * Invariants:
 * 1. `tagOf` never throws and never writes: the call site classifies (and, for TAG_CODEC,
 *    encodes, which may throw) before any slot is claimed, so a refused value leaves no trace.
 * 2. A fast tag is chosen only when the value fits: an int32 that is not -0 (TAG_INT), any other
 *    number (8 bytes <= valueBytes), a string whose chars are all < 256 and whose length is at
 *    most valueBytes (TAG_LATIN1). What decodes is what postMessage would deliver.
 * 3. `readValue` checks LEN against the slot's payload size and an unknown TAG, and throws
 *    RingCorruptError rather than read outside the slot.
 */
import { RingCorruptError } from '../../core/errors.js';
import { decode } from '../../codec/index.js';
import { readLatin1 } from '../../codec/source.js';
import { TAG_CODEC, TAG_F64, TAG_FALSE, TAG_INT, TAG_LATIN1, TAG_NULL, TAG_TRUE } from '../value-tag.js';

// The tags and their classifier are shared with the port channel (../value-tag.ts).
export { TAG_CODEC, TAG_F64, TAG_FALSE, TAG_INT, TAG_LATIN1, TAG_NULL, TAG_TRUE, tagOf } from '../value-tag.js';

const { latin1Write } = Buffer.prototype as unknown as {
  latin1Write(this: Uint8Array, s: string, offset: number, length: number): number;
};
/** Strings up to this many chars are written and read in JS; longer ones through Buffer's natives. */
const SHORT = 16;

/** The views and sizes of a channel's slots (attachSharedChan's answer, or a part of it). */
export interface SlotViews {
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly f64: Float64Array;
  readonly valueBytes: number;
}

/**
 * Fill the slot whose SEQ word is `words[at]` with `v` (tag from `tagOf`; `frame` = the codec
 * bytes for TAG_CODEC). Plain stores only: the caller publishes with its SEQ store.
 */
export function writeValue(s: SlotViews, at: number, tag: number, v: unknown, frame: Uint8Array | undefined): void {
  const w = s.words;
  w[at + 2] = tag;
  switch (tag) {
    case TAG_INT:
      w[at + 3] = v as number;
      return;
    case TAG_F64:
      s.f64[(at + 4) >> 1] = v as number; // payload starts 16 bytes in: 8-aligned (layout)
      return;
    case TAG_LATIN1: {
      const str = v as string;
      const n = str.length;
      w[at + 1] = n;
      const p = (at + 4) << 2;
      if (n <= SHORT) {
        const b = s.bytes;
        for (let i = 0; i < n; i++) b[p + i] = str.charCodeAt(i);
      } else {
        latin1Write.call(s.bytes, str, p, n);
      }
      return;
    }
    case TAG_CODEC: {
      const f = frame!;
      w[at + 1] = f.length;
      s.bytes.set(f, (at + 4) << 2);
      return;
    }
    default:
      return; // TAG_TRUE / TAG_FALSE / TAG_NULL: the tag is the value
  }
}

/** Read the value of the slot whose SEQ word is `words[at]` (the caller holds its claim). */
export function readValue(s: SlotViews, at: number): unknown {
  const w = s.words;
  const tag = w[at + 2]!;
  switch (tag) {
    case TAG_INT:
      return w[at + 3]!;
    case TAG_F64:
      return s.f64[(at + 4) >> 1]!;
    case TAG_LATIN1: {
      const n = w[at + 1]!;
      if (n >>> 0 > s.valueBytes) throw corrupt(tag, n);
      return readLatin1(s.bytes, (at + 4) << 2, n);
    }
    case TAG_TRUE:
      return true;
    case TAG_FALSE:
      return false;
    case TAG_NULL:
      return null;
    case TAG_CODEC: {
      const n = w[at + 1]!;
      if (n >>> 0 > s.valueBytes) throw corrupt(tag, n);
      return decode(s.bytes, (at + 4) << 2, n);
    }
    default:
      throw corrupt(tag, w[at + 1]!);
  }
}

function corrupt(tag: number, len: number): RingCorruptError {
  return new RingCorruptError('frame-length', `shared channel: a slot with tag ${tag} and length ${len}`);
}
