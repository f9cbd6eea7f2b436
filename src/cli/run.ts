/**
 * `shoal run <module> <export>`: the bounded-concurrency runner as a command. Calls
 * `<export>(input)` on the pool for every input and prints one line per result on stdout (in input
 * order unless --unordered), with a live progress line on stderr.
 *
 * Inputs, one rule: `--range N` gives the numbers 0..N-1; otherwise each line of `--inputs FILE`
 * (or of stdin) is one input, a string taken verbatim (blank lines skipped), unless `--json`:
 * then each line is JSON in the output encoding below (so one run's output feeds the next).
 * Output: src/cli/jsonl.ts (JSON, with tagged objects for BigInt, undefined, NaN, Date, Map...).
 *
 * Runs on the main thread. Owns the runtime it starts for the run.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { TaskLoadError } from '../core/errors.js';
import { boundedMap } from '../pool/map.js';
import { Runtime, moduleURL } from '../runtime/runtime.js';
import { decodeLine, encodeLine } from './jsonl.js';
import { ProgressLine } from './progress.js';
import { intOption, loadFailure, parse, UsageError } from './usage.js';

export const help = `usage: shoal run <module> <export> [options]

Call <export>(input) of <module> on the worker pool for every input, keeping --concurrency tasks
active; print one line per result on stdout and a live progress line on stderr.

<module> is a file path resolved against the current directory (or a file: URL).

inputs (one rule):
  --range N            the numbers 0..N-1
  --inputs FILE        one input per line of FILE (default: stdin); each line is a string,
                       taken verbatim; blank lines are skipped
  --json               each input line is JSON instead (in the output encoding below)

output: one JSON line per result. Values JSON cannot carry are tagged objects, so results
round-trip: {"$shoal":"bigint","value":"12"}, {"$shoal":"undefined"}, {"$shoal":"number",
"value":"NaN"}, dates, maps, sets, bytes, errors (see README "shoal run").

options:
  --concurrency N      tasks kept active (default 64)
  --unordered          print results as they finish instead of in input order
  --timeout MS         per-task timeout
  --keep-going         a failing input does not stop the run: it is reported (stderr, and an
                       error line on stdout) and the exit code is 1 at the end
  --workers N          pool workers (default: available parallelism)
  --quiet              no progress line
  -h, --help           this text

exit codes: 0 all inputs done, 1 a task failed, 2 usage error, 130 interrupted.`;

export interface RunCommandOptions {
  module: string;
  exportName: string;
  range?: number;
  inputs?: string;
  json: boolean;
  concurrency: number;
  workers?: number;
  ordered: boolean;
  timeout?: number;
  keepGoing: boolean;
  quiet: boolean;
}

/**
 * Parse the arguments after `run` and run; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['./tasks.mjs', 'hash', '--inputs', 'files.txt']);
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'run',
    args,
    {
      range: { type: 'string' },
      inputs: { type: 'string' },
      json: { type: 'boolean' },
      concurrency: { type: 'string' },
      unordered: { type: 'boolean' },
      timeout: { type: 'string' },
      'keep-going': { type: 'boolean' },
      workers: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    true,
  );
  const [module, exportName, extra] = positionals;
  if (!module || !exportName) throw new UsageError('needs <module> <export>', 'run');
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`, 'run');
  if (values.range !== undefined && values.inputs !== undefined)
    throw new UsageError('give --range or --inputs, not both', 'run');
  return runCommand({
    module,
    exportName,
    range: intOption('run', values.range, 'range', 0),
    inputs: values.inputs as string | undefined,
    json: values.json === true,
    concurrency: intOption('run', values.concurrency, 'concurrency', 1) ?? 64,
    workers: intOption('run', values.workers, 'workers', 1, 1024),
    ordered: values.unordered !== true,
    timeout: intOption('run', values.timeout, 'timeout', 0),
    keepGoing: values['keep-going'] === true,
    quiet: values.quiet === true,
  });
}

/**
 * Run the command; resolves with the process exit code. Never rejects once the run has started:
 * every failure is one line on stderr and an exit code.
 *
 * @example
 * await runCommand({ module: './crawl.js', exportName: 'fetchPage', inputs: 'urls.txt', json: false,
 *   concurrency: 128, ordered: false, keepGoing: false, quiet: false });
 */
