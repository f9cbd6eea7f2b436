/**
 * Latency histograms of the load harness: HDR histograms (hdr-histogram-js) recording
 * microseconds, carried from the loader workers to the coordinator as compressed base64 and
 * merged there, so percentiles are exact to 3 significant digits across every worker.
 *
 * Runs on both sides: loader workers record and encode, the coordinator decodes and merges.
 * Owns nothing shared.
 */
import { createRequire } from 'node:module';
import type * as hdr from 'hdr-histogram-js';

// loaded on the first histogram: `import 'shoal'` should not pay for it (design.md, "Layers")
const requireCjs = createRequire(import.meta.url);
let lib: typeof hdr | undefined;
const hdrLib = (): typeof hdr => (lib ??= requireCjs('hdr-histogram-js') as typeof hdr);

/** One hour in µs: the largest latency recorded (larger values are clamped to it). */
const HIGHEST_US = 3_600_000_000;

/** A fresh latency histogram in µs (3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdrLib().build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/**
 * Latencies under this many µs (65.5 ms) are counted in a flat array, one slot per µs, and added
 * into the histogram by `flush()` with their counts: each value lands in the bucket it would have
 * landed in when recorded directly, so the histogram is the same.
 */
const FLAT_US = 65_536;

/**
 * A loader's latency recording: one array increment per response for latencies under 65.5 ms
 * (hdr-histogram-js's `recordValue` costs ~90 ns a call, its bucket index taking a `Math.log2`
 * and a `Math.pow`), the HDR histogram for the rest. `flush()` adds the flat counts into the
 * histogram and returns it: the same histogram as recording every value into it directly.
 *
 * @example
 * const r = new LatencyRecorder();
 * r.recordMs(0.25);
 * const encoded = encodeHistogram(r.flush());
 */
export class LatencyRecorder {
  private readonly hist = latencyHistogram();
  /** counts by µs (float64: exact past 2^32 responses) */
  private readonly low = new Float64Array(FLAT_US);

  /** Record one latency given in ms (fractional): µs, clamped to 1 µs..1 h. */
  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    if (us < FLAT_US) this.low[us]!++;
    else this.hist.recordValue(Math.min(us, HIGHEST_US));
  }

  /** The histogram of everything recorded so far (the flat counts move into it). */
  flush(): hdr.Histogram {
    const low = this.low;
    for (let us = 1; us < FLAT_US; us++) {
      if (low[us]! > 0) this.hist.recordValueWithCount(us, low[us]!);
    }
    low.fill(0);
    return this.hist;
  }

  /** Free the histogram (hdr-histogram-js's `destroy`). */
  destroy(): void {
    this.hist.destroy();
  }
}

/** Encode for the trip to the coordinator. */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdrLib().encodeIntoCompressedBase64(h);
}

/** Decode a histogram encoded by `encodeHistogram` and add it into `into`. */
export function mergeEncoded(into: hdr.Histogram, encoded: string): void {
  const h = hdrLib().decodeFromCompressedBase64(encoded, 32, false);
  into.add(h);
  h.destroy();
}

/** The latency summary of the JSON output: ms, rounded to µs. */
export interface LatencySummary {
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

/** Summarise `h` (µs) in ms. An empty histogram gives zeros. */
export function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.totalCount === 0)
    return { min: 0, mean: 0, stdev: 0, p50: 0, p75: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  return {
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p75: ms(h.getValueAtPercentile(75)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    p9999: ms(h.getValueAtPercentile(99.99)),
    max: ms(h.maxValue),
  };
}

export type { Histogram } from 'hdr-histogram-js';
