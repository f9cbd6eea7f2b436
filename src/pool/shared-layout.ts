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
 * | bell[w]       | Doorbell             | main rings          | worker w parks          | "tasks or control messages for you" |
 * | mainBell      | Doorbell             | workers ring        | main waits (waitAsync)  | "results published" / "queue space" |
 * | claims[w]     | Int32Array           | worker w            | main, after w died only | ids claimed since w's last publish  |
 * | spinners      | Int32Array(1)        | workers (CAS 0->1, store 0) | —               | 1 while one idle worker spins       |
 *
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
 * Anything that does not fit a slot or a ring frame (large values, SharedArrayBuffers, ports:
 * whatever the codec would need a side table for) goes on the worker's MessagePort instead, as the
 * message transport's SUBMIT / OK / ERR frames; the control plane (CANCEL, QUERY, DEFINE, STATS,
 * TASKS) always does.
 */
import type { ByteRingDescriptor } from '../shm/byte-ring.js';
import type { DoorbellDescriptor } from '../shm/doorbell.js';
import type { SlotQueueDescriptor } from '../shm/slot-queue.js';

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

/** What a worker on the shared transport boots with (WorkerBoot.shared). */
export interface SharedBoot {
  tasks: SlotQueueDescriptor;
  results: ByteRingDescriptor;
  bell: DoorbellDescriptor;
  mainBell: DoorbellDescriptor;
  claims: SharedArrayBuffer;
  /** Int32Array(1) over it: the spinner token (see "spinners") */
  spinners: SharedArrayBuffer;
  /** fnId -> [url, name] known when the worker started (later ones arrive as DEFINE frames) */
  defs: Array<[number, string, string]>;
}