export async function runCommand(o: RunCommandOptions): Promise<number> {
  const url = moduleURL(o.module);
  let total: number | undefined = o.range;
  if (o.inputs !== undefined) total = await countLines(o.inputs); // also: a clear error when unreadable
  const inputs: Iterable<unknown> | AsyncIterable<unknown> =
    o.range !== undefined ? rangeOf(o.range) : lines(o.inputs, o.json);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  const rt = await Runtime.start(o.workers !== undefined ? { workers: o.workers } : {});
  const p = o.quiet ? undefined : new ProgressLine(`${o.exportName}`);
  let failures = 0;
  try {
    const results = boundedMap<[number, unknown], Outcome>(
      indexed(inputs),
      ([index, input], signal) =>
        rt.run(url, o.exportName, [input], { signal, ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) }).then(
          (value): Outcome => ({ ok: true, value }),
          (error: unknown): Outcome => {
            // a module or export that cannot load fails every input alike: stop, even with --keep-going
            if (!o.keepGoing || error instanceof TaskLoadError) throw named(error, input, index);
            return { ok: false, error, input, index };
          },
        ),
      {
        concurrency: o.concurrency,
        ordered: o.ordered,
        signal: ac.signal,
        onProgress: (c) => p?.update(total !== undefined ? { ...c, total } : c),
      },
    );
    for await (const r of results) {
      if (r.ok) {
        process.stdout.write(encodeLine(r.value) + '\n');
        continue;
      }
      failures++;
      p?.clear();
      console.error(`shoal run: input #${r.index} (${preview(r.input)}) failed: ${describe(r.error)}`);
      process.stdout.write(encodeLine(Object.assign(asError(r.error), { index: r.index, input: r.input })) + '\n');
    }
    p?.finish(failures ? `${failures} failed` : '');
    return failures ? 1 : 0;
  } catch (e) {
    p?.finish('stopped');
    if (e instanceof UsageError) {
      console.error(`shoal run: ${e.message}`);
      return 2;
    }
    if (ac.signal.aborted) {
      console.error('shoal run: interrupted');
      return 130;
    }
    const err = e as { index?: number; input?: unknown };
    const which =
      typeof err?.index === 'number' && !(e instanceof TaskLoadError)
        ? `input #${err.index} (${preview(err.input)}) failed: `
        : '';
    console.error(`shoal run: ${which}${describe(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await rt.close({ timeout: 2000 }).catch(() => {});
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; input: unknown; index: number };

/** An error for a person: the task's stack without shoal's and Node's own frames. */
function describe(e: unknown): string {
  if (e instanceof TaskLoadError || e instanceof UsageError) return loadFailure(e.message);
  if (!(e instanceof Error)) return String(e);
  const lines = (e.stack ?? `${e.name}: ${e.message}`).split('\n');
  const own = (l: string): boolean => /^\s+at /.test(l) && (l.includes(OWN_ROOT) || /\(node:|at node:/.test(l));
  return lines.filter((l) => !own(l)).join('\n');
}

/** Where shoal's compiled files live (their frames are left out of task stacks). */
const OWN_ROOT = new URL('../../', import.meta.url).href;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Attach the failing input and its index (as rt.map does). */
function named(error: unknown, input: unknown, index: number): unknown {
  if (error !== null && typeof error === 'object' && Object.isExtensible(error) && !Object.hasOwn(error, 'index'))
    Object.assign(error, { input, index });
  return error;
}

function preview(v: unknown): string {
  const s = encodeLine(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

async function* indexed<T>(src: Iterable<T> | AsyncIterable<T>): AsyncIterable<[number, T]> {
  let i = 0;
  for await (const v of src as AsyncIterable<T>) yield [i++, v];
}

function* rangeOf(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Non-blank lines of the file, counted before the run so the progress line shows a total. */
async function countLines(path: string): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`cannot read --inputs ${path}: ${why}`, 'run');
  }
  let n = 0;
  try {
    for await (const line of fh.readLines()) if (line.trim() !== '') n++;
  } catch (e) {
    throw new UsageError(`cannot read --inputs ${path}: ${(e as Error).message}`, 'run');
  } finally {
    await fh.close().catch(() => {});
  }
  return n;
}

async function* lines(path: string | undefined, json: boolean): AsyncIterable<unknown> {
  const stream = path !== undefined ? createReadStream(path) : process.stdin;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  stream.once('error', (e: Error) => rl.emit('error', e)); // the line iterator then throws it
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    if (!json) {
      yield line;
      continue;
    }
    try {
      yield decodeLine(line);
    } catch {
      throw new UsageError(`--json: line ${n} of ${path ?? 'stdin'} is not JSON: ${line.slice(0, 60)}`, 'run');
    }
  }
}
