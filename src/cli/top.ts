/**
 * `shoal top HOST:PORT --token T`: a live view of a running runtime (workers with load, loop delay
 * and parks; the longest-running tasks; agents by mailbox depth; servers with connections and
 * rates), redrawn every second until `q` (or Ctrl-C).
 *
 * Its data comes over the runtime's REPL (`rt.repl()`): the same token, and one `.json top` line
 * per refresh (src/inspect/wire.ts). With `--once`, or when stdout is not a terminal, it prints one
 * frame and exits.
 *
 * Runs on the main thread of the CLI process. Owns the REPL connection and the terminal modes it
 * sets (alternate screen, hidden cursor, raw input), which it restores on every way out.
 */
import { connectRepl, ReplQuery } from '../inspect/repl-client.js';
import { renderTop } from '../inspect/top-view.js';
import type { TopFrame } from '../inspect/views.js';
import { replTarget } from './repl.js';
import { UsageError } from './usage.js';

function usage(message: string): Error {
  return new UsageError(message, 'top');
}

export const help = `usage: shoal top HOST:PORT --token T [options]

A live view of a running runtime (over its rt.repl() port), refreshed every second: workers with
load, loop delay and parks; the longest-running and oldest tasks; agents by mailbox depth; servers
with connections and request rates. q quits.

options:
  --token T            the token rt.repl() printed (or set SHOAL_REPL_TOKEN)
  --interval MS        refresh period (100 .. 60000, default 1000)
  --once               print one frame and exit (also when stdout is not a terminal)
  -h, --help           this text`;

/**
 * Parse `args` (after the word `top`), connect, show the view, and resolve with the exit code.
 *
 * @example
 * process.exitCode = await topMain(['127.0.0.1:7070', '--token', token]);
 */
export async function topMain(args: string[]): Promise<number> {
  const { host, port, token, values } = replTarget(args, { once: { type: 'boolean' }, interval: { type: 'string' } });
  const interval = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isInteger(interval) || interval < 100 || interval > 60_000)
    throw usage(`--interval must be an integer number of ms in [100, 60000], got '${String(values.interval)}'`);
  let q: ReplQuery;
  try {
    q = new ReplQuery(await connectRepl({ host, port, token }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.error(`shoal top: ${err.code === 'ERR_SHOAL_REPL_REFUSED' ? 'refused: ' : ''}${err.message}`);
    return 1;
  }
  const out = process.stdout;
  const tty = out.isTTY === true && process.stdin.isTTY === true;
  if (values.once || !tty) {
    try {
      const frame = (await q.view('top')) as TopFrame;
      out.write(`${renderTop(frame, undefined, { host, port }, out.columns || 160, out.rows || 60).join('\n')}\n`);
      return 0;
    } catch (e) {
      console.error(`shoal top: ${(e as Error).message}`);
      return 1;
    } finally {
      q.close();
    }
  }
  return live(q, { host, port }, interval);
}

function live(q: ReplQuery, target: { host: string; port: number }, interval: number): Promise<number> {
  const out = process.stdout;
  const stdin = process.stdin;
  let prev: TopFrame | undefined;
  let last: TopFrame | undefined;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const draw = (): void => {
    if (!last || done) return;
    const lines = renderTop(last, prev, target, out.columns || 80, out.rows || 24);
    out.write(`\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`);
  };
  return new Promise<number>((resolve) => {
    const finish = (code: number, message?: string): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      out.off('resize', draw);
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
      out.write('\x1b[?25h\x1b[?1049l'); // show the cursor, leave the alternate screen
      if (message) console.error(message);
      q.close();
      resolve(code);
    };
    const onKey = (b: Buffer): void => {
      const k = b.toString('utf8');
      if (k === 'q' || k === 'Q' || k === '\x03' || k === '\x04') finish(0);
    };
    const tick = (): void => {
      q.view('top').then(
        (f) => {
          if (done) return;
          prev = last;
          last = f as TopFrame;
          draw();
          timer = setTimeout(tick, interval);
        },
        (e: Error) => finish(1, `shoal top: ${e.message}`),
      );
    };
    out.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J'); // alternate screen, hide the cursor
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
    out.on('resize', draw);
    tick();
  });
}

/** The command-table entry point (src/cli/main.ts). */
export const main = topMain;
