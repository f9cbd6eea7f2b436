/**
 * The loader's latency recorder (src/harness/load/histogram.ts): counting latencies under
 * 65.5 ms in a flat array and adding them at the end gives the same HDR histogram as recording
 * every value into it, below, across and above that bound, clamped at both ends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  encodeHistogram,
  LatencyRecorder,
  latencyHistogram,
  mergeEncoded,
  summarize,
} from '../../src/harness/load/histogram.js';

/** A seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('load-histogram: the recorder gives the same histogram as recording each value', () => {
  const next = rng(24);
  const r = new LatencyRecorder();
  const direct = latencyHistogram();
  const values: number[] = [0, 0.0001, 0.0004, 0.0005, 2.047, 2.048, 4.095, 4.097, 65.535, 65.5355, 65.536, 70, 5e9];
  for (let i = 0; i < 20_000; i++) {
    // latencies of a loaded local server: mostly under 2 ms, a tail up to seconds
    const u = next();
    values.push(u < 0.6 ? next() * 2.1 : u < 0.95 ? next() * 80 : next() * 10_000);
  }
  for (const ms of values) {
    r.recordMs(ms);
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    else if (us > 3_600_000_000) us = 3_600_000_000;
    direct.recordValue(us);
  }
  const h = r.flush();
  assert.is(h.totalCount, direct.totalCount);
  assert.equal(summarize(h), summarize(direct));
  for (const q of [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]) {
    assert.is(h.getValueAtPercentile(q), direct.getValueAtPercentile(q), `p${q}`);
  }
  // and the same after the trip to the coordinator
  const merged = latencyHistogram();
  mergeEncoded(merged, encodeHistogram(h));
  const mergedDirect = latencyHistogram();
  mergeEncoded(mergedDirect, encodeHistogram(direct));
  assert.equal(summarize(merged), summarize(mergedDirect));
  r.destroy();
  for (const x of [direct, merged, mergedDirect]) x.destroy();
});

test('load-histogram: flush moves the flat counts once (a second flush adds nothing)', () => {
  const r = new LatencyRecorder();
  for (let i = 0; i < 100; i++) r.recordMs(0.5);
  r.recordMs(30);
  assert.is(r.flush().totalCount, 101);
  assert.is(r.flush().totalCount, 101);
  r.recordMs(0.25);
  const h = r.flush();
  assert.is(h.totalCount, 102);
  assert.is(h.minNonZeroValue, 250);
  assert.is(h.maxValue >= 30_000 && h.maxValue <= 30_100, true);
  r.destroy();
});

test.run();
