/**
 * The suite statistics and the option parsers of the harness: median, MAD, the median's
 * confidence interval, thresholds and durations as users write them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { caseStats, parseThreshold } from '../../src/harness/bench/stats.js';
import { compare, type SuiteReport } from '../../src/harness/bench/report.js';
import { parseDuration } from '../../src/cli/load.js';

test('median, MAD and extremes of samples', () => {
  const s = caseStats([5, 1, 3, 2, 4]);
  assert.is(s.median, 3);
  assert.is(s.mad, 1);
  assert.is(s.min, 1);
  assert.is(s.max, 5);
  assert.is(s.mean, 3);
  assert.is(s.opsPerSec, 1e9 / 3);
});

test('the 95% CI of the median brackets the median and narrows with more samples', () => {
  const few = caseStats(Array.from({ length: 20 }, (_, i) => 100 + i));
  const many = caseStats(Array.from({ length: 2000 }, (_, i) => 100 + (i % 20)));
  for (const s of [few, many]) assert.ok(s.ciLow <= s.median && s.median <= s.ciHigh);
  assert.ok(few.ciHigh - few.ciLow > 0);
  assert.ok(many.ciHigh - many.ciLow <= few.ciHigh - few.ciLow);
});

test('thresholds: 5% and 5 are percent, 0.05 is a fraction', () => {
  assert.is(parseThreshold('5%'), 0.05);
  assert.is(parseThreshold('5'), 0.05);
  assert.is(parseThreshold('0.05'), 0.05);
  assert.ok(Number.isNaN(parseThreshold('lots')));
});

/** A suite report with one case per entry, its stats from the given samples. */
function report(cases: Record<string, number[]>, threshold = 0.05): SuiteReport {
  return {
    suite: 's',
    date: '',
    node: '',
    cores: 2,
    loadAtStart: 0,
    parallel: false,
    threshold,
    regressions: [],
    cases: Object.entries(cases).map(([name, samples]) => ({ name, stats: caseStats(samples) })),
  };
}

test('a case slower than its baseline by more than the threshold is a regression; ratios to the fastest', () => {
  const now = report({ a: [110], b: [200], c: [50] });
  compare(now, report({ a: [100], b: [195], d: [1] }));
  assert.equal(now.regressions, ['a']);
  assert.is(now.cases[0]!.baseline!.regressed, true);
  assert.is(now.cases[1]!.baseline!.regressed, false);
  assert.is(now.cases[2]!.baseline, undefined);
  assert.is(now.cases[2]!.ratioToFastest, 1);
  assert.is(now.cases[1]!.ratioToFastest, 4);
});

test('a median past the threshold whose 95% CI reaches below it is noise, not a regression', () => {
  // medians 500 against 100: 'wide' has samples down at 50 (its CI reaches below 105), 'tight' not
  const now = report({ wide: [50, 60, 500, 600, 700], tight: [480, 490, 500, 510, 520] });
  compare(now, report({ wide: [100], tight: [100] }));
  assert.equal(now.regressions, ['tight']);
  assert.equal(now.cases[0]!.baseline, { median: 100, change: 4, regressed: false, noisy: true });
  assert.is(now.cases[1]!.baseline!.regressed, true);
});

test('durations: seconds by default, ms and m suffixes; junk is refused by name', () => {
  assert.is(parseDuration('10', 'duration'), 10_000);
  assert.is(parseDuration('2.5s', 'duration'), 2500);
  assert.is(parseDuration('500ms', 'duration'), 500);
  assert.is(parseDuration('2m', 'duration'), 120_000);
  assert.throws(() => parseDuration('soon', 'duration'), /--duration must be a duration/);
});

test.run();
