/**
 * The suite report: the text table (ratios between cases and against a baseline), the JSON file
 * a later run reads as its baseline, and the SVG chart.
 *
 * Runs on the main thread. Owns nothing; pure functions over a SuiteReport.
 */
import { fmtNs, type CaseStats } from './stats.js';

/** One case's outcome. */
export interface CaseReport {
  name: string;
  /** present when the case ran */
  stats?: CaseStats;
  async?: boolean;
  /** calls per sample */
  iterations?: number;
  /** present when the case (or its setup/teardown) threw, or its worker died */
  error?: { phase: string; message: string; stack?: string };
  /** median / fastest case's median (1 for the fastest) */
  ratioToFastest?: number;
  /**
   * against the baseline file, when given and it has this case. `regressed`: the median grew past
   * the threshold and so did the low end of its 95% CI; `noisy`: the median grew past it but the
   * CI reaches below (a busy machine's noise, not counted as a regression)
   */
  baseline?: { median: number; change: number; regressed: boolean; noisy?: boolean };
}

/** What `shoal bench --json out.json` writes, and what `--baseline` reads. */
export interface SuiteReport {
  suite: string;
  date: string;
  node: string;
  cores: number;
  /** 1-minute load average at the start: a busy machine skews every figure */
  loadAtStart: number;
  parallel: boolean;
  /** fraction: 0.05 is 5 % */
  threshold: number;
  cases: CaseReport[];
  /** names of the cases slower than their baseline by more than the threshold */
  regressions: string[];
}

/** Fill ratios to the fastest case and the baseline comparison in place. */
export function compare(r: SuiteReport, baseline: SuiteReport | undefined): void {
  const ok = r.cases.filter((c) => c.stats);
  const fastest = Math.min(...ok.map((c) => c.stats!.median));
  for (const c of ok) c.ratioToFastest = c.stats!.median / fastest;
  if (!baseline) return;
  const prev = new Map(baseline.cases.filter((c) => c.stats).map((c) => [c.name, c.stats!.median]));
  for (const c of ok) {
    const b = prev.get(c.name);
    if (b === undefined || !(b > 0)) continue;
    const change = (c.stats!.median - b) / b;
    // past the threshold for sure: the whole 95% CI of the new median, not only the median, so
    // that one noisy run (a busy CI machine) does not fail the build
    const past = change > r.threshold;
    const regressed = past && c.stats!.ciLow > b * (1 + r.threshold);
    c.baseline = { median: b, change, regressed, ...(past && !regressed ? { noisy: true } : {}) };
    if (regressed) r.regressions.push(c.name);
  }
}

/** The table printed after a run. */
export function formatSuiteTable(r: SuiteReport): string {
  const head = ['case', 'ops/s', 'median', '± MAD', 'p99', '95% CI of median', 'vs fastest', 'vs baseline'];
  const rows = r.cases.map((c) => {
    if (!c.stats) return [c.name, 'FAILED', `${c.error?.phase}: ${c.error?.message ?? ''}`, '', '', '', '', ''];
    const s = c.stats;
    // the change of the median time, said as users read it: slower or faster than the baseline
    const base = c.baseline
      ? `${Math.abs(c.baseline.change * 100).toFixed(1)}% ${c.baseline.change > 0 ? 'slower' : 'faster'}` +
        (c.baseline.regressed ? ' REGRESSED' : c.baseline.noisy ? ' (CI overlaps: noise?)' : '')
      : '';
    return [
      c.name + (c.async ? ' (async)' : ''),
      fmtOps(s.opsPerSec),
      fmtNs(s.median),
      fmtNs(s.mad),
      fmtNs(s.p99),
      `${fmtNs(s.ciLow)} .. ${fmtNs(s.ciHigh)}`,
      c.ratioToFastest === 1 ? 'fastest' : `${c.ratioToFastest!.toFixed(2)}x slower`,
      base,
    ];
  });
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = all.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const matrix = formatRatios(r);
  return lines.join('\n') + (matrix ? `\n\n${matrix}` : '');
}

/** Most cases for which the table of ratios between every pair is printed (it grows as n²). */
const RATIO_TABLE_MAX = 12;

/**
 * The ratios between every pair of cases that ran: the row's median time per call divided by the
 * column's (2.00x: the row case takes twice as long as the column case). Empty under two cases.
 *
 * @example
 * console.log(formatRatios(report));
 */
export function formatRatios(r: SuiteReport): string {
  const ok = r.cases.filter((c) => c.stats);
  if (ok.length < 2 || ok.length > RATIO_TABLE_MAX) return '';
  const rows = [
    ['time ratio (row / column)', ...ok.map((c) => c.name)],
    ...ok.map((a) => [
      a.name,
      ...ok.map((b) => (a === b ? '1' : `${(a.stats!.median / b.stats!.median).toFixed(2)}x`)),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function fmtOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

/** An SVG bar chart: one bar per case, its length the median time, the 95 % CI as a whisker, the
 *  baseline's median as a dashed mark. */
export function suiteChart(r: SuiteReport): string {
  const ok = r.cases.filter((c) => c.stats);
  const ROW = 24;
  const LABEL = 260;
  const PLOT = 460;
  const top = 52;
  const height = top + Math.max(1, r.cases.length) * ROW + 30;
  const maxNs = Math.max(1, ...ok.map((c) => Math.max(c.stats!.ciHigh, c.baseline?.median ?? 0)));
  const x = (ns: number): number => LABEL + (ns / maxNs) * PLOT;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL + PLOT + 170}" height="${height}" font-family="monospace" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(8, 18, `shoal bench ${r.suite}: median time per call (shorter is faster), 95% CI whiskers`, 'bold'),
    text(
      8,
      36,
      `${r.date.slice(0, 16)}  Node ${r.node}, ${r.cores} cores, load ${r.loadAtStart}${r.parallel ? ', PARALLEL' : ''}`,
    ),
  ];
  r.cases.forEach((c, i) => {
    const y = top + i * ROW;
    out.push(text(8, y + 15, clip(c.name, 34)));
    if (!c.stats) {
      out.push(text(LABEL, y + 15, `failed: ${clip(c.error?.message ?? '', 60)}`, 'normal', '#c00'));
      return;
    }
    const s = c.stats;
    const bad = c.baseline?.regressed;
    out.push(
      `<rect x="${LABEL}" y="${y + 4}" width="${Math.max(1, x(s.median) - LABEL).toFixed(1)}" height="${ROW - 8}" fill="${bad ? '#d63' : '#3a7'}"/>`,
    );
    out.push(
      `<line x1="${x(s.ciLow).toFixed(1)}" y1="${y + ROW / 2}" x2="${x(s.ciHigh).toFixed(1)}" y2="${y + ROW / 2}" stroke="#000"/>`,
    );
    if (c.baseline) {
      const bx = x(c.baseline.median).toFixed(1);
      out.push(`<line x1="${bx}" y1="${y + 1}" x2="${bx}" y2="${y + ROW - 1}" stroke="#000" stroke-dasharray="3,2"/>`);
    }
    out.push(text(LABEL + PLOT + 8, y + 15, `${fmtNs(s.median)}${bad ? ' REGRESSED' : ''}`));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function text(x: number, y: number, s: string, weight = 'normal', fill = '#000'): string {
  const esc = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<text x="${x}" y="${y}" font-weight="${weight}" fill="${fill}">${esc}</text>`;
}
