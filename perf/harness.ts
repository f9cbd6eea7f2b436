/**
 * The perf harness behind `npm run bench` / `shoal bench`: runs every compiled perf/*.bench.js
 * suite (each exports `run({ quick })`), prints one table, and writes the results as JSON plus an
 * SVG bar chart of the ratios under perf/results/, naming the machine.
 *
 * Runs on the main thread of its own process; each suite runs in a child process of its own
 * (a fresh heap, no threads, timers or async hooks left by the suite before: one suite once made
 * the next one's servers run at half speed). Owns perf/results/<date>-<host>.{json,svg}.
 *
 * usage: node dist/perf/harness.js [--quick] [--only <substring>]...
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, type BenchResult } from './bench-types.js';
import { ratioChart } from './harness-chart.js';

/** The machine a run happened on (written into every result file). */
export interface Machine {
  host: string;
  cores: number;
  cpu: string;
  node: string;
  os: string;
  memGiB: number;
  /** 1-minute load average when the run started: a busy machine skews every figure */
  loadAtStart: number;
}

/** What the JSON file holds. */
export interface RunRecord {
  date: string;
  machine: Machine;
  quick: boolean;
  results: BenchResult[];
  failures: Array<{ suite: string; error: string }>;
}

/** Describe this machine. */
export function machine(): Machine {
  return {
    host: hostname(),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${platform()} ${release()}`,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** Run the suites whose file name contains one of `only` (all when empty). */
export async function runAll(opts: { quick: boolean; only: string[] }): Promise<RunRecord> {
  const here = dirname(fileURLToPath(import.meta.url));
  const all = readdirSync(here).filter((f) => f.endsWith('.bench.js'));
  const files = all.filter((f) => opts.only.length === 0 || opts.only.some((s) => f.includes(s))).sort();
  if (files.length === 0) {
    // a misspelt --only must not run nothing and write an empty results file as a success
    const names = all.map((f) => f.replace(/\.bench\.js$/, '')).sort();
    throw Object.assign(
      new Error(`no suite matches --only ${opts.only.map((o) => `'${o}'`).join(', ')} (suites: ${names.join(', ')})`),
      { code: 'ERR_SHOAL_BENCH_USAGE' },
    );
  }
  const m = machine();
  console.log(
    `shoal bench: ${m.cores} cores (${m.cpu}), Node ${m.node}, load ${m.loadAtStart}${opts.quick ? ', quick' : ''}`,
  );
  const results: BenchResult[] = [];
  const failures: RunRecord['failures'] = [];
  for (const f of files) {
    const suite = f.replace(/\.bench\.js$/, '');
    const t0 = performance.now();
    process.stdout.write(`  ${suite} ... `);
    try {
      const rs = await runSuite(join(here, f), opts.quick);
      results.push(...rs);
      console.log(`${rs.length} results, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failures.push({ suite, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      console.log(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { date: new Date().toISOString(), machine: m, quick: opts.quick, results, failures };
}

/** Run one suite file in a child process (this file with --suite) and collect its results. */
function runSuite(file: string, quick: boolean): Promise<BenchResult[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--suite', file, ...(quick ? ['--quick'] : [])], {
      stdio: 'inherit',
    });
    let got: BenchResult[] | undefined;
    let failed: string | undefined;
    child.on('message', (m: { results?: BenchResult[]; error?: string }) => {
      if (m.results) got = m.results;
      else failed = m.error;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (got) resolve(got);
      else reject(new Error(failed ?? `suite process exited with code ${code} and no results`));
    });
  });
}

/** The child's side of runSuite: run the suite, send its results, exit. */
async function suiteChild(file: string, quick: boolean): Promise<void> {
  try {
    const mod = (await import(pathToFileURL(file).href)) as { run?: (o: { quick: boolean }) => Promise<BenchResult[]> };
    if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
    const results = await mod.run({ quick });
    process.send!({ results }, () => process.exit(0));
  } catch (e) {
    process.send!({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1));
  }
}

/** Write `<dir>/<date>-<host>.json` and `.svg`; returns the two paths. */
export function writeRecord(rec: RunRecord, dir: string): [string, string] {
  mkdirSync(dir, { recursive: true });
  const stem = `${rec.date.slice(0, 19).replace(/:/g, '-')}-${rec.machine.host.replace(/[^\w.-]/g, '_')}`;
  const json = join(dir, `${stem}.json`);
  const svg = join(dir, `${stem}.svg`);
  writeFileSync(json, JSON.stringify(rec, null, 2) + '\n');
  writeFileSync(svg, ratioChart(rec));
  return [json, svg];
}

if (process.argv[2] === '--suite' && process.send) {
  await suiteChild(process.argv[3]!, process.argv.includes('--quick'));
} else if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const argv = process.argv.slice(2);
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--only' && argv[i + 1]) only.push(argv[++i]!);
  const rec = await runAll({ quick: argv.includes('--quick'), only }).catch((e: { code?: string; message: string }) => {
    if (e.code !== 'ERR_SHOAL_BENCH_USAGE') throw e;
    console.error(`harness: ${e.message}`);
    process.exit(2);
  });
  console.log('');
  printTable(rec.results);
  const out = fileURLToPath(new URL('../../perf/results/', import.meta.url));
  const [json, svg] = writeRecord(rec, out);
  console.log(`\nwrote ${json}\n      ${svg}`);
  if (rec.failures.length) {
    for (const f of rec.failures) console.error(`\nsuite ${f.suite} failed:\n${f.error}`);
    process.exitCode = 1;
  }
}
