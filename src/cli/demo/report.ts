/**
 * The demo's shared reporting: a scene's result rows, the summary table, one-line verdicts built
 * from the figures, and the machine-busy check (load above the cores skews every ratio).
 *
 * Runs on the main thread of the CLI process. Owns nothing.
 */
import { availableParallelism, loadavg } from 'node:os';

/** One measured line of a scene: shoal against the tool a user would otherwise pick. */
export interface Row {
  scene: string;
  /** what was measured, e.g. 'fine jobs, steady' */
  case: string;
  /** the unit of `shoal` and `other`, e.g. 'jobs/s' */
  unit: string;
  shoal: number;
  /** the anchor's name, e.g. 'piscina' */
  anchor: string;
  other: number;
  /** true when a lower figure is better (latency), false for rates */
  lowerIsBetter?: boolean;
}

/** shoal's advantage on a row: above 1 means shoal did better, whatever the unit's direction. */
export function advantage(r: Row): number {
  if (r.shoal <= 0 || r.other <= 0) return Number.NaN;
  return r.lowerIsBetter ? r.other / r.shoal : r.shoal / r.other;
}

/** A verdict sentence computed from a row's figures, never a canned claim. */
export function verdict(r: Row): string {
  const a = advantage(r);
  if (!Number.isFinite(a)) return `${r.case}: no comparison (a side measured nothing)`;
  const how = r.lowerIsBetter ? 'lower' : 'faster';
  if (a >= 1.1) return `${r.case}: shoal ${a.toFixed(2)}x ${how} than ${r.anchor}`;
  if (a > 0.9) return `${r.case}: shoal level with ${r.anchor} (${a.toFixed(2)}x): no win here`;
  return `${r.case}: shoal slower than ${r.anchor} (${a.toFixed(2)}x): ${r.anchor} wins this one`;
}

/** Format a figure for the table (3 significant digits, k/M suffixes for big rates). */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return n >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

/** Print the summary table: every row with both figures and shoal's advantage. */
export function printSummary(rows: Row[], out: (s: string) => void = console.log): void {
  const table = [
    ['scene', 'case', 'shoal', 'other', 'vs', 'shoal advantage'],
    ...rows.map((r) => [
      r.scene,
      r.case,
      `${fmt(r.shoal)} ${r.unit}`,
      `${fmt(r.other)} ${r.unit}`,
      r.anchor,
      Number.isFinite(advantage(r)) ? `${advantage(r).toFixed(2)}x` : '-',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  out('');
  for (const [k, row] of table.entries()) {
    out(`  ${row.map((c, i) => (i >= 2 && i !== 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`);
    if (k === 0) out(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  }
}

/** The 1-minute load against the cores: above 1, other work competes with the demo. */
export function busyness(): { load: number; cores: number; busy: boolean } {
  const cores = availableParallelism();
  const load = loadavg()[0]!;
  return { load, cores, busy: load > cores };
}

/** The sentence the summary prints when the machine was busy before or during the run. */
export function busyNote(before: number, after: number, cores: number): string | undefined {
  const worst = Math.max(before, after);
  if (worst <= cores) return undefined;
  return (
    `note: this machine was busy (load ${worst.toFixed(1)} on ${cores} cores): other programs took CPU from both ` +
    'sides, so multi-core speed-ups shrink and the ratios above understate what an idle machine shows; run again when it is quiet.'
  );
}
