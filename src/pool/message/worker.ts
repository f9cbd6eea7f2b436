/**
 * Worker side of the message transport (SHOAL_TRANSPORT=message): frames arrive as batches on
 * the parent port, outcomes leave as batches, and work is pulled, never pushed.
 *
 * Runs on a pool worker. Owns: the worker's outgoing batch and its pull state.
 *
 * The pull rule ("no hostages" on this path):
 *   1. The worker sends PULL(n) only from a turn of its own event loop (a setImmediate), only
 *      when no task is still loading its module, and only when it has no pull outstanding.
 *      A worker stuck in a long synchronous slice therefore asks for nothing, and main keeps
 *      unstarted tasks in its own queue where any other worker can pull them.
 *   2. Main answers one PULL with at most one batch of at most n tasks.
 *   3. n adapts to the measured synchronous slice per task: about 2 ms of work per batch
 *      (1 task when tasks are long, up to 1024 when they are tiny), so a batch that turns out
 *      to contain a long task holds few others behind it. That bound (one batch) is the residual
 *      hostage risk on this path; the shared-memory path claims tasks one at a time.
 */
import type { MessagePort } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  CANCEL,
  ERR,
  OK,
  PULL,
  QUERY,
  RETIRE,
  RETIRING,
  STATS,
  SUBMIT,
  TASKS,
  type FromWorker,
  type ToWorker,
  type WorkerBoot,
} from '../protocol.js';
import { postBatch } from '../post-batch.js';
import { TaskRunner, type Outbox } from '../task-runner.js';

// Shared with the shared transport's port fallback (../post-batch.ts).
import { resultRefused } from '../post-batch.js';
import { toWire, type WireError } from '../wire-error.js';
import { MAX_DEPTH, nestedDeeperThan, tooDeepError } from './cloneable.js';

const BATCH_BUDGET_MS = 2;
const MAX_PULL = 1024;
const STATS_EVERY_MS = 500;

/** Boot the message-transport loop on `port` (the worker's parentPort). */
export function startMessageWorker(port: MessagePort, boot: WorkerBoot, idleVeto?: () => boolean): void {
  let out: FromWorker[] = [];
  let flushScheduled = false;
  let pullOpen = false;

  /** RETIRE received: pull nothing more, exit once nothing is live (Pool.retiring) */
  let retiring = false;
  const flush = (): void => {
    flushScheduled = false;
    if (!pullOpen && runner.starting === 0 && !retiring) {
      const room = boot.maxRunning - runner.running;
      if (room > 0) {
        const want = Math.max(
          1,
          Math.min(MAX_PULL, room, Math.floor(BATCH_BUDGET_MS / Math.max(runner.sliceMs, 0.001))),
        );
        out.push([PULL, want]);
        pullOpen = true;
      }
    }
    if (out.length > 0) {
      const batch = out;
      out = [];
      postBatch(port, batch);
    }
    if (retiring && runner.liveCount === 0 && (idleVeto === undefined || !idleVeto())) process.exit(0);
  };
  const schedule = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  const outbox: Outbox = {
    ok(id, value) {
      // Main's stack is smaller than a worker's: a value nested deeper than the codec's limit
      // would be posted fine and then fail to deserialize there ('messageerror'), losing the whole
      // batch. Refuse it here, as the shared transport's codec does.
      if (value !== null && typeof value === 'object' && nestedDeeperThan(value, MAX_DEPTH)) {
        out.push([ERR, id, toWire(resultRefused(tooDeepError('result')))]);
      } else out.push([OK, id, value]);
      schedule();
    },
    err(id, error) {
      out.push([ERR, id, error]);
      schedule();
    },
  };
  const runner = new TaskRunner(outbox, boot.ambient);
  runner.maxModules = boot.maxModules;
  runner.onTooManyModules = () => {
    out.push([RETIRING]);
    schedule();
  };

  port.on('message', (batch: ToWorker[]) => {
    if (!Array.isArray(batch)) return; // not ours: the reactor's attach message (src/net/worker/host.ts)
    for (let i = 0; i < batch.length; i++) {
      const f = batch[i]!;
      switch (f[0]) {
        case SUBMIT:
          pullOpen = false;
          runner.submit(f[1], f[2], f[3], f[4]);
          break;
        case CANCEL:
          runner.cancel(f[1], f[2] as WireError);
          break;
        case QUERY:
          out.push([TASKS, f[1], runner.snapshot()]);
          break;
        case RETIRE:
          retiring = true;
          break;
        default:
          throw new Error(`pool worker: unknown frame kind ${String((f as unknown[])[0])}`);
      }
    }
    // A turn ends here: results of synchronous tasks and the next pull go out together.
    schedule();
  });

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const stats = setInterval(() => {
    out.push([
      STATS,
      {
        running: runner.running,
        starting: runner.starting,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
      },
    ]);
    delay.reset();
    schedule(); // also re-checks a retiring worker held by open connections
  }, STATS_EVERY_MS);
  // The stats timer must not keep the worker alive: the port does that while main holds it.
  stats.unref();

  schedule(); // the first pull
}
