/**
 * `shoal run`'s line encoding (src/cli/jsonl.ts): what a task returns round-trips, and encoding
 * never throws.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeLine, encodeLine } from '../../src/cli/jsonl.js';

const rt = (v: unknown): unknown => decodeLine(encodeLine(v));

test('plain JSON values are plain JSON lines', () => {
  assert.is(encodeLine({ a: [1, 'x', true, null] }), '{"a":[1,"x",true,null]}');
  assert.is(encodeLine('00123'), '"00123"');
});

test('values JSON cannot carry round-trip through tags', () => {
  assert.is(rt(12345678901234567890n), 12345678901234567890n);
  assert.is(rt(undefined), undefined);
  assert.ok(Number.isNaN(rt(Number.NaN)));
  assert.ok(Object.is(rt(-0), -0));
  assert.is(rt(Number.NEGATIVE_INFINITY), Number.NEGATIVE_INFINITY);
  assert.equal(rt([undefined, 1n]), [undefined, 1n]);
  assert.equal(rt({ a: undefined, b: 2n }), { a: undefined, b: 2n });
  assert.is((rt(new Date(5)) as Date).getTime(), 5);
  assert.equal([...(rt(new Map([['k', new Set([1n])]])) as Map<string, Set<bigint>>)], [['k', new Set([1n])]]);
  assert.equal(rt(new Uint8Array([1, 2, 255])), new Uint8Array([1, 2, 255]));
  assert.equal(rt({ $shoal: 'bigint', value: 'not a tag' }), { $shoal: 'bigint', value: 'not a tag' });
  const e = rt(Object.assign(new TypeError('bad'), { code: 'E_X' })) as TypeError & { code: string };
  assert.is(e.name, 'TypeError');
  assert.is(e.message, 'bad');
  assert.is(e.code, 'E_X');
});

test('encoding never throws: a cycle becomes an unencodable tag', () => {
  const o: Record<string, unknown> = { n: 1 };
  o.self = o;
  const line = encodeLine(o);
  assert.match(line, '"$shoal":"unencodable"');
  assert.match(line, 'Circular');
  assert.match(
    encodeLine(() => 1),
    'unencodable',
  );
});

test.run();
