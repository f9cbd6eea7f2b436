/**
 * `shoal bench <suite.js>...`: run a user's benchmark suites (src/harness/bench/), print a table
 * per suite, optionally write JSON (a later run's `--baseline`) and an SVG chart; exit 1 when a
 * case regressed past the threshold or failed. `shoal bench --self` runs shoal's own perf suites
 * (perf/harness.ts), which exist only in a source checkout.
 *
 * Runs on the main thread of the CLI process. Owns the files it writes.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { moduleURL } from '../runtime/runtime.js';
import { runSuite } from '../harness/bench/main.js';
import { formatSuiteTable, suiteChart, type SuiteReport } from '../harness/bench/report.js';
import { parseThreshold } from '../harness/bench/stats.js';
import { hint, parseArgsMessage } from './usage.js';

/** The help text of `shoal bench` (main.ts's table of commands points here). */
export const BENCH_HELP = `usage: shoal bench <suite.js>... [options]

  Each function exported by a suite module is a case (sync or async); optional exports setup()
  (its result is passed to every call and to teardown) and teardown(state). Each case runs in a
  fresh worker thread of its own (no heap, module or JIT state shared with other cases), with
  calibrated iterations; the table shows median, MAD, p99, the 95% CI of the median, the ratio to
  the fastest case and the change against a baseline.

      --json FILE          write the report as JSON (with one suite: that suite's report); an SVG
                           chart is written beside it (FILE with .svg)
      --svg FILE           write the SVG chart here
      --baseline FILE      a previous --json report: compare medians case by case
      --threshold P        a case slower than its baseline by more than P is a regression
                           (5%, 0.05; default 5%): exit code 1. Its median and the low end of
                           its median's 95% CI must both be past it: a noisy run is only marked
      --time MS            measured time per case (default 1000)
      --only NAME          only cases whose name contains NAME (repeatable)
      --parallel           run cases (and suites) at once, one worker each: faster, but the
                           figures disturb each other; a warning says so
      --quiet              no per-case lines while running
  Exit code: 0; 1 when a case regressed or failed; 2 on bad usage.

  shoal bench --self [--quick] [--only NAME]
                           shoal's own perf suites beside piscina, tinypool, wrk...: needs a source
                           checkout of shoal (npm run bench does the same)
`;

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_SHOAL_BENCH_USAGE' });
}

/**
 * Parse `args` (after the word `bench`), run, print, and resolve with the exit code.
 *
 * @example
 * // shoal bench bench/strings.js --baseline main.json --threshold 10%
 * process.exitCode = await benchMain(['bench/strings.js', '--baseline', 'main.json']);
 */
