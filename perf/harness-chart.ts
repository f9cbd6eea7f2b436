/**
 * The harness's SVG chart: one horizontal bar per result, its length the ratio shoal/anchor on a
 * log scale centred on 1x (right of the line: shoal wins), with the goal marked when there is one.
 *
 * Runs wherever the harness runs. Owns nothing; pure string building, no dependencies.
 */
import type { RunRecord } from './harness.js';

const ROW = 22;
const LABEL_W = 470;
const PLOT_W = 420;
const MIN_LOG = -2; // 0.01x
const MAX_LOG = 2; // 100x

/** Render the record's ratios as an SVG document. */
export function ratioChart(rec: RunRecord): string {
  const rs = rec.results;
  const top = 56;
  const height = top + rs.length * ROW + 40;
  const width = LABEL_W + PLOT_W + 90;
  const x = (ratio: number): number => {
    const l = Math.min(MAX_LOG, Math.max(MIN_LOG, Math.log10(Math.max(ratio, 1e-9))));
    return LABEL_W + ((l - MIN_LOG) / (MAX_LOG - MIN_LOG)) * PLOT_W;
  };
  const m = rec.machine;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    text(
      8,
      18,
      `shoal bench ${rec.date.slice(0, 16)}${rec.quick ? ' (quick)' : ''}: ratio shoal / anchor, > 1 means shoal is better`,
      'bold',
    ),
  );
  out.push(
    text(8, 36, `${m.host}: ${m.cores} cores, ${m.cpu}, Node ${m.node}, ${m.os}, load ${m.loadAtStart} at start`),
  );
  for (const tick of [0.01, 0.1, 1, 10, 100]) {
    const tx = x(tick);
    out.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${top + rs.length * ROW}" stroke="${tick === 1 ? '#333' : '#ddd'}"/>`,
    );
    out.push(text(tx - 10, top + rs.length * ROW + 16, `${tick}x`));
  }
  rs.forEach((r, i) => {
    const y = top + i * ROW;
    const x0 = x(1);
    const x1 = x(r.ratio);
    const goal = parseGoal(r.goal);
    const met = goal === undefined ? r.ratio >= 1 : r.ratio >= goal;
    out.push(text(8, y + 14, clip(`${r.suite}: ${r.case} vs ${r.anchor}`, 64)));
    out.push(
      `<rect x="${Math.min(x0, x1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${ROW - 8}" fill="${met ? '#3a7' : '#d63'}"/>`,
    );
    if (goal !== undefined)
      out.push(
        `<line x1="${x(goal)}" y1="${y + 1}" x2="${x(goal)}" y2="${y + ROW - 3}" stroke="#000" stroke-dasharray="2,2"/>`,
      );
    out.push(text(LABEL_W + PLOT_W + 6, y + 14, `${r.ratio.toFixed(2)}x`));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** '>= 20x' -> 20, '>= 5x (<= 1/5)' -> 5; undefined when there is no numeric goal. */
function parseGoal(goal: string | undefined): number | undefined {
  const m = goal ? />=\s*([\d.]+)x/.exec(goal) : null;
  return m ? Number(m[1]) : undefined;
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function text(x: number, y: number, s: string, weight = 'normal'): string {
  const esc = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<text x="${x}" y="${y}" font-weight="${weight}">${esc}</text>`;
}
