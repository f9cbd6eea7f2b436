/**
 * The value codec (src/codec/index.ts): what arrives, what is refused, and the encodeInto/decode
 * contract the rings build on. Randomized and garbage inputs: codec-fuzz.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDeepStrictEqual, inspect } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import { CancelledError, CodecError, TimeoutError } from '../../src/core/errors.js';
import { FrameReader, FrameWriter, MAX_DEPTH, decode, encode, encodeInto, measure } from '../../src/codec/index.js';

const roundTrip = <T>(v: T, side?: unknown[]): T =>
  decode(encode(v, side ? { side } : undefined).slice(), 0, undefined, side ? { side } : undefined) as T;

function same(actual: unknown, expected: unknown, what = ''): void {
  if (!isDeepStrictEqual(actual, expected)) {
    assert.unreachable(`${what}\nexpected ${inspect(expected)}\n     got ${inspect(actual)}`);
  }
}

function refusal(fn: () => unknown): TypeError & { code: string; path: string } {
  try {
    fn();
  } catch (e) {
    return e as TypeError & { code: string; path: string };
  }
  throw new Error('expected a refusal');
}

test('primitives arrive exactly, including -0, NaN, infinities, int edges and bigints', () => {
  const values = [
    undefined,
    null,
    true,
    false,
    0,
    -0,
    1,
    -1,
    127,
    128,
    -128,
    -129,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53,
    -(2 ** 53),
    0.1,
    1e-310,
    Number.MAX_VALUE,
    NaN,
    Infinity,
    -Infinity,
    0n,
    1n,
    -1n,
    2n ** 64n,
    -(2n ** 200n) - 7n,
  ];
  for (const v of values) {
    const got = roundTrip(v);
    assert.ok(Object.is(got, v), `${String(v)} arrived as ${String(got)}`);
  }
});

test('strings arrive exactly: ASCII, latin1, BMP, astral, lone surrogates, short and long', () => {
  const strings = [
    '',
    'a',
    'abc',
    'x'.repeat(63),
    'x'.repeat(64),
    'y'.repeat(5000),
    'é',
    'café',
    'ÿ'.repeat(300),
    '€uro',
    '日本語'.repeat(40),
    '😀',
    'a😀b'.repeat(100),
    '\uD800',
    'a\uDC00b',
    'x'.repeat(70) + '\uD83D',
    '\0\u0001\u007f\u0080',
  ];
  for (const s of strings) assert.is(roundTrip(s), s);
});

test('plain objects and arrays keep their keys, key order, values and holes', () => {
  same(roundTrip({ b: 1, a: [1, 'x', { c: null }], 2: 'two', '': 'empty', 'odd key': true }), {
    b: 1,
    a: [1, 'x', { c: null }],
    2: 'two',
    '': 'empty',
    'odd key': true,
  });
  const holey = [1, , 3, , , 6]; // eslint-disable-line no-sparse-arrays
  const got = roundTrip(holey);
  same(got, holey);
  assert.not.ok(1 in got);
  const sparse: unknown[] = [];
  sparse[5] = 'a';
  sparse[4_000_000_000] = 'b';
  const s2 = roundTrip(sparse);
  assert.is(s2.length, 4_000_000_001);
  assert.equal(Object.keys(s2), ['5', '4000000000']);
  assert.is(encode(sparse).length < 40, true, 'holes are run-length encoded');
  same(roundTrip([undefined, [], {}]), [undefined, [], {}]);
});

test('Map, Set, Date, RegExp and boxed primitives arrive with their prototypes', () => {
  const m = new Map<unknown, unknown>([
    [1, 'a'],
    ['k', { x: 1 }],
    [{ o: 1 }, [2]],
  ]);
  same(roundTrip(m), m);
  const s = new Set([1, 'a', { b: 2 }, -0]);
  same(roundTrip(s), s);
  same(roundTrip(new Date(1_700_000_000_123)), new Date(1_700_000_000_123));
  assert.ok(Number.isNaN(roundTrip(new Date(NaN)).getTime()));
  const r = roundTrip(/a+(b)?/giu);
  assert.instance(r, RegExp);
  assert.is(r.source, 'a+(b)?');
  assert.is(r.flags, 'giu');
  for (const boxed of [Object(1.5), Object('str'), Object(false), Object(10n)]) same(roundTrip(boxed), boxed);
  class MyMap extends Map<number, number> {}
  const sub = roundTrip(new MyMap([[1, 2]]));
  assert.is(Object.getPrototypeOf(sub), Map.prototype, 'a Map subclass arrives as a Map, as with structuredClone');
});

test('typed arrays of every kind and DataView arrive with their bytes; a subview carries its window only', () => {
  const ab = new ArrayBuffer(64);
  new Uint8Array(ab).forEach((_, i, a) => (a[i] = i * 7));
  const views: ArrayBufferView[] = [
    new Int8Array(ab, 1, 5),
    new Uint8Array(ab, 3, 9),
    new Uint8ClampedArray(ab, 0, 4),
    new Int16Array(ab, 2, 3),
    new Uint16Array(ab, 4, 2),
    new Int32Array(ab, 4, 3),
    new Uint32Array(ab, 8, 2),
    new Float32Array(ab, 12, 2),
    new Float64Array(ab, 8, 3),
    new BigInt64Array(ab, 8, 2),
    new BigUint64Array(ab, 16, 2),
    new DataView(ab, 5, 11),
    new Float64Array([NaN, -0, Infinity]),
    new Uint8Array(1000).fill(3),
    new Int32Array(0),
  ];
  for (const v of views) {
    const got = roundTrip(v);
    assert.is(Object.getPrototypeOf(got), Object.getPrototypeOf(v), v.constructor.name);
    same(got, v, v.constructor.name);
    assert.is(got.byteOffset, 0);
    assert.is(got.buffer.byteLength, v.byteLength, 'only the viewed bytes travel');
  }
  const ab2 = roundTrip(ab);
  assert.instance(ab2, ArrayBuffer);
  same(new Uint8Array(ab2), new Uint8Array(ab));
});

test('a Buffer arrives as a Buffer, and decoded payloads never alias the frame', () => {
  const b = Buffer.from('hello, shoal');
  const got = roundTrip(b);
  assert.ok(Buffer.isBuffer(got));
  assert.is(got.toString(), 'hello, shoal');
  const frame = encode({ small: new Uint8Array([1, 2, 3]), big: new Uint8Array(4096).fill(9) }).slice();
  const v = decode(frame) as { small: Uint8Array; big: Uint8Array };
  frame.fill(0);
  assert.equal([...v.small], [1, 2, 3]);
  assert.is(v.big[4095], 9);
});

test('cycles and shared references are preserved', () => {
  const o: Record<string, unknown> = { name: 'root' };
  o.self = o;
  const shared = { s: 1 };
  const bytes = new Uint8Array([1, 2]);
  const a: unknown[] = [shared, shared, bytes, bytes];
  a.push(a);
  const m = new Map<unknown, unknown>();
  m.set(m, o);
  const got = roundTrip({ o, a, m });
  assert.is(got.o.self, got.o);
  assert.is(got.a[0], got.a[1]);
  assert.is(got.a[2], got.a[3]);
  assert.is(got.a[4], got.a);
  assert.is([...got.m.keys()][0], got.m);
  assert.is(got.m.get(got.m), got.o);
  const many = Array.from({ length: 100 }, (_, i) => ({ i }));
  const twice = roundTrip([...many, ...many]);
  for (let i = 0; i < 100; i++) assert.is(twice[i], twice[i + 100], 'past the linear-scan limit too');
});

test('errors keep class, name, message, stack, code, cause, own props; AggregateError keeps errors', () => {
  const inner = new RangeError('inner');
  const e = Object.assign(new TypeError('outer', { cause: inner }), { code: 'E_OUTER', status: 503 });
  const got = roundTrip(e);
  assert.instance(got, TypeError);
  assert.is(got.message, 'outer');
  assert.is(got.stack, e.stack);
  assert.is(got.code, 'E_OUTER');
  assert.is(got.status, 503);
  assert.instance(got.cause, RangeError);
  assert.is((got.cause as Error).message, 'inner');
  assert.not.ok(Object.getOwnPropertyDescriptor(got, 'cause')!.enumerable);
  const agg = roundTrip(new AggregateError([new Error('a'), 42], 'both'));
  assert.instance(agg, AggregateError);
  assert.is(agg.errors.length, 2);
  assert.is((agg.errors[0] as Error).message, 'a');
  assert.is(agg.errors[1], 42);
  class HttpError extends Error {
    override name = 'HttpError';
  }
  const h = roundTrip(new HttpError('nope'));
  assert.instance(h, Error);
  assert.is(h.name, 'HttpError');
  const cyc = new Error('loop') as Error & { self?: unknown };
  cyc.self = cyc;
  const c = roundTrip(cyc);
  assert.is(c.self, c);
  const noStack = new Error('x');
  delete (noStack as { stack?: string }).stack;
  assert.not.ok(Object.hasOwn(roundTrip(noStack), 'stack'), 'no invented stack');
});

test("shoal's own error classes keep their class and code across the codec", () => {
  const c = roundTrip(new CancelledError('stop', { cause: 'why' }));
  assert.instance(c, CancelledError);
  assert.is(c.code, 'ERR_SHOAL_CANCELLED');
  assert.is(c.cause, 'why');
  assert.is(c.name, 'CancelledError');
  assert.instance(roundTrip(new TimeoutError()), TimeoutError);
});

test('class instances arrive as plain objects of their own enumerable properties', () => {
  class Point {
    #secret = 1;
    constructor(
      public x: number,
      public y: number,
    ) {}
    get sum(): number {
      return this.x + this.y + this.#secret;
    }
  }
  const got = roundTrip(new Point(1, 2));
  assert.is(Object.getPrototypeOf(got), Object.prototype);
  same(got, { x: 1, y: 2 });
  same(got, structuredClone(new Point(1, 2)));
  same(roundTrip(Object.assign(Object.create(null), { a: 1 })), { a: 1 });
});

test('an own __proto__ key stays an own key and never sets the prototype', () => {
  const v = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  for (let i = 0; i < 5; i++) {
    const got = roundTrip(v);
    assert.is(Object.getPrototypeOf(got), Object.prototype);
    assert.ok(Object.hasOwn(got, '__proto__'));
    assert.is((got as { polluted?: boolean }).polluted, undefined);
  }
});

test('objects of one shape decode right before and after their factory is compiled', () => {
  for (let i = 0; i < 10; i++) {
    const v = { id: i, name: `n${i}`, nested: { id: -i, tags: ['t'] }, '0': 'zero', f: i / 3 };
    same(roundTrip(v), v, `round ${i}`);
  }
  for (let i = 0; i < 50; i++) {
    const dict = { [`user${i}`]: i, [`user${i + 1}`]: i + 1 };
    same(roundTrip(dict), dict);
  }
});

test('values postMessage refuses are refused with a TypeError naming the path', () => {
  const cases: [unknown, string][] = [
    [{ a: [1, { cb() {} }] }, 'value.a[1].cb'],
    [[Symbol('s')], 'value[0]'],
    [{ p: Promise.resolve() }, 'value.p'],
    [{ w: new WeakMap() }, 'value.w'],
    [{ w: new WeakSet() }, 'value.w'],
    [{ r: new WeakRef({}) }, 'value.r'],
    [{ x: new Proxy({}, {}) }, 'value.x'],
    [{ g: (function* () {})() }, 'value.g'],
    [{ it: new Map().keys() }, 'value.it'],
    [{ s: Object(Symbol('x')) }, 'value.s'],
    [{ 'odd key': () => 1 }, 'value["odd key"]'],
    [new Map([[1, () => 1]]), 'value<Map value #0>'],
    [new Set([1, () => 1]), 'value<Set entry #1>'],
    [Object.assign(new Error('e'), { fn: () => 1 }), 'value.fn'],
  ];
  for (const [v, path] of cases) {
    const e = refusal(() => encode(v));
    assert.instance(e, TypeError);
    assert.is(e.code, 'ERR_SHOAL_UNCLONEABLE');
    assert.is(e.path, path);
    assert.ok(e.message.includes(path), e.message);
  }
  assert.is(refusal(() => encode([1, () => 0], { name: 'args' })).path, 'args[1]');
});

test('a refused value leaves the destination untouched and the side table as it was', () => {
  const dest = new Uint8Array(new SharedArrayBuffer(256)).fill(0xee);
  const side: unknown[] = ['already'];
  const value = { a: new Uint8Array(1000), s: new SharedArrayBuffer(8), bad: () => 1 };
  refusal(() => encodeInto(value, dest, 8, 256, { side }));
  assert.ok(dest.every((b) => b === 0xee));
  assert.equal(side, ['already']);
  // and the writer is fine afterwards
  const n = encodeInto([1, 2], dest, 8);
  same(decode(dest, 8, n), [1, 2]);
});

test('encodeInto returns -1 and writes nothing when the frame does not fit, and never writes past end', () => {
  const value = { big: new Uint8Array(500).fill(1), s: 'x'.repeat(100) };
  const need = measure(value);
  const dest = new Uint8Array(2048).fill(0xaa);
  assert.is(encodeInto(value, dest, 10, 10 + 300), -1);
  assert.ok(dest.every((b) => b === 0xaa));
  const n = encodeInto(value, dest, 10, 10 + need);
  assert.ok(n > 0 && n <= need);
  assert.ok(dest.subarray(10 + n).every((b) => b === 0xaa));
  assert.ok(dest.subarray(0, 10).every((b) => b === 0xaa));
  same(decode(dest, 10, n), value);
  assert.throws(
    () => encodeInto(1, dest, -1),
    (e: { code: string }) => e.code === 'ERR_OUT_OF_RANGE',
  );
  assert.throws(
    () => encodeInto(1, dest, 0, 4096),
    (e: { code: string }) => e.code === 'ERR_OUT_OF_RANGE',
  );
});

test('encodeInto a SharedArrayBuffer view at an offset and decode it from there', () => {
  const sab = new SharedArrayBuffer(1 << 20);
  const ring = new Uint8Array(sab, 24);
  const value = [1, 'abc', { a: 1 }, new Uint8Array(70_000).map((_, i) => i), 'é€😀'.repeat(50), Buffer.alloc(300, 7)];
  for (const offset of [0, 1, 3, 5, 8, 1001]) {
    const n = encodeInto(value, ring, offset);
    assert.ok(n > 0);
    same(decode(ring, offset, n), value, `offset ${offset}`);
  }
});

test('SharedArrayBuffer and views over it travel by reference through the side table', () => {
  const sab = new SharedArrayBuffer(64);
  const side: unknown[] = [];
  const got = roundTrip({ sab, view: new Int32Array(sab, 8, 4), again: sab, dv: new DataView(sab, 3, 5) }, side);
  assert.is(side.length, 1);
  assert.is(got.sab, sab);
  assert.is(got.again, sab);
  assert.is(got.view.buffer, sab);
  assert.is(got.view.byteOffset, 8);
  assert.is(got.view.length, 4);
  assert.instance(got.view, Int32Array);
  assert.is(got.dv.byteLength, 5);
  const e = refusal(() => encode({ shared: new Uint8Array(sab) }));
  assert.is(e.code, 'ERR_SHOAL_UNCLONEABLE');
  assert.is(e.path, 'value.shared');
  assert.ok(e.message.includes('side table'), e.message);
  const { port1, port2 } = new MessageChannel();
  const side2: unknown[] = [];
  assert.is(roundTrip({ port: port1 }, side2).port, port1);
  assert.is(refusal(() => encode(new Blob(['x']))).code, 'ERR_SHOAL_UNCLONEABLE');
  port1.close();
  port2.close();
});

test('nesting up to MAX_DEPTH is carried; deeper is refused with a RangeError', () => {
  const nest = (depth: number): unknown[] => {
    const root: unknown[] = [];
    let cur = root;
    for (let i = 1; i < depth; i++) cur.push((cur = []));
    return root;
  };
  assert.ok(Array.isArray(roundTrip(nest(MAX_DEPTH))));
  const e = refusal(() => encode(nest(MAX_DEPTH + 1)));
  assert.instance(e, RangeError);
  assert.is(e.code, 'ERR_OUT_OF_RANGE');
});

test('a FrameWriter/FrameReader pair carries several items in one frame', () => {
  const w = new FrameWriter();
  w.reset()
    .u32(0xdeadbeef)
    .u8(7)
    .f64(-0.5)
    .value({ args: [1, 'x'] }, { name: 'args' })
    .value(new Uint8Array(600).fill(5));
  const dest = new Uint8Array(4096);
  const n = w.writeTo(dest, 100);
  assert.ok(n > 0 && n <= w.size);
  const r = new FrameReader(dest, 100, n);
  assert.is(r.u32(), 0xdeadbeef);
  assert.is(r.u8(), 7);
  assert.is(r.f64(), -0.5);
  same(r.value(), { args: [1, 'x'] });
  same(r.value(), new Uint8Array(600).fill(5));
  r.finish();
  assert.throws(
    () => w.reset().u8(256),
    (e: { code: string }) => e.code === 'ERR_OUT_OF_RANGE',
  );
});

test('decode rejects trailing bytes, and bad arguments at the call site', () => {
  const b = encode(1).slice();
  const padded = new Uint8Array(b.length + 1);
  padded.set(b);
  assert.throws(
    () => decode(padded),
    (e: unknown) => e instanceof CodecError,
  );
  assert.throws(
    () => decode(new Uint8Array(0)),
    (e: unknown) => e instanceof CodecError,
  );
  assert.throws(
    () => decode([1] as unknown as Uint8Array),
    (e: { code: string }) => e.code === 'ERR_INVALID_ARG_TYPE',
  );
  assert.throws(
    () => decode(b, 0, b.length + 1),
    (e: { code: string }) => e.code === 'ERR_OUT_OF_RANGE',
  );
});

test('a getter that encodes during an encode does not corrupt either frame', () => {
  const inner = { z: 'inner' };
  const v = {
    get g() {
      return decode(encode(inner).slice());
    },
    after: 'x'.repeat(10),
  };
  same(roundTrip(v), { g: { z: 'inner' }, after: 'x'.repeat(10) });
});

test.run();
