/**
 * The shape every perf suite returns, so the harness can print one table and write one JSON file.
 */
export interface BenchResult {
  /** e.g. 'core-chan' */
  suite: string;
  /** e.g. 'put/take pairs, one thread' */
  case: string;
  /** e.g. 'ops/s', 'µs', 'B/task' */
  unit: string;
  /** shoal's median */
  shoal: number;
  /** what it is compared with, e.g. 'js-csp' */
  anchor: string;
  /** the anchor's median, measured in the same run */
  anchorValue: number;
  /** shoal / anchor when higherIsBetter, anchor / shoal otherwise: > 1 means shoal wins */
  ratio: number;
  higherIsBetter: boolean;
  /** the goal, e.g. '>= 10x' */
  goal?: string;
  /** CPU time per unit of work (per task, per value, per message), µs: shoal's median */
  shoalCpuUs?: number;
  /** the same for the anchor, measured in the same run */
  anchorCpuUs?: number;
  /** spread of shoal's samples over the rounds: [min, max] */
  spread?: [number, number];
  /** the same for the anchor's samples */
  anchorSpread?: [number, number];
}

/** [min, max] of a non-empty list: the spread over a suite's rounds. */
export function minMax(xs: readonly number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

/** Median of a non-empty list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Build a result, computing the ratio so that > 1 always means shoal is better. */
export function result(r: Omit<BenchResult, 'ratio'>): BenchResult {
  const ratio = r.higherIsBetter ? r.shoal / r.anchorValue : r.anchorValue / r.shoal;
  return { ...r, ratio };
}

/**
 * Print results as an aligned table: each median with its spread over the rounds [min-max] and
 * the CPU per unit of work beside it, where measured.
 */
export function printTable(results: readonly BenchResult[]): void {
  const cpu = (us: number | undefined): string => (us === undefined ? '' : ` (cpu ${fmt(us)} µs)`);
  const range = (s: [number, number] | undefined): string => (s === undefined ? '' : ` [${fmt(s[0])}-${fmt(s[1])}]`);
  const rows = results.map((r) => [
    r.suite,
    r.case,
    `${fmt(r.shoal)}${range(r.spread)} ${r.unit}${cpu(r.shoalCpuUs)}`,
    `${r.anchor}: ${fmt(r.anchorValue)}${range(r.anchorSpread)} ${r.unit}${cpu(r.anchorCpuUs)}`,
    `${r.ratio.toFixed(2)}x`,
    r.goal ?? '',
  ]);
  const head = ['suite', 'case', 'shoal (median)', 'anchor (median)', 'ratio', 'goal'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

/** CPU time this process (every thread) used since `from` (a process.cpuUsage() reading), µs. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

function fmt(n: number): string {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  if (n >= 100) return n.toFixed(0);
  return n.toFixed(2);
}
