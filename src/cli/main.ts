/**
 * The `shoal` command (bin/shoal.js loads this file): a table of commands, one row each, and the
 * dispatch. A command lives in its own file under src/cli/ exporting `help` (its --help text) and
 * `main(args)` (resolving with the exit code); adding one is adding a row below.
 *
 * Conventions: `shoal <cmd> --help` prints the command's help and exits 0; a usage error is one
 * line on stderr with a hint and exit code 2; `shoal --version` prints the version.
 *
 * Runs on the main thread of the CLI process. Owns argument dispatch and the exit code.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { hint, UsageError } from './usage.js';

/** What a command file exports. */
export interface CommandModule {
  help: string;
  main(args: string[]): Promise<number>;
}

/** One row of the command table. */
export interface Command {
  name: string;
  /** one line for `shoal --help` */
  summary: string;
  load(): Promise<CommandModule>;
  /** false hides the command (e.g. it needs a source checkout) */
  available?(): boolean;
}

export const COMMANDS: Command[] = [
  {
    name: 'demo',
    summary: 'the main job: one scene per user (tasks, http, agents) against the tool it replaces',
    load: () => import('./demo.js'),
  },
  {
    name: 'run',
    summary: 'call an export for every input with bounded concurrency and a progress line',
    load: () => import('./run.js'),
  },
  {
    name: 'serve',
    summary: 'serve an HTTP (fetch or node-style) or TCP handler module on the worker pool',
    load: () => import('./serve.js'),
  },
  {
    name: 'bench',
    summary: "a benchmark suite, each case isolated in its own worker (--self: shoal's own suites)",
    load: () => import('./bench.js'),
  },
  {
    name: 'load',
    summary: 'HTTP/1.1 or tcp:// load from every core, HDR percentiles',
    load: () => import('./load.js'),
  },
  {
    name: 'repl',
    summary: "connect to a running runtime's REPL (rt.repl()): shoal repl HOST:PORT --token T",
    load: () => import('./repl.js'),
  },
  {
    name: 'top',
    summary: 'a live view of a running runtime: shoal top HOST:PORT --token T (q quits)',
    load: () => import('./top.js'),
  },
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function overview(): string {
  const shown = COMMANDS.filter((c) => c.available?.() ?? true);
  const width = Math.max(...shown.map((c) => c.name.length)) + 2;
  return `usage: shoal <command> [options]

commands:
${shown.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

  shoal <command> --help   a command's options
  shoal --version          the version (${version()})
`;
}

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

/**
 * Dispatch `argv` (without node and the script); resolves with the exit code.
 *
 * @example
 * process.exitCode = await cli(['run', './tasks.mjs', 'fib', '--range', '30']);
 */
export async function cli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    process.stderr.write(overview());
    return 2;
  }
  if (isHelp(cmd) || cmd === 'help') {
    const topic = rest[0] !== undefined ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(topic ? `${(await topic.load()).help}\n` : overview());
    return 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === cmd);
  if (!command) {
    const known = COMMANDS.filter((c) => c.available?.() ?? true).map((c) => c.name);
    throw new UsageError(
      cmd.startsWith('-') ? `unknown option '${cmd}'` : `unknown command '${cmd}' (commands: ${known.join(', ')})`,
    );
  }
  const mod = await command.load();
  if (rest.some(isHelp)) {
    process.stdout.write(`${mod.help}\n`);
    return 0;
  }
  return mod.main(rest);
}

/** Print a failure as the CLI does: usage errors as one line and a hint (exit 2), others in full (1). */
export function report(e: unknown): number {
  if (e instanceof UsageError) {
    const who = e.command ? `shoal ${e.command}` : 'shoal';
    console.error(`${who}: ${e.message} (${hint(e.command)})`);
    return 2;
  }
  console.error(e);
  return 1;
}

/**
 * Run the CLI on `argv` and set the process exit code (what bin/shoal.js calls).
 *
 * @example
 * start(['--version']);
 */
export function start(argv: string[] = process.argv.slice(2)): void {
  cli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = report(e);
    },
  );
}

// `node dist/src/cli/main.js ...` works too
if (process.argv[1] !== undefined && isEntry(process.argv[1])) start();

function isEntry(path: string): boolean {
  try {
    return pathToFileURL(realpathSync(path)).href === import.meta.url;
  } catch {
    return false;
  }
}
