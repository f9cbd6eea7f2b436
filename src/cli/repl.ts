/**
 * `shoal repl HOST:PORT --token T`: connect to a running runtime's REPL (`rt.repl()`).
 *
 * On a terminal: line editing and history (node:readline; history kept in ~/.shoal_repl_history,
 * or the file SHOAL_REPL_HISTORY names, '' for none), Ctrl-C interrupts the running line (twice on
 * an empty line exits), Ctrl-D exits. Piped: stdin lines go to the REPL, its output to stdout
 * without prompts, and the command exits when the REPL has answered everything.
 *
 * Runs on the main thread of the CLI process. Owns the socket, the readline interface and the
 * history file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import { parseHostPort } from '../inspect/errors.js';
import { connectRepl, type ReplConnection } from '../inspect/repl-client.js';
import { CONTINUE_PROMPT, INTERRUPT, PROMPT } from '../inspect/wire.js';
import { setting } from '../config.js';
import { UsageError } from './usage.js';

const HISTORY_SIZE = 1000;
/** Prompts at the start of a line (one per line the REPL answered without output). */
const PROMPT_RUN = new RegExp(`^(?:${[PROMPT, CONTINUE_PROMPT].map(escapeRe).join('|')})+`);

function usage(message: string): Error {
  return new UsageError(message, 'repl');
}

export const help = `usage: shoal repl HOST:PORT --token T

Connect to a running runtime's REPL (started in that program with rt.repl(), which prints its
port and token). node:repl with \`rt\` in scope and top-level await; commands .tasks, .agents,
.channels, .conns, .stats. Line editing and history (~/.shoal_repl_history) on a terminal; piped
input is evaluated line by line and the answers printed.

options:
  --token T            the token rt.repl() printed (or set SHOAL_REPL_TOKEN)
  -h, --help           this text`;

/** HOST:PORT and the token from the command line (or SHOAL_REPL_TOKEN). Shared with `shoal top`. */
export function replTarget(
  args: string[],
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): { host: string; port: number; token: string; values: Record<string, string | boolean | undefined> } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { token: { type: 'string' }, ...extra },
  });
  if (positionals.length !== 1) throw usage('expected one HOST:PORT (e.g. 127.0.0.1:7070)');
  let target: { host: string; port: number };
  try {
    target = parseHostPort(positionals[0] ?? '');
  } catch (e) {
    throw usage((e as Error).message);
  }
  const token = (values.token as string | undefined) ?? (setting('replToken') || undefined);
  if (!token) throw usage('a token is required: --token T (or SHOAL_REPL_TOKEN); rt.repl() printed it');
  return { ...target, token, values: values as Record<string, string | boolean | undefined> };
}

/**
 * Parse `args` (after the word `repl`), connect, and resolve with the exit code once the session
 * ends.
 *
 * @example
 * process.exitCode = await replMain(['127.0.0.1:7070', '--token', token]);
 */
export async function replMain(args: string[]): Promise<number> {
  const { host, port, token } = replTarget(args);
  let conn: ReplConnection;
  try {
    conn = await connectRepl({ host, port, token });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.error(`shoal repl: ${err.code === 'ERR_SHOAL_REPL_REFUSED' ? 'refused: ' : ''}${err.message}`);
    return 1;
  }
  return process.stdin.isTTY && process.stdout.isTTY ? interactive(conn) : piped(conn);
}

