/**
 * Small text helpers shared by the REPL views and `shoal top`: column tables, ages, byte counts,
 * and cutting text to a bound.
 *
 * Runs on any thread (the service's main thread and the CLI). Owns nothing.
 */

/** `1.2ms`, `3.4s`, `5m07s`, `2h03m`. */
export function fmtAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `512B`, `3.2KiB`, `1.5MiB`, `2.0GiB`. */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (Math.abs(n) >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${n.toFixed(1)}${units[u]}`;
}

/** A rate per second, short: `0`, `12`, `3.4k`, `1.2M`. */
export function fmtRate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0';
  if (n < 10) return n.toFixed(1);
  if (n < 1000) return n.toFixed(0);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/**
 * Left-aligned columns (numbers right-aligned), one line per row, the header first.
 *
 * @example
 * table(['id', 'name'], [[1, 'a']]); // 'id  name\n 1  a'
 */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header.map(String), ...rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)))];
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => {
          const last = i === r.length - 1;
          if (right[i]) return c.padStart(widths[i] ?? 0);
          return last ? c : c.padEnd(widths[i] ?? 0);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(Math.abs(n) < 10 ? 2 : 1);
}

/**
 * Cut `text` to at most `max` UTF-16 units, saying how much was cut.
 *
 * @example
 * clip('x'.repeat(100), 10); // 'xxxxxxxxxx\n… 90 more characters cut (output bound)'
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… ${text.length - max} more characters cut (output bound)`;
}

/** Cut to `width` columns (terminal cells; the text is ASCII apart from a few symbols). */
export function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}
