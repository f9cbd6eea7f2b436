/**
 * Shared-memory layout of the dispatch path (the default transport): which regions exist, who
 * writes them, and what each frame holds. The regions themselves are src/shm primitives; this
 * file fixes how the pool uses them.
 *
 * Runs on both sides. Owns nothing at run time (constants and types only).
 *
 * Regions (one set per Runtime, plus one per worker generation):
 *
 * | region        | kind                 | written by          | read by                 | holds                               |
 * |---------------|----------------------|---------------------|-------------------------|-------------------------------------|
 * | tasks         | SlotQueue (MPMC)     | main (reserve/commit)| every worker (claim)   | one task per slot (TASK frame)      |
 * | results[w]    | ByteRing (SPSC)      | worker w            | main                    | OK / ERR / CLAIM frames             |
 * | bells[s]      | Doorbell, per slot   | main, sibling workers ring | the worker in slot s parks | "tasks or control messages for you" |
 * | mainBell      | Doorbell             | workers ring        | main waits (waitAsync)  | "results published" / "queue space" |
 * | claims[w]     | Int32Array           | worker w            | main, after w died only | ids claimed since w's last publish  |
 * | gauges[s]     | Int32Array, per slot | see the table below | main, sibling workers   | load and park counters of slot s    |
 * | spinners      | Int32Array(1)        | workers (CAS 0->1, store 0) | —               | 1 while one idle worker spins       |
 *
 * bells and gauges are per slot, not per worker generation: a replacement worker inherits its
 * slot's bell (whoever rings it wakes the new thread) and its counters.

 * TASK slot payload:  u32 id, u32 fnId, value(args)          (slot tag T_TASK, or T_VOID = skip)
 * result frames:      tag R_OK:    u32 id, value(result)
 *                     tag R_ERR:   u32 id, value(WireError)
 *                     tag R_CLAIM: u32 count, count x u32 id  (tasks still running at publish time)
 *
 * claims[w] words: [0] COUNT (Atomics.store by worker w), [1 + i] claimed id i (plain stores,
 * ordered by the COUNT store). Worker w appends an id before it starts the task and sets COUNT=0
 * after publishing its results ring (by then every claimed task is visible to main as a result or
 * a CLAIM frame). Main reads claims[w] only after w's thread has exited, to learn which tasks
 * died with it that it had not heard of yet.
 *
 * spinners: an idle worker spins on its bell (cheap wake-up, no syscall) only if it wins
 * compareExchange(spinners, 0, 1); the others park at once. On a machine with as many cores as
 * workers, every spinning worker steals a core from the main thread or a busy sibling, so one
 * spinner is enough to catch the next task quickly and more only slow everyone down.
 *
 * gauges[s]: GAUGE_WORDS Int32 words per slot (one cache line), at s * GAUGE_WORDS:
 *
 * | idx | name              | written by                 | read by          | meaning                                      |
 * |-----|-------------------|----------------------------|------------------|----------------------------------------------|
 * | 0   | G_LIVE            | worker s (Atomics.store)   | main, siblings   | its async tasks not settled yet              |
 * | 1   | G_TURNS           | worker s (Atomics.add)     | siblings         | bumps every loop turn: it is making progress |
 * | 2   | G_ALIVE           | worker s (store 1 at start), main (store 0 when it died) | siblings | 1 while its loop runs |
 * | 3   | G_PARKS           | worker s (Atomics.add)     | main (stats)     | blocking parks (Atomics.wait) so far         |
 * | 4   | G_PARKED_LIVE     | worker s (Atomics.add)     | main (stats)     | blocking parks entered with live work: 0     |
 * | 5   | G_SIBLING_WAKES   | worker s (Atomics.add)     | main (stats)     | parked siblings it rang for queued work      |
 *
 * Fair share (worker.ts claimSome): a worker keeps claiming tasks that finish
 * synchronously, but stops taking tasks that stay live (awaiting I/O, timers...) once it holds
 * ceil((live on all workers + queued) / workers) of them, and rings a sibling at rest (parked or
 * spinning, alive) to take the rest. Without it, whichever worker wakes first claims a whole burst
 * of async tasks, and their CPU work later runs on that one thread while the other idles.
 * A worker claims past its share only when no sibling is at rest and none made progress for
 * STALL_MS (a sibling stuck in a long synchronous slice must not hold the queue hostage).

 * Anything that does not fit a slot or a ring frame (large values, SharedArrayBuffers, ports:
 * whatever the codec would need a side table for) goes on the worker's MessagePort instead, as the
 * message transport's SUBMIT / OK / ERR frames; the control plane (CANCEL, QUERY, DEFINE, STATS,
 * TASKS) always does.
 */
import type { ByteRingDescriptor } from '../../shm/byte-ring.js';
import type { DoorbellDescriptor } from '../../shm/doorbell.js';
import type { SlotQueueDescriptor } from '../../shm/slot-queue.js';

export const T_VOID = 0;
export const T_TASK = 1;

export const R_OK = 1;
export const R_ERR = 2;
export const R_CLAIM = 3;

/** Slots in the task queue (a power of two) and payload bytes per slot. */
export const TASK_SLOTS = 4096;
export const TASK_SLOT_BYTES = 496;
/** Data bytes of each worker's results ring (a power of two). */
export const RESULT_RING_BYTES = 1 << 20;
/** Entries in a claim log; a worker publishes before it overflows. */
export const CLAIM_LOG_SIZE = 1024;

/** Int32 words per slot in the gauges region (64 bytes: one cache line per slot). */
export const GAUGE_WORDS = 16;
export const G_LIVE = 0;
export const G_TURNS = 1;
export const G_ALIVE = 2;
export const G_PARKS = 3;
export const G_PARKED_LIVE = 4;
export const G_SIBLING_WAKES = 5;

/** What a worker on the shared transport boots with (WorkerBoot.shared). */
export interface SharedBoot {
  /** this worker's slot (its bell and gauges) */
  slot: number;
  tasks: SlotQueueDescriptor;
  results: ByteRingDescriptor;
  /** every slot's bell, slot order (this worker's own is bells[slot]) */
  bells: DoorbellDescriptor[];
  mainBell: DoorbellDescriptor;
  claims: SharedArrayBuffer;
  /** Int32Array over it: GAUGE_WORDS words per slot (see "gauges") */
  gauges: SharedArrayBuffer;
  /** Int32Array(1) over it: the spinner token (see "spinners") */
  spinners: SharedArrayBuffer;
  /** fnId -> [url, name] known when the worker started (later ones arrive as DEFINE frames) */
  defs: Array<[number, string, string]>;
}
