/**
 * The suite runner behind `shoal bench <suite>`: lists the suite's cases (each function export
 * but `setup` / `teardown`), measures each in a fresh worker thread of its own, one at a time
 * (or several at once when asked), and builds the report: statistics, ratios between cases and
 * against a baseline, and the regressions past the threshold.
 *
 * Runs on the main thread. Owns the case workers it starts (each is terminated when its case is
 * done, fails, or runs past its time limit).
 */
import { availableParallelism, loadavg } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../../core/errors.js';
import { checkHarnessOptions, given, HarnessOptionError } from '../errors.js';
import type { CaseJob, CaseMessage } from './protocol.js';
import { compare, type CaseReport, type SuiteReport } from './report.js';
import { caseStats } from './stats.js';

/** Options of runSuite (the flags of `shoal bench`). */
export interface SuiteOptions {
  /** the suite module: a file: URL (string or URL) or a file path (relative to the current directory) */
  module: string | URL;
  /** the suite's name in the report (default: the module's file name) */
  name?: string;
  /** measured time per case, ms (default 1000) */
  timeMs?: number;
  /** warm-up per case before sampling, ms (default: a quarter of timeMs) */
  warmupMs?: number;
  /** fewest samples per case (default 10) */
  minSamples?: number;
  /** run several cases at once, each in its own worker (default false: their figures disturb
   *  each other; say so wherever the figures are shown) */
  parallel?: boolean | number;
  /** a previous report (as written with --json) to compare with */
  baseline?: SuiteReport;
  /** a slowdown past this fraction of the baseline's median is a regression (default 0.05) */
  threshold?: number;
  /** only cases whose name contains one of these */
  only?: readonly string[];
  /** give up on a case after this many ms (default: 20 × (timeMs + warmupMs) + 30 s) */
  caseTimeoutMs?: number;
  /** called as each case ends */
  onCase?: (c: CaseReport) => void;
  /** stop the run: the case under way is ended (its worker terminated), no other starts, and
   *  runSuite rejects with CancelledError */
  signal?: AbortSignal;
}

const OPTION_NAMES: ReadonlySet<string> = new Set<keyof SuiteOptions>([
  'module',
  'name',
  'timeMs',
  'warmupMs',
  'minSamples',
  'parallel',
  'baseline',
  'threshold',
  'only',
  'caseTimeoutMs',
  'onCase',
  'signal',
]);

/** runSuite's options as a whole: an object of known keys, a module, a signal; the suite's URL. */
function checkSuiteOptions(o: SuiteOptions): string {
  checkHarnessOptions(o, OPTION_NAMES, 'runSuite');
  const m = o.module;
  if (m instanceof URL) return m.href;
  if (typeof m !== 'string' || m === '') {
    throw new HarnessOptionError(`module must be a file: URL or a file path, got ${given(m)}`);
  }
  // a scheme of two letters or more is a URL; anything else (C:\... too) is a path, as node takes it
  return /^[a-z][a-z0-9+.-]+:/i.test(m) ? m : pathToFileURL(resolvePath(m)).href;
}

function cancelled(signal: AbortSignal): CancelledError {
  return new CancelledError('runSuite was aborted', { cause: signal.reason });
}

const ENTRY = new URL('../../../workers/bench-case.js', import.meta.url);

/**
 * Run a suite and resolve with its report (regressions in `report.regressions`).
 *
 * @example
 * const r = await runSuite({ module: pathToFileURL('bench/strings.js'), timeMs: 500 });
 * console.log(formatSuiteTable(r));
 */
export async function runSuite(o: SuiteOptions): Promise<SuiteReport> {
  const module = checkSuiteOptions(o);
  const signal = o.signal;
  const timeMs = o.timeMs ?? 1000;
  if (!(timeMs > 0)) throw new HarnessOptionError(`timeMs must be more than 0, got ${String(o.timeMs)}`);
  const warmupMs = o.warmupMs ?? timeMs / 4;
  const minSamples = o.minSamples ?? 10;
  const threshold = o.threshold ?? 0.05;
  if (!(threshold >= 0)) throw new HarnessOptionError(`threshold must be a fraction >= 0, got ${String(o.threshold)}`);
  const caseTimeoutMs = o.caseTimeoutMs ?? 20 * (timeMs + warmupMs) + 30_000;
  const base: Omit<CaseJob, 'mode'> = { module, timeMs, warmupMs, minSamples };

  const listed = await inWorker({ ...base, mode: 'list' }, caseTimeoutMs, signal);
  if (listed.kind === 'error') {
    // Node 20 imports no TypeScript: say what to run instead of only the loader's complaint
    const hint = /\.[cm]?ts$/.test(module) ? ' (Node runs JavaScript: compile the suite, then pass the .js file)' : '';
    throw new HarnessOptionError(`cannot load the suite ${module}: ${listed.message}${hint}`);
  }
  if (listed.kind !== 'list') throw new Error(`unexpected message from the list worker: ${listed.kind}`);
  let names = listed.names;
  if (names.length === 0) throw new HarnessOptionError(`the suite ${module} exports no case (a function export)`);
  if (o.only?.length) {
    names = names.filter((n) => o.only!.some((s) => n.includes(s)));
    if (names.length === 0) {
      const asked = o.only.map((s) => `'${s}'`).join(', ');
      throw new HarnessOptionError(
        `no case of the suite ${module} matches only ${asked} (cases: ${listed.names.join(', ')})`,
      );
    }
  }

  const width = o.parallel === true ? availableParallelism() : typeof o.parallel === 'number' ? o.parallel : 1;
  const report: SuiteReport = {
    suite: o.name ?? decodeURIComponent(module.slice(module.lastIndexOf('/') + 1)),
    date: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
    parallel: width > 1,
    threshold,
    cases: names.map((name) => ({ name })),
    regressions: [],
  };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < names.length && !signal?.aborted) {
      const i = next++;
      const c = report.cases[i]!;
      const m = await inWorker({ ...base, mode: 'run', name: c.name }, caseTimeoutMs, signal);
      if (m.kind === 'samples') {
        c.stats = caseStats(m.samplesNs);
        c.async = m.async;
        c.iterations = m.iterations;
      } else if (m.kind === 'error') {
        c.error = { phase: m.phase, message: m.message, ...(m.stack ? { stack: m.stack } : {}) };
      }
      o.onCase?.(c);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, names.length)) }, lane));
  if (signal?.aborted) throw cancelled(signal);
  compare(report, o.baseline);
  return report;
}

/**
 * Start one case worker, wait for its message (or its death, or the time limit), end it. An
 * abort terminates the worker and rejects with CancelledError.
 */
function inWorker(job: CaseJob, timeoutMs: number, signal: AbortSignal | undefined): Promise<CaseMessage> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled(signal));
      return;
    }
    let settled = false;
    const w = new Worker(ENTRY, { workerData: job, stdout: false, stderr: false });
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void w.terminate();
      reject(cancelled(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (m: CaseMessage): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void w.terminate();
      resolve(m);
    };
    const fail = (message: string, stack?: string): void =>
      done({
        kind: 'error',
        ...(job.name ? { name: job.name } : {}),
        phase: 'case',
        message,
        ...(stack ? { stack } : {}),
      });
    const timer = setTimeout(() => fail(`no result after ${timeoutMs} ms: the case was stopped`), timeoutMs);
    w.once('message', (m: CaseMessage) => done(m));
    w.once('error', (e: Error) => fail(`the case's worker died: ${e.message}`, e.stack));
    w.once('exit', (code) => fail(`the case's worker exited (code ${code}) before reporting`));
  });
}
