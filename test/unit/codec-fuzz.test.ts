/**
 * The value codec under random values and random bytes (fast-check, seeded: set SHOAL_SEED to
 * replay; the seed is printed on failure). Guarantees: what structured clone carries arrives
 * deep-equal, and equal to what structuredClone gives; garbage, truncated and bit-flipped frames
 * only ever throw CodecError, in bounded time and memory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { isDeepStrictEqual, inspect } from 'node:util';
import { CodecError } from '../../src/core/errors.js';
import { decode, encode, encodeInto } from '../../src/codec/index.js';
import { fixedSeed } from '../fixtures/seed.js';

const seed = fixedSeed(Date.now() % 2 ** 31);
const runs = Number(process.env.SHOAL_FUZZ_RUNS ?? 300);

function check<T>(name: string, arb: fc.Arbitrary<T>, prop: (v: T) => void, numRuns = runs): void {
  try {
    fc.assert(fc.property(arb, prop), { seed, numRuns });
  } catch (e) {
    console.error(`[${name}] failed with SHOAL_SEED=${seed}`);
    throw e;
  }
}

/** Any UTF-16 code unit, lone surrogates included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

const typedArray = fc.oneof(
  fc.int8Array(),
  fc.uint8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
);

/**
 * Random values. `withNullPrototype` only where we compare with structuredClone: such objects
 * arrive with Object.prototype, as they do through postMessage. Invalid dates are left out
 * because isDeepStrictEqual never finds two of them equal (codec.test.ts checks them).
 */
const valuesArb = (withNullPrototype: boolean) => {
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype,
    withObjectString: true,
    withTypedArray: true,
    withSparseArray: true,
    stringUnit: anyUnit as unknown as 'binary',
    maxDepth: 4,
  });
  return fc.oneof(
    anything,
    fc.jsonValue(),
    typedArray,
    fc.date({ noInvalidDate: true }),
    fc.array(fc.tuple(anything, anything)).map((e) => new Map(e)),
    fc.array(anything).map((e) => new Set(e)),
    fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
    fc.string({ unit: anyUnit, maxLength: 300 }),
  );
};
const values = valuesArb(false);

function same(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) {
    assert.unreachable(`expected ${inspect(expected, { depth: 6 })}\n     got ${inspect(actual, { depth: 6 })}`);
  }
}

/**
 * isDeepStrictEqual never finds two invalid Dates equal, and fc.anything makes some: turn them
 * into valid ones before use (codec.test.ts checks invalid dates on their own).
 */
function fixDates<T>(v: T, seen = new Set<unknown>()): T {
  if (typeof v !== 'object' || v === null || seen.has(v)) return v;
  seen.add(v);
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) v.setTime(0);
  } else if (v instanceof Map) {
    for (const [k, x] of v) fixDates(k, seen), fixDates(x, seen);
  } else if (v instanceof Set) {
    for (const x of v) fixDates(x, seen);
  } else if (!ArrayBuffer.isView(v)) {
    for (const x of Object.values(v)) fixDates(x, seen);
  }
  return v;
}

/** structuredClone turns a Buffer into a plain Uint8Array; the codec keeps the Buffer (documented). */
function containsBuffer(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  if (Buffer.isBuffer(v)) return true;
  if (v instanceof Map) return [...v].some(([k, x]) => containsBuffer(k, seen) || containsBuffer(x, seen));
  if (v instanceof Set) return [...v].some((x) => containsBuffer(x, seen));
  return Object.values(v).some((x) => containsBuffer(x, seen));
}

test('decode(encode(v)) deep-equals v for random structured-clone values', () => {
  check(
    'round trip',
    values.map((v) => fixDates(v)),
    (v) => same(decode(encode(v).slice()), v),
  );
});

test('the codec agrees with structuredClone', () => {
  check(
    'structuredClone',
    valuesArb(true).map((v) => fixDates(v)),
    (v) => {
      if (!containsBuffer(v)) same(decode(encode(v).slice()), structuredClone(v));
    },
  );
});

test('encodeInto a SharedArrayBuffer at any offset decodes to the same value', () => {
  const ring = new Uint8Array(new SharedArrayBuffer(1 << 20));
  check(
    'SAB offsets',
    fc.tuple(
      values.map((v) => fixDates(v)),
      fc.nat({ max: 1000 }),
    ),
    ([v, offset]) => {
      const n = encodeInto(v, ring, offset);
      assert.ok(n > 0, 'fits');
      same(decode(ring, offset, n), v);
    },
  );
});

/** Decode and accept only a value or a CodecError. */
function decodeSafely(bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (e) {
    if (!(e instanceof CodecError)) throw new Error(`not a CodecError: ${inspect(e)}`);
  }
}

test('random bytes only ever throw CodecError', () => {
  check('garbage', fc.uint8Array({ maxLength: 300 }), decodeSafely, runs * 10);
  // Garbage that starts like a frame goes deeper into the decoder.
  check(
    'garbage after a header',
    fc.tuple(fc.constantFrom(0xb0, 0xb1), fc.uint8Array({ maxLength: 300 })),
    ([h, rest]) => decodeSafely(Uint8Array.of(h, ...rest)),
    runs * 10,
  );
});

test('truncated and bit-flipped frames only ever throw CodecError', () => {
  const arb = fc.tuple(valuesArb(true), fc.nat(), fc.nat(), fc.nat({ max: 7 }));
  check('corrupted', arb, ([v, cut, at, bit]) => {
    const frame = encode(v).slice();
    decodeSafely(frame.subarray(0, cut % (frame.length + 1)));
    const flipped = frame.slice();
    flipped[at % flipped.length]! ^= 1 << bit;
    decodeSafely(flipped);
  });
});

test('lengths and counts larger than the frame are refused before anything is allocated', () => {
  const vu = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const big = [2 ** 32 - 1, 2 ** 40, 2 ** 53 - 1, 1e9];
  const frames: number[][] = [];
  for (const n of big) {
    frames.push([0xb0, 0x07, ...vu(n)]); // LATIN1 of n bytes
    frames.push([0xb0, 0x0d, ...vu(n), 0]); // BYTES
    frames.push([0xb0, 0x0c, ...vu(n)]); // OBJECT with n keys
    frames.push([0xb0, 0x14, ...vu(n)]); // MAP
    frames.push([0xb0, 0x15, ...vu(n)]); // SET
    frames.push([0xb0, 0x0a, ...vu(n), 0x0b, ...vu(n)]); // ARRAY of n holes: fine when n fits an array
    frames.push([0xb0, 0x0a, ...vu(n), 0x01]); // ARRAY claiming n elements, one present
  }
  frames.push([0xb0, 0x0b, 1]); // HOLES outside an array
  frames.push([0xb0, 0x18, 0]); // REF without the refs flag
  frames.push([0xb0, 0x19, 0]); // SIDE without a side table
  frames.push([0xb0, 0x0a, ...vu(1), 0xff]); // unknown tag
  frames.push([
    0xb0,
    ...Array(2000)
      .fill(0x0a)
      .flatMap((t) => [t, 1]),
    0,
  ]); // 2000 levels deep
  frames.push([0xb0, 0x07, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]); // 9-byte varint
  for (const f of frames) {
    const before = process.memoryUsage().arrayBuffers;
    decodeSafely(Uint8Array.from(f));
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 64 << 20, `frame ${f.slice(0, 12).join(',')} made the decoder allocate ${grown} bytes`);
  }
});

test.run();
