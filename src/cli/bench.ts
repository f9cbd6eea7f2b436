/**
 * `shoal bench`: the perf suites of a source checkout (perf/), side by side with their anchors.
 * perf/ is not part of the installed package: there the command is hidden from the help and says
 * so in one line when called.
 *
 * Runs on the main thread of the CLI process. Owns nothing beyond the harness run.
 */
import { existsSync } from 'node:fs';
import { parse } from './usage.js';

export const help = `usage: shoal bench [options]

Run the perf suites of a source checkout (perf/*.bench.ts, built to dist/perf/) side by side with
their anchors (piscina, tinypool, workerpool, js-csp...), each suite in a process of its own; write
perf/results/<date>-<host>.json and an SVG chart. Only in a source checkout: \`npm run bench\`.

options:
  --quick              fewer iterations
  --only NAME          only suites whose file name contains NAME (repeatable)
  -h, --help           this text`;

const HARNESS = new URL('../../perf/harness.js', import.meta.url);

/** True when the perf harness is there (a built source checkout), false in an installed package. */
export function benchAvailable(): boolean {
  return existsSync(HARNESS);
}

/**
 * Parse the arguments after `bench` and run the suites; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['--quick']);
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parse('bench', args, { quick: { type: 'boolean' }, only: { type: 'string', multiple: true } });
  if (!benchAvailable()) {
    console.error(
      'shoal bench: the perf suites ship only with a source checkout (perf/ is not in the installed package): clone shoal, then `npm run bench`',
    );
    return 1;
  }
  const mod = (await import(HARNESS.href)) as typeof import('../../perf/harness.js');
  const { printTable } = (await import(
    new URL('../../perf/bench-types.js', import.meta.url).href
  )) as typeof import('../../perf/bench-types.js');
  const rec = await mod.runAll({ quick: values.quick === true, only: (values.only as string[] | undefined) ?? [] });
  console.log('');
  printTable(rec.results);
  const [json, svg] = mod.writeRecord(rec, new URL('../../../perf/results/', import.meta.url).pathname);
  console.log(`\nwrote ${json}\n      ${svg}`);
  return rec.failures.length ? 1 : 0;
}
