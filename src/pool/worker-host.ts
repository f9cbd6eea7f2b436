/**
 * One pool worker's life on the main thread: start it, learn how it died, let the pool replace it.
 *
 * Runs on the main thread only. Owns: one `Worker` object and the record of why it exited.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { WorkerBoot } from './protocol.js';

const WORKER_FILE = new URL('../../workers/pool-worker.js', import.meta.url);

/** How a worker ended, as the pool reports it in WorkerExitedError. */
export interface WorkerEnd {
  slot: number;
  threadId: number;
  exitCode: number;
  /** the uncaught error or out-of-memory error the worker died of, if any */
  error?: unknown;
  /** true when the pool asked it to stop (close/destroy), so it is not replaced */
  expected: boolean;
}

export interface HostOptions {
  boot: WorkerBoot;
  resourceLimits?: ResourceLimits;
  env?: NodeJS.ProcessEnv | typeof import('node:worker_threads').SHARE_ENV;
  execArgv?: string[];
  onExit(end: WorkerEnd): void;
}

/** A started pool worker. */
export class WorkerHost {
  readonly worker: Worker;
  readonly slot: number;
  readonly startedAt = Date.now();
  private error: unknown;
  private stopping = false;
  private refd = true;
  /** set by the pool once this worker took a task: a later death is not a boot failure */
  tookTask = false;
  /** asked to retire (too many modules): its exit is a recycling, not a death */
  retiring = false;
  /** the worker has booted: its transport sent a first message (a pull, or a first load report) */
  booted = false;
  /** resolves once the worker thread has started running (or failed to) */
  readonly online: Promise<void>;
  readonly exited: Promise<void>;

  constructor(opts: HostOptions) {
    this.slot = opts.boot.slot;
    this.worker = new Worker(WORKER_FILE, {
      workerData: opts.boot,
      resourceLimits: opts.resourceLimits,
      env: opts.env,
      execArgv: opts.execArgv,
      stdout: false,
      stderr: false,
    });
    const threadId = this.worker.threadId;
    this.online = new Promise((resolve, reject) => {
      this.worker.once('online', resolve);
      this.worker.once('error', reject);
    });
    // The online promise may reject after someone stopped waiting on it; that is reported by exit.
    this.online.catch(() => {});
    this.worker.on('error', (e) => {
      this.error ??= e;
    });
    this.worker.once('message', () => {
      this.booted = true;
    });
    // A batch main cannot deserialize is lost whole (results, the worker's pull): the worker would
    // wait forever for work and its tasks would never settle. Both transports refuse such values
    // on the worker first; should one still get through, end the worker: its tasks reject with
    // WorkerExitedError and the pool replaces it. Nothing stays pending.
    this.worker.on('messageerror', (e) => {
      this.error ??= new Error(`a message from worker ${this.slot} could not be deserialized on the main thread`, {
        cause: e,
      });
      void this.worker.terminate();
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (exitCode) => {
        opts.onExit({ slot: this.slot, threadId, exitCode, error: this.error, expected: this.stopping });
        resolve();
      });
    });
    this.setRef(false);
  }

  /**
   * Keep the process alive while this worker holds tasks, and only then: a runtime nobody closed
   * must not hang the process once its work is done.
   */
  setRef(on: boolean, force = false): void {
    if (on === this.refd && !force) return;
    this.refd = on;
    if (on) this.worker.ref();
    else this.worker.unref();
  }

  /** Stop the thread now (the pool has already settled its tasks). */
  async terminate(): Promise<void> {
    this.stopping = true;
    this.setRef(true); // hold the loop until the exit event has been delivered
    await this.worker.terminate();
    await this.exited;
  }
}
