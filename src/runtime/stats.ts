/**
 * `rt.stats()`: a frozen snapshot of the pool's counters.
 *
 * Runs on the main thread. Owns nothing (reads the pool's counters).
 */
import type { Pool } from '../pool/pool.js';

/** One worker's numbers. */
export interface WorkerStats {
  /** pool slot (stable across replacements) */
  slot: number;
  /** current thread id in that slot, -1 while it is being replaced */
  threadId: number;
  /** tasks this worker holds (started, or loading their module) */
  running: number;
  /** of those, tasks still waiting for their module to load (as last reported by the worker) */
  queued: number;
  completed: number;
  failed: number;
  /** times a dead worker in this slot was replaced */
  restarts: number;
  /** times this slot's worker was recycled after loading `maxModulesPerWorker` distinct modules */
  recycled: number;
  /** event-loop delay over the last report period (~0.5 s): p99 and max, ms */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** fill of this worker's result ring in [0, 1] (0 on the message transport) */
  ringUse: number;
  /** times this slot's worker blocked its thread idle (Atomics.wait; 0 on the message transport) */
  parks: number;
  /**
   * times it blocked while it still had live work (a task awaiting I/O or a timer, whose callbacks
   * cannot run while the thread is blocked): 0 unless shoal has a bug
   */
  parkedWhileLive: number;
  /** parked sibling workers it woke to take work it left at its fair share */
  siblingWakes: number;
  /** agents living on this worker (set by rt.stats()) */
  agents?: number;
  /** messages queued in their mailboxes, as last reported by the worker */
  mailbox?: number;
  /** agent turns run in this slot so far */
  turns?: number;
}

/** The whole pool. */
export interface RuntimeStats {
  transport: 'message' | 'shared';
  /** tasks submitted and not yet settled */
  inFlight: number;
  /** tasks no worker has claimed yet */
  queued: number;
  workers: readonly WorkerStats[];
  /** threads alive in the blocking pool */
  blockingThreads: number;
  /** live agents (set by rt.stats()) */
  agents?: number;
  /** the reactor's counters (TCP connections, handler errors, bytes); set by rt.stats() */
  net?: import('../net/reactor/reactor.js').ReactorStats;
}

/** Build the snapshot. */
export function snapshotStats(pool: Pool, blockingThreads: number): RuntimeStats {
  const workers = pool.counters.map((c, slot) =>
    Object.freeze({
      slot,
      threadId: pool.threadId(slot),
      running: c.running,
      queued: c.load?.starting ?? 0,
      completed: c.completed,
      failed: c.failed,
      restarts: c.restarts,
      recycled: c.recycled,
      loopDelayP99Ms: finite(c.load?.loopDelayP99Ms),
      loopDelayMaxMs: finite(c.load?.loopDelayMaxMs),
      ringUse: pool.transport.ringUse(slot),
      ...pool.transport.gauges(slot),
    }),
  );
  return Object.freeze({
    transport: pool.transport.kind,
    inFlight: pool.inFlight,
    queued: pool.transport.queued(),
    workers: Object.freeze(workers),
    blockingThreads,
  });
}

function finite(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) ? n : 0;
}
