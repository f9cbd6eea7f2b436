/**
 * Statistics of one case's samples (ns per call): median, MAD, mean, p99, and a 95 % confidence
 * interval of the median from order statistics (distribution-free: samples of timings are skewed
 * and often multi-modal, so no normal approximation of the mean).
 *
 * Runs on the main thread. Owns nothing.
 */

/** Summary of one case, times in ns per call. */
export interface CaseStats {
  samples: number;
  median: number;
  /** median absolute deviation from the median */
  mad: number;
  mean: number;
  min: number;
  max: number;
  /** 99th percentile of the samples (each sample is the mean of one calibrated batch) */
  p99: number;
  /** 95 % confidence interval of the median */
  ciLow: number;
  ciHigh: number;
  /** calls per second at the median */
  opsPerSec: number;
}

/** Summarise samples (ns per call); at least one sample. */
export function caseStats(samplesNs: readonly number[]): CaseStats {
  const s = [...samplesNs].sort((a, b) => a - b);
  const n = s.length;
  const median = quantile(s, 0.5);
  const dev = s.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  // ranks of the median's 95 % interval: n/2 ± 1.96·√n/2 (binomial, normal approximation)
  const half = (1.96 * Math.sqrt(n)) / 2;
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return {
    samples: n,
    median,
    mad: quantile(dev, 0.5),
    mean: s.reduce((a, b) => a + b, 0) / n,
    min: s[0]!,
    max: s[n - 1]!,
    p99: quantile(s, 0.99),
    ciLow: s[lo]!,
    ciHigh: s[hi]!,
    opsPerSec: median > 0 ? 1e9 / median : Infinity,
  };
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
}

/** '5%' / '5' (percent) / '0.05' -> 0.05. */
export function parseThreshold(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === '%' || n >= 1 ? n / 100 : n;
}

/** A time in ns with a unit that keeps 3-4 significant digits. */
export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}
