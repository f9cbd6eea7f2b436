/**
 * A live progress line for long runs: on a TTY, one line rewritten in place (at most ~10 times a
 * second); otherwise (CI logs, pipes) a plain line about once a second, so logs stay readable.
 *
 * Runs on the main thread. Owns its output stream's current line while active.
 */
import type { WriteStream } from 'node:tty';

export interface ProgressCounts {
  done: number;
  failed?: number;
  active?: number;
  total?: number;
}

/**
 * Progress reporter.
 *
 * @example
 * const p = new ProgressLine('hashing');
 * for await (const r of rt.map(items, url, 'work', { onProgress: (c) => p.update(c) })) {}
 * p.finish();
 */
export class ProgressLine {
  private readonly out: NodeJS.WriteStream;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly started = performance.now();
  private last = 0;
  private counts: ProgressCounts = { done: 0 };

  constructor(label: string, out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
    this.label = label;
    this.tty = Boolean((out as WriteStream).isTTY);
  }

  /** Record new counts; prints when enough time has passed since the last print. */
  update(c: ProgressCounts, extra = ''): void {
    this.counts = c;
    const now = performance.now();
    if (now - this.last < (this.tty ? 100 : 1000)) return;
    this.last = now;
    this.print(extra, false);
  }

  /** Erase the live line (TTY) so another message can be printed; the next update redraws it. */
  clear(): void {
    if (this.tty) this.out.write('\r\x1b[K');
  }

  /** Print the final line (and end the TTY line). */
  finish(extra = ''): void {
    this.print(extra, true);
  }

  private print(extra: string, final: boolean): void {
    const c = this.counts;
    const secs = (performance.now() - this.started) / 1000;
    const rate = secs > 0 ? c.done / secs : 0;
    const total = c.total !== undefined ? `/${c.total}` : '';
    const pct = c.total ? ` ${((100 * c.done) / c.total).toFixed(0).padStart(3)}%` : '';
    const parts = [
      `${this.label}${pct}`,
      `${c.done}${total} done`,
      c.active !== undefined ? `${c.active} active` : '',
      c.failed ? `${c.failed} failed` : '',
      `${rate.toFixed(0)}/s`,
      `${secs.toFixed(1)}s`,
      extra,
    ].filter(Boolean);
    const line = parts.join('  ');
    if (this.tty) this.out.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else this.out.write(line + '\n');
  }
}
