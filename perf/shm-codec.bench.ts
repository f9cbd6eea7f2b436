/**
 * Benchmark: the value codec (src/codec/index.ts) against the ways Node can carry a value between
 * threads — v8.serialize+deserialize (what postMessage does), structuredClone, and
 * JSON.stringify+parse (the floor for JSON shapes). One encode+decode round trip per value,
 * in µs (lower is better), median of the rounds, shoal and each anchor alternating in one run.
 *
 * Runs on the main thread, one process. Owns nothing. Run: `node dist/perf/shm-codec.bench.js`
 * (`--quick` for a short run).
 */
import { availableParallelism } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { decode, encode, encodeInto } from '../src/codec/index.js';
import { type BenchResult, median, printTable, result } from './bench-types.js';

const SUITE = 'shm-codec';

interface Case {
  name: string;
  value: (i: number) => unknown;
  /** JSON cannot carry bytes; those cases skip the JSON anchor. */
  json: boolean;
}

const nested = (i: number): unknown => ({
  id: i,
  name: 'widget',
  price: 12.5,
  inStock: true,
  tags: ['a', 'b', 'c'],
  owner: { id: 7, name: 'Ada Lovelace', email: 'ada@example.com' },
  dims: { w: 10, h: 20, d: 30 },
  created: '2026-11-22T00:00:00Z',
  rating: 4.7,
  count: 1000,
  flags: [true, false],
  note: null,
  sku: 'SKU-0001',
  color: 'red',
  size: 'M',
  weight: 0.25,
  region: 'eu-west',
  version: 3,
  active: false,
  score: -17,
});

const CASES: Case[] = [
  { name: "small [i,'abc',{a:1}]", value: (i) => [i, 'abc', { a: 1 }], json: true },
  { name: 'string 1 KiB', value: () => STR_1K, json: true },
  { name: 'Uint8Array 64 KiB', value: () => BYTES_64K, json: false },
  { name: 'nested object, 20 keys', value: nested, json: true },
];
const STR_1K = 'abcdefghijklmnopqrstuvwxyz012345'.repeat(32);
const BYTES_64K = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);

type RoundTrip = (v: unknown) => unknown;

const RING = new Uint8Array(new SharedArrayBuffer(256 * 1024));
const shoal: RoundTrip = (v) => {
  const b = encode(v);
  return decode(b, 0, b.length);
};
/** The ring path: encode straight into shared memory, decode straight out of it. */
const shoalSab: RoundTrip = (v) => {
  const n = encodeInto(v, RING, 64);
  return decode(RING, 64, n);
};
const ANCHORS: Record<string, RoundTrip> = {
  'v8.serialize': (v) => deserialize(serialize(v)),
  structuredClone: (v) => structuredClone(v),
  JSON: (v) => JSON.parse(JSON.stringify(v)),
};

/** µs per round trip over `iters` values (different `i` each, so no call sees a constant). */
function time(fn: RoundTrip, c: Case, iters: number): number {
  const values = Array.from({ length: 64 }, (_, i) => c.value(i));
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) sink += fn(values[i & 63]) === undefined ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return ns / 1000 / iters;
}

/** Run the suite; returns one result per (case, anchor), shoal's ratio > 1 means shoal is faster. */
export async function run(opts?: { quick?: boolean }): Promise<BenchResult[]> {
  const rounds = opts?.quick ? 5 : 9;
  const budgetNs = opts?.quick ? 20e6 : 100e6; // per contender per round
  const out: BenchResult[] = [];
  for (const c of CASES) {
    const contenders: Record<string, RoundTrip> = { shoal, 'shoal SAB': shoalSab };
    for (const [k, f] of Object.entries(ANCHORS)) if (c.json || k !== 'JSON') contenders[k] = f;
    // Size each contender's loop to ~budget, after a warm-up that also lets the JIT settle.
    const iters: Record<string, number> = {};
    for (const [k, f] of Object.entries(contenders)) {
      time(f, c, 2000);
      const us = time(f, c, 2000);
      iters[k] = Math.max(200, Math.floor(budgetNs / 1000 / Math.max(us, 0.01)));
    }
    const samples: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [k, f] of Object.entries(contenders)) (samples[k] ??= []).push(time(f, c, iters[k]!));
    }
    const s = median(samples.shoal!);
    const sSab = median(samples['shoal SAB']!);
    for (const anchor of Object.keys(ANCHORS)) {
      if (!samples[anchor]) continue;
      const goal = anchor === 'JSON' ? '>= 1x' : undefined;
      const a = median(samples[anchor]!);
      out.push(
        result({
          suite: SUITE,
          case: c.name,
          unit: 'µs',
          shoal: s,
          anchor,
          anchorValue: a,
          higherIsBetter: false,
          ...(goal ? { goal } : {}),
        }),
      );
    }
    out.push(
      result({
        suite: SUITE,
        case: `${c.name}, via SAB`,
        unit: 'µs',
        shoal: sSab,
        anchor: 'v8.serialize',
        anchorValue: median(samples['v8.serialize']!),
        higherIsBetter: false,
      }),
    );
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`shm-codec: encode+decode round trip, ${availableParallelism()} cores, Node ${process.version}`);
  printTable(await run({ quick: process.argv.includes('--quick') }));
}
