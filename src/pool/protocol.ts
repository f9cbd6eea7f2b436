/**
 * The dispatch protocol between the main thread and each pool worker: the frames both
 * transports carry, as small tuples (cheap to clone, cheap to encode).
 *
 * Runs on both sides (imported by the main-side pool and by the worker-side scheduler).
 * Owns the frame vocabulary only; how frames travel is the transport's business
 * (pool/message/main.ts / pool/message/worker.ts). See docs/design.md "Dispatch protocol".
 *
 * Direction main -> worker:
 *   SUBMIT  [1, id, url, name, args]   run export `name` of module `url` with `args`
 *   CANCEL  [2, id, reason]            abort that task's signal (reason is a WireError)
 *   QUERY   [3, queryId]               reply with a TASKS frame (live tasks on the worker)
 *   DEFINE  [4, fnId, url, name]       (shared transport) task frames name `url#name` by fnId
 *
 * Direction worker -> main:
 *   PULL    [10, n]                    "I am at a turn of my event loop: send me up to n tasks"
 *   OK      [11, id, value]            task settled with a value
 *   ERR     [12, id, error]            task threw / rejected (error is a WireError)
 *   STATS   [13, WorkerLoad]           periodic load report (event-loop delay, running count)
 *   TASKS   [14, queryId, WorkerTask[]] reply to QUERY
 *
 * Every message on the port is an array of frames (a batch), never a single frame: both sides
 * collect frames for one turn of their event loop and post them together, because each post
 * costs a wake-up of the other thread (~35 µs here) while the frames themselves are cheap.
 */
import type { WireError } from './wire-error.js';

/**
 * How long a worker at its share leaves queued work for siblings that are busy (running, not at
 * rest) before it takes more itself, ms; and how long the message transport's main side waits
 * for a silent worker before it treats it as stuck. Long enough for a sibling between two turns
 * to reach its next claim even when the OS descheduled it for a few ms (at 1 ms, a loaded 2-core
 * machine let one worker take a whole burst about once in 60 runs); short against a sibling truly
 * stuck in a long synchronous slice, whose queued work then moves on. Both transports' "no
 * hostages" rule uses it.
 */
export const STALL_MS = 5;

export const SUBMIT = 1;
export const CANCEL = 2;
export const QUERY = 3;
export const DEFINE = 4;
/** main -> worker: stop taking tasks, finish what you hold, then exit (answer to RETIRING) */
export const RETIRE = 5;
export const PULL = 10;
export const OK = 11;
export const ERR = 12;
export const STATS = 13;
export const TASKS = 14;
/** worker -> main: this worker loaded more distinct modules than its bound and asks to be recycled */
export const RETIRING = 15;

export type SubmitFrame = [typeof SUBMIT, number, string, string, unknown[]];
export type CancelFrame = [typeof CANCEL, number, WireError];
export type QueryFrame = [typeof QUERY, number];
export type DefineFrame = [typeof DEFINE, number, string, string];
export type RetireFrame = [typeof RETIRE];
export type ToWorker = SubmitFrame | CancelFrame | QueryFrame | DefineFrame | RetireFrame;

export type PullFrame = [typeof PULL, number];
export type OkFrame = [typeof OK, number, unknown];
export type ErrFrame = [typeof ERR, number, WireError];
export type StatsFrame = [typeof STATS, WorkerLoad];
export type TasksFrame = [typeof TASKS, number, WorkerTask[]];
export type RetiringFrame = [typeof RETIRING];
export type FromWorker = PullFrame | OkFrame | ErrFrame | StatsFrame | TasksFrame | RetiringFrame;

/** What a worker reports about its own load, about twice a second. */
export interface WorkerLoad {
  /** tasks started and not yet settled on this worker */
  running: number;
  /** tasks received but not started yet (waiting for their module to load) */
  starting: number;
  /** event-loop delay since the last report, ms: p99 and max (a long synchronous slice shows here) */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** One live task as its worker sees it (rt.tasks()). */
export interface WorkerTask {
  /** pool task id, or the core task id when `green` */
  id: number;
  /** `<module url>#<export>`, or the green thread's name */
  name: string;
  state: 'loading' | 'running' | 'cancelling';
  /** ms since the worker received it (or since the green thread was spawned) */
  ageMs: number;
  /** true for a green thread spawned inside a task (core `spawn`/`scope`), not a pool task */
  green?: boolean;
  /** where the green thread was spawned, when the runtime was started with `tracing: true` */
  stack?: string;
}

/** The `workerData` every pool worker boots with. */
export interface WorkerBoot {
  /** pool slot index, stable across replacements of a dead worker */
  slot: number;
  transport: 'message' | 'shared';
  /** transport-specific boot data (e.g. SharedArrayBuffers for the shared transport) */
  shared?: unknown;
  /** cap on tasks a worker keeps running at once before it stops taking more */
  maxRunning: number;
  /** record spawn stacks of green threads (core setTracing) */
  tracing: boolean;
  /** run each task inside runInTask so shoal's waits see its signal without being passed it */
  ambient: boolean;
  /**
   * distinct task modules this worker may load before it asks to be recycled (Node's loader keeps
   * every module it ever loaded: the only way to give that memory back is a fresh thread)
   */
  maxModules: number;
}