/** Not a terminal: stdin to the socket, output (without prompts) to stdout. */
function piped(conn: ReplConnection): Promise<number> {
  const { socket } = conn;
  const decoder = new StringDecoder('utf8');
  // whole lines only, each without the prompts in front of it; the last prompt is never printed
  let partial = '';
  const emit = (s: string, final: boolean): void => {
    const lines = (partial + s).split('\n');
    partial = final ? '' : (lines.pop() ?? '');
    if (final && lines.at(-1) === '') lines.pop();
    const text = lines.map((l) => l.replace(PROMPT_RUN, '')).join('\n');
    if (lines.length > 0 && !(final && text === '')) process.stdout.write(`${text}\n`);
  };
  emit(conn.rest, false);
  socket.on('data', (b: Buffer) => emit(decoder.write(b), false));
  process.stdin.pipe(socket);
  return new Promise((resolve) => {
    socket.on('error', (e) => console.error(`shoal repl: ${e.message}`));
    socket.on('close', () => {
      if (partial.replace(PROMPT_RUN, '') !== '') emit('', true);
      process.stdin.unpipe(socket);
      process.stdin.pause();
      resolve(0);
    });
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function historyFile(): string | undefined {
  const file = setting('replHistory'); // SHOAL_REPL_HISTORY
  if (file === 'off') return undefined;
  return file.startsWith('~/') ? join(homedir(), file.slice(2)) : file;
}

function loadHistory(file: string | undefined): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** A terminal: readline with history; the server's prompt becomes readline's prompt. */
function interactive(conn: ReplConnection): Promise<number> {
  const { socket } = conn;
  const out = process.stdout;
  const file = historyFile();
  const rl: Interface = createInterface({
    input: process.stdin,
    output: out,
    terminal: true,
    history: loadHistory(file),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: '',
  });
  out.write(`${conn.banner}\n`);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let prompting = false;
  let flushTimer: NodeJS.Timeout | undefined;

  /** Print server output; a trailing prompt becomes readline's prompt. */
  const show = (final: boolean): void => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    let text = pending;
    pending = '';
    let prompt: string | undefined;
    for (const p of [PROMPT, CONTINUE_PROMPT]) {
      if (text.endsWith(p)) {
        prompt = p;
        text = text.slice(0, -p.length);
        break;
      }
    }
    if (prompt === undefined && !final) {
      // hold back what may be the start of a prompt split across two reads
      let n = 0;
      for (let k = Math.min(PROMPT.length - 1, text.length); k > 0 && n === 0; k--)
        if (PROMPT.startsWith(text.slice(-k))) n = k;
      if (n > 0) {
        pending = text.slice(-n);
        text = text.slice(0, -n);
        flushTimer = setTimeout(() => show(true), 50);
      }
    }
    if (text) {
      if (prompting) {
        out.write('\r\x1b[K'); // output while the user types: clear the line, print, redraw below
        out.write(text);
        rl.prompt(true);
      } else out.write(text);
    }
    if (prompt !== undefined) {
      prompting = true;
      rl.setPrompt(prompt);
      rl.prompt();
    }
  };
  pending = conn.rest;
  show(false);
  socket.on('data', (b: Buffer) => {
    pending += decoder.write(b);
    show(false);
  });
  rl.on('line', (line) => {
    prompting = false;
    socket.write(`${line}\n`);
  });
  rl.on('SIGINT', () => {
    // like node: the server clears the line, or interrupts a pending await; twice on empty exits
    if (prompting) {
      rl.write(null, { ctrl: true, name: 'u' }); // drop the typed line
      out.write('\n');
    }
    prompting = false;
    socket.write(`${INTERRUPT}\n`);
  });
  rl.on('close', () => socket.end()); // Ctrl-D
  return new Promise((resolve) => {
    let code = 0;
    socket.on('error', (e) => {
      out.write(`\nshoal repl: ${e.message}\n`);
      code = 1;
    });
    socket.on('close', () => {
      show(true);
      const h = (rl as unknown as { history?: string[] }).history ?? [];
      rl.close();
      if (file) {
        try {
          writeFileSync(file, `${[...h].reverse().join('\n')}\n`, { mode: 0o600 });
        } catch {
          // history is a convenience: an unwritable home is not an error
        }
      }
      resolve(code);
    });
  });
}

/** The command-table entry point (src/cli/main.ts). */
export const main = replMain;
