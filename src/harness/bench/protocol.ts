/**
 * What the suite runner (main.ts, main thread) and a case worker (worker.ts, a fresh worker
 * thread per case) say to each other: the job in `workerData`, one result message back.
 *
 * Shared by both sides. Owns nothing.
 */

/** workerData of a case worker. */
export interface CaseJob {
  /** 'list': only report the suite's case names; 'run': measure `name` */
  mode: 'list' | 'run';
  /** the suite module's URL */
  module: string;
  name?: string;
  /** time budget of the measured samples, ms */
  timeMs: number;
  /** time spent running the case before sampling (JIT warm-up), ms */
  warmupMs: number;
  /** fewest samples, even past the time budget */
  minSamples: number;
}

/** The one message a case worker posts. */
export type CaseMessage =
  | { kind: 'list'; names: string[] }
  | { kind: 'samples'; name: string; async: boolean; iterations: number; samplesNs: number[] }
  | { kind: 'error'; name?: string; phase: 'load' | 'setup' | 'case' | 'teardown'; message: string; stack?: string };

/** Exports of a suite module that are not cases. */
export const HOOKS = new Set(['setup', 'teardown']);
