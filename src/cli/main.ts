/**
 * The `shoal` command (bin/shoal.js loads this file): `demo`, `run`, `bench`.
 *
 * Runs on the main thread of the CLI process. Owns argument parsing and the exit code.
 */
import { parseArgs } from 'node:util';
import { demo } from './demo.js';
import { runCommand } from './run-command.js';

const USAGE = `usage: shoal <command> [options]

commands:
  demo                     the main job: a CPU+IO workload on the pool, then on one thread, with a summary
      --jobs N             jobs to run (default 400)
      --workers N          pool workers (default: available parallelism)
  run <module> <export>    call <export>(input) for every input with bounded concurrency; prints
                           one JSON line per result on stdout, a live progress line on stderr
      --range N            inputs 0..N-1 (default: JSON lines from --inputs <file> or stdin)
      --inputs FILE        one JSON value (or plain string) per line
      --concurrency N      tasks kept active (default 64)
      --unordered          print results as they finish instead of in input order
      --timeout MS         per-task timeout
      --workers N          pool workers
      --quiet              no progress line
  serve <handler.js>       serve a TCP handler module (default export: async (conn) => ...) on the pool
      --port N             port to listen on (0: any free port)
      --host H             address (default 127.0.0.1)
      --workers N          pool workers
      --max-connections N  refuse connections beyond N
  repl HOST:PORT --token T connect to a running runtime's REPL (rt.repl())
  top HOST:PORT --token T  a live view of its workers, tasks, agents and servers (q quits)
  bench                    the perf suites side by side with piscina, tinypool, workerpool...
      --quick              fewer iterations
      --only NAME          only suites whose file name contains NAME (repeatable)
  help                     this text
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { jobs: { type: 'string' }, workers: { type: 'string' } } });
      await demo({ jobs: int(values.jobs, 'jobs'), workers: int(values.workers, 'workers') });
      return 0;
    }
    case 'run': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          range: { type: 'string' },
          inputs: { type: 'string' },
          concurrency: { type: 'string' },
          unordered: { type: 'boolean' },
          timeout: { type: 'string' },
          workers: { type: 'string' },
          quiet: { type: 'boolean' },
        },
      });
      const [module, exportName] = positionals;
      if (!module || !exportName) throw new UsageError('shoal run needs <module> <export>');
      return runCommand({
        module,
        exportName,
        range: int(values.range, 'range'),
        inputs: values.inputs,
        concurrency: int(values.concurrency, 'concurrency') ?? 64,
        workers: int(values.workers, 'workers'),
        ordered: !values.unordered,
        timeout: int(values.timeout, 'timeout'),
        quiet: values.quiet ?? false,
      });
    }
    case 'bench': {
      const { values } = parseArgs({
        args: rest,
        options: { quick: { type: 'boolean' }, only: { type: 'string', multiple: true } },
      });
      const harness = new URL('../../perf/harness.js', import.meta.url);
      let mod: typeof import('../../perf/harness.js');
      try {
        mod = (await import(harness.href)) as typeof import('../../perf/harness.js');
      } catch (e) {
        throw new UsageError(`shoal bench runs from a source checkout (npm run build first): ${(e as Error).message}`);
      }
      const { printTable } = await import('../../perf/bench-types.js');
      const rec = await mod.runAll({ quick: values.quick ?? false, only: values.only ?? [] });
      console.log('');
      printTable(rec.results);
      const [json, svg] = mod.writeRecord(rec, new URL('../../../perf/results/', import.meta.url).pathname);
      console.log(`\nwrote ${json}\n      ${svg}`);
      return rec.failures.length ? 1 : 0;
    }
    case 'serve':
      return (await import('./serve.js')).serveMain(rest);
    case 'repl':
      return (await import('./repl.js')).replMain(rest);
    case 'top':
      return (await import('./top.js')).topMain(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

class UsageError extends Error {}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`shoal: ${(e as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