export async function benchMain(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(args);
  } catch (e) {
    return usageExit((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (values.self) return selfSuites(values.quick ?? false, values.only ?? []);
  try {
    if (positionals.length === 0) throw usage('shoal bench needs a <suite.js> (or --self for shoal’s own suites)');
    const threshold = parseThreshold(values.threshold ?? '5%');
    if (!(threshold >= 0)) throw usage(`--threshold must look like 5% or 0.05, got '${values.threshold}'`);
    const timeMs = values.time !== undefined ? Number(values.time) : 1000;
    if (!(timeMs > 0)) throw usage(`--time must be a positive number of ms, got '${values.time}'`);
    let baselines: SuiteReport[] = [];
    if (values.baseline !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(values.baseline, 'utf8'));
      } catch (e) {
        throw usage(`cannot read the baseline ${values.baseline}: ${(e as Error).message}`);
      }
      baselines = Array.isArray((raw as { suites?: unknown }).suites)
        ? (raw as { suites: SuiteReport[] }).suites
        : [raw as SuiteReport];
      if (!baselines.every((b) => Array.isArray(b?.cases))) {
        throw usage(`${values.baseline} is not a shoal bench report (written with --json)`);
      }
    }
    // the report is written after every case ran: a folder that is not there must fail now
    for (const [flag, file] of [
      ['--json', values.json],
      ['--svg', values.svg],
    ] as const) {
      if (file === undefined) continue;
      const dir = dirname(file);
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw usage(`cannot write ${flag} ${file}: no folder ${dir}`);
    }
    const parallel = values.parallel ?? false;
    if (parallel) {
      console.error(
        `shoal bench: --parallel: cases run at once on ${availableParallelism()} cores and disturb each other's figures; ` +
          'compare parallel runs only with parallel runs',
      );
    }
    // figures taken with cases running at once are slower: comparing across modes flags noise
    const mode = (p: boolean): string => (p ? 'with --parallel' : 'one case at a time');
    for (const b of baselines) {
      if (Boolean(b.parallel) !== parallel) {
        console.error(
          `shoal bench: warning: the baseline ${values.baseline}${b.suite ? ` (${b.suite})` : ''} was measured ` +
            `${mode(Boolean(b.parallel))} and this run is ${mode(parallel)}: their figures do not compare`,
        );
      }
    }
    const run = async (file: string): Promise<SuiteReport> => {
      const name = parse(file).base;
      const baseline = baselines.length === 1 ? baselines[0] : baselines.find((b) => b.suite === name);
      const r = await runSuite({
        module: moduleURL(file),
        name,
        timeMs,
        parallel,
        threshold,
        ...(baseline ? { baseline } : {}),
        ...(values.only ? { only: values.only } : {}),
        onCase: values.quiet
          ? undefined
          : (c) =>
              console.error(
                `  ${name} ${c.name}: ${c.stats ? `${c.stats.samples} samples` : `FAILED (${c.error?.message})`}`,
              ),
      });
      return r;
    };
    const reports = parallel ? await Promise.all(positionals.map(run)) : [];
    if (!parallel) for (const f of positionals) reports.push(await run(f));
    for (const r of reports) {
      console.log(
        `\n${r.suite} (Node ${r.node}, ${r.cores} cores, load ${r.loadAtStart}${r.parallel ? ', parallel' : ''})`,
      );
      console.log(formatSuiteTable(r));
      for (const c of r.cases)
        if (c.error?.stack && !values.quiet) console.error(`\n${c.name} failed:\n${c.error.stack}`);
      if (r.regressions.length) {
        console.log(
          `regressed past ${(r.threshold * 100).toFixed(1)}% against the baseline: ${r.regressions.join(', ')}`,
        );
      }
    }
    const doc = reports.length === 1 ? reports[0] : { suites: reports };
    if (values.json !== undefined) {
      writeFileSync(values.json, JSON.stringify(doc, null, 2) + '\n');
      console.log(`wrote ${values.json}`);
    }
    const svg = values.svg ?? (values.json !== undefined ? values.json.replace(/(\.json)?$/, '.svg') : undefined);
    if (svg !== undefined) {
      writeFileSync(svg, reports.map(suiteChart).join('\n'));
      console.log(`wrote ${svg}`);
    }
    const failed = reports.some((r) => r.regressions.length > 0 || r.cases.some((c) => c.error));
    return failed ? 1 : 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_SHOAL_BENCH_USAGE' || code === 'ERR_SHOAL_HARNESS_OPTION') return usageExit((e as Error).message);
    throw e;
  }
}

function parseBenchArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'string' },
      svg: { type: 'string' },
      baseline: { type: 'string' },
      threshold: { type: 'string' },
      time: { type: 'string' },
      only: { type: 'string', multiple: true },
      parallel: { type: 'boolean' },
      quiet: { type: 'boolean' },
      self: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** A usage error: one line and a hint, exit 2, as for every command (src/cli/usage.ts). */
function usageExit(message: string): number {
  console.error(`shoal bench: ${parseArgsMessage(message)} (${hint('bench')})`);
  return 2;
}

/** shoal's own perf suites (perf/harness.ts), from a source checkout. */
async function selfSuites(quick: boolean, only: string[]): Promise<number> {
  const here = dirname(fileURLToPath(import.meta.url));
  const harness = new URL('../../perf/harness.js', import.meta.url);
  let mod: typeof import('../../perf/harness.js');
  try {
    mod = (await import(harness.href)) as typeof import('../../perf/harness.js');
  } catch {
    // an installed package ships no perf/ folder: say what to do, not which file was missing
    console.error(
      "shoal bench --self: shoal's own suites run from a source checkout (git clone, npm ci, npm run build); for your suites: shoal bench <suite.js>",
    );
    return 1;
  }
  const { printTable } = await import('../../perf/bench-types.js');
  let rec: Awaited<ReturnType<typeof mod.runAll>>;
  try {
    rec = await mod.runAll({ quick, only });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SHOAL_BENCH_USAGE') return usageExit((e as Error).message);
    throw e;
  }
  console.log('');
  printTable(rec.results);
  const [json, svg] = mod.writeRecord(rec, join(here, '../../../perf/results/'));
  console.log(`\nwrote ${json}\n      ${svg}`);
  return rec.failures.length ? 1 : 0;
}

/** The command-table entry points (src/cli/main.ts). */
export const help = BENCH_HELP;
export const main = benchMain;
