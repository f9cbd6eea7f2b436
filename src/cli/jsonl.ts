/**
 * The line encoding of `shoal run`: one JSON value per line, with the values JSON cannot carry
 * written as tagged objects `{ "$shoal": TYPE, ... }`, so that what a task returns round-trips
 * (`decodeLine(encodeLine(v))` equals `v`) and the output of one run can be the `--json` input
 * of the next.
 *
 * | value | line |
 * |---|---|
 * | numbers, strings, booleans, null, arrays, plain objects | plain JSON |
 * | `undefined` | `{"$shoal":"undefined"}` |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$shoal":"number","value":"NaN"}` ... |
 * | BigInt | `{"$shoal":"bigint","value":"123"}` |
 * | Date | `{"$shoal":"date","value":"2026-01-01T00:00:00.000Z"}` |
 * | Map, Set | `{"$shoal":"map","value":[[k,v],...]}`, `{"$shoal":"set","value":[...]}` |
 * | Uint8Array / Buffer | `{"$shoal":"bytes","base64":"..."}` |
 * | Error | `{"$shoal":"error","name":...,"message":...,"code":...}` (+ `index`, `input` for a failed input) |
 * | anything else (cycles, class instances' prototypes, functions) | `{"$shoal":"unencodable","inspect":"..."}` |
 *
 * A plain object that has its own `$shoal` key is escaped as `{"$shoal":"object","value":{...}}`.
 *
 * Runs on the main thread of the CLI process. Owns nothing.
 */
import { inspect } from 'node:util';

type Tagged = { $shoal: string; [k: string]: unknown };

function tag(v: unknown): unknown {
  if (v === undefined) return { $shoal: 'undefined' };
  if (typeof v === 'number') {
    if (Number.isNaN(v) || v === Infinity || v === -Infinity) return { $shoal: 'number', value: String(v) };
    if (Object.is(v, -0)) return { $shoal: 'number', value: '-0' };
    return v;
  }
  if (typeof v === 'bigint') return { $shoal: 'bigint', value: v.toString() };
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'function' || typeof v === 'symbol') return { $shoal: 'unencodable', inspect: inspect(v) };
    return v;
  }
  if (v instanceof Date) return { $shoal: 'date', value: Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString() };
  if (v instanceof Map) return { $shoal: 'map', value: [...v].map(([k, x]) => [tag(k), tag(x)]) };
  if (v instanceof Set) return { $shoal: 'set', value: [...v].map(tag) };
  if (v instanceof Uint8Array)
    return { $shoal: 'bytes', base64: Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64') };
  if (v instanceof Error) {
    const e = v as Error & { code?: unknown; index?: unknown; input?: unknown };
    return {
      $shoal: 'error',
      name: e.name,
      message: e.message,
      ...(e.code !== undefined ? { code: tag(e.code) } : {}),
      ...(typeof e.index === 'number' ? { index: e.index, input: tag(e.input) } : {}),
    };
  }
  if (Array.isArray(v)) return v.map(tag);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = tag((v as Record<string, unknown>)[k]);
  if (Object.hasOwn(v, '$shoal')) return { $shoal: 'object', value: out };
  return out;
}

/**
 * One line (without the newline) for `v`. Never throws: a value that cannot be encoded (a cycle)
 * becomes an `unencodable` tag holding util.inspect's text.
 *
 * @example
 * encodeLine(10n) // '{"$shoal":"bigint","value":"10"}'
 */
export function encodeLine(v: unknown): string {
  try {
    return JSON.stringify(tag(v));
  } catch {
    return JSON.stringify({ $shoal: 'unencodable', inspect: inspect(v, { depth: 4 }) });
  }
}

function untag(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(untag);
  const t = v as Tagged;
  if (typeof t.$shoal === 'string') {
    switch (t.$shoal) {
      case 'undefined':
        return undefined;
      case 'number':
        return t.value === '-0' ? -0 : Number(t.value);
      case 'bigint':
        return BigInt(t.value as string);
      case 'date':
        return new Date(t.value as string);
      case 'map':
        return new Map((t.value as [unknown, unknown][]).map(([k, x]) => [untag(k), untag(x)]));
      case 'set':
        return new Set((t.value as unknown[]).map(untag));
      case 'bytes':
        return new Uint8Array(Buffer.from(t.base64 as string, 'base64'));
      case 'error':
        return Object.assign(new Error(t.message as string), {
          name: t.name,
          ...(t.code !== undefined ? { code: untag(t.code) } : {}),
          ...(typeof t.index === 'number' ? { index: t.index, input: untag(t.input) } : {}),
        });
      case 'object': {
        const o = t.value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(o)) out[k] = untag(o[k]);
        return out;
      }
      default:
        return t; // 'unencodable' and unknown tags stay as they are
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(t)) out[k] = untag(t[k]);
  return out;
}

/**
 * Parse one line written by encodeLine (or any JSON). Throws SyntaxError for a line that is not JSON.
 *
 * @example
 * decodeLine('{"$shoal":"bigint","value":"10"}') // 10n
 */
export function decodeLine(line: string): unknown {
  return untag(JSON.parse(line));
}
