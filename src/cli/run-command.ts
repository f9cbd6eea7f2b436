/**
 * `shoal run <module> <export>`: the bounded-concurrency runner as a command. Inputs come from
 * `--range N` (0..N-1), `--inputs <file>` or stdin (one JSON value per line; a line that is not
 * JSON is passed as a string); each result is printed as one JSON line on stdout, progress goes
 * to stderr.
 *
 * Runs on the main thread. Owns the runtime it starts for the run.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Runtime, moduleURL } from '../runtime/runtime.js';
import { ProgressLine } from './progress.js';

export interface RunCommandOptions {
  module: string;
  exportName: string;
  range?: number;
  inputs?: string;
  concurrency: number;
  workers?: number;
  ordered: boolean;
  timeout?: number;
  quiet: boolean;
}

/**
 * Run the command; resolves with the process exit code (1 if the run failed).
 *
 * @example
 * await runCommand({ module: './crawl.js', exportName: 'fetchPage', inputs: 'urls.txt', concurrency: 128, ordered: false, quiet: false });
 */
export async function runCommand(o: RunCommandOptions): Promise<number> {
  const url = moduleURL(o.module);
  const inputs: Iterable<unknown> | AsyncIterable<unknown> =
    o.range !== undefined ? rangeOf(o.range) : lines(o.inputs ? createReadStream(o.inputs) : process.stdin);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  const rt = await Runtime.start(o.workers !== undefined ? { workers: o.workers } : {});
  const p = o.quiet ? undefined : new ProgressLine(`${o.exportName}`);
  try {
    for await (const r of rt.map(inputs, url, o.exportName, {
      concurrency: o.concurrency,
      ordered: o.ordered,
      signal: ac.signal,
      ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
      ...(o.range !== undefined ? {} : {}),
      onProgress: (c) => p?.update(o.range !== undefined ? { ...c, total: o.range } : c),
    })) {
      process.stdout.write(JSON.stringify(r ?? null) + '\n');
    }
    p?.finish();
    return 0;
  } catch (e) {
    p?.finish('stopped');
    console.error(`shoal run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await rt.close({ timeout: 2000 });
  }
}

function* rangeOf(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* lines(stream: NodeJS.ReadableStream): AsyncIterable<unknown> {
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch {
      yield line;
    }
  }
}
