/**
 * Command-line plumbing shared by the `shoal` commands: the usage error (one line and a hint,
 * exit code 2), option parsing that turns node:util parseArgs's errors into that one line, and
 * number options checked at the edge.
 *
 * Runs on the main thread of the CLI process. Owns nothing.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: printed as one line with a hint, exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse `args` for command `cmd`; unknown options and missing values become a UsageError.
 *
 * @example
 * const { values, positionals } = parse('run', args, { range: { type: 'string' } }, true);
 */
export function parse<O extends Options>(
  cmd: string,
  args: string[],
  options: O,
  allowPositionals = false,
): { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true }) as {
      values: Record<string, string | boolean | string[] | boolean[] | undefined>;
      positionals: string[];
    };
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (!err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(parseArgsMessage(err.message), cmd);
  }
}

/**
 * node:util parseArgs's error message as one short clause: its messages run over several lines
 * and suggest '--' tricks.
 *
 * @example
 * parseArgsMessage("Unknown option '--bogus'. To specify a positional argument ...") // "unknown option '--bogus'"
 */
export function parseArgsMessage(message: string): string {
  let msg = message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) msg = `unknown option '${unknown[1]}'`;
  const positional = /Unexpected argument '([^']+)'/.exec(msg);
  if (positional) msg = `unexpected argument '${positional[1]}'`;
  return msg;
}

/**
 * An integer option in [min, max], or undefined when absent.
 *
 * @example
 * const port = intOption('serve', values.port, 'port', 0, 65535);
 */
export function intOption(
  cmd: string,
  v: unknown,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be ${range}, got '${String(v)}'`, cmd);
  }
  return n;
}

/** The hint printed under a usage error. */
export function hint(cmd: string | undefined): string {
  return cmd ? `run 'shoal ${cmd} --help' for its options` : `run 'shoal --help' for the commands`;
}

/**
 * A module that did not load, said for a person: a TypeScript file (Node 20 runs JavaScript only)
 * gets what to do.
 *
 * @example
 * console.error(`shoal serve: ${loadFailure(e.message)}`);
 */
export function loadFailure(message: string): string {
  return /Unknown file extension "\.[cm]?ts"/.test(message)
    ? `${message} (Node 20 runs JavaScript: compile it to JavaScript, then pass the .js file)`
    : message;
}
