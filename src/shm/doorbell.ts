/**
 * Doorbell — the wait/wake protocol between threads. One per waiting thread (its owner), shared by
 * every ring that thread consumes: producers `ring()` it after publishing; the owner spins briefly,
 * then parks on it (Atomics.wait in a worker that has nothing else to run, Atomics.waitAsync where
 * the event loop must keep running). A wake-up through the kernel costs 30-40 µs on our machines,
 * so a producer notifies only an owner that has published that it is parked.
 *
 * Runs on any thread: `ring()` on producer threads; `waitSync()` on the owner (never the main
 * thread); `wait()` on the owner (any thread). Owns 64 bytes (one cache line) of a SAB.
 *
 * Int32 words at `byteOffset`:
 *
 * | idx | name  | written by                                   | waited on by             | meaning                        |
 * |-----|-------|----------------------------------------------|--------------------------|--------------------------------|
 * | 0   | SEQ   | ringers (Atomics.add)                        | owner (wait / waitAsync) | bumps on every ring            |
 * | 1   | STATE | owner (store), ringers (compareExchange P→R) | —                        | RUNNING=0 SPINNING=1 PARKED=2  |
 * | 2   | MAGIC | initDoorbell, once                           | —                        | 0x5348_4442 ('SHDB')           |
 * | 3   | RUNG_AT | the ringer that notifies (store, before the notify) | —                  | when it woke the owner: µs of absolute time, mod 2^31 |
 *
 * Invariants:
 * 1. Only the owner waits on SEQ, one wait at a time, and only after it has stored STATE=PARKED
 *    and re-read SEQ (seeing it unchanged).
 * 2. A ringer bumps SEQ before it reads STATE. With (1) and sequentially consistent Atomics this
 *    is Dekker's pattern: either the owner's re-read sees the new SEQ (and does not sleep), or the
 *    ringer sees PARKED (and notifies). A wake-up cannot be lost.
 * 3. A ringer notifies only after winning compareExchange(STATE, PARKED, RUNNING): concurrent
 *    ringers of one parked owner make one syscall, and a running owner costs no syscall at all.
 * 4. The owner takes `seenSeq = seq()` BEFORE checking its condition (rings empty...). Producers
 *    publish before they ring, so anything published after the check has moved SEQ past seenSeq,
 *    and `wait(seenSeq)` returns at once.
 * 5. A wake with SEQ still equal to seenSeq (a late notify from an earlier cycle) is spurious:
 *    the owner parks again for the time left. Results say only 'rung' (SEQ moved) or 'timed-out'.
 * 6. The main thread never calls Atomics.wait (waitSync throws there). An async wait holds a ref'd
 *    timer only while it is parked (Atomics.waitAsync alone does not keep a loop alive) and, when it
 *    settles by timeout or cancellation, notifies SEQ itself so no stale waiter is left behind.
 * 7. RUNG_AT is a hint for wake-up policies (net/awake-window.ts): when the owner was woken,
 *    so that the time it took to run again is not counted as its peer's silence. It is written
 *    only on the notify path (one store next to a syscall), so after a wake without a notify (a
 *    spin win, a timeout) it is stale: readers treat implausible values as unknown.
 * 8. A ringer may skip SEQ altogether while the owner is not parked (`ringIfParked`: a load of
 *    STATE, no store, so a spinning owner's cache line is not stolen on every message) only when
 *    the owner, after publishing PARKED, re-reads that ringer's data itself (the `recheck` option
 *    of `wait`) and watches that data, not SEQ, while it spins. Dekker again, on the data word:
 *    the ringer stores its data (a ring's TAIL, or a stamped ring's HEADER: byte-ring.ts
 *    invariant 7) then loads STATE; the owner stores PARKED then
 *    loads the data; one of the two sees the other's store.
 */
import { isMainThread } from 'node:worker_threads';
import { stateError } from '../core/args.js';
import { onCancel, throwIfCancelled } from '../core/context.js';
import { checkInt, checkMagic, checkRegion, checkSab, badType } from './layout.js';

const SEQ = 0;
const STATE = 1;
/** Word indexes of SEQ and STATE, for the other owner-side waiter (loop-parker.ts). */
export const DOORBELL_SEQ = SEQ;
export const DOORBELL_STATE = STATE;
const MAGIC = 2;
const RUNG_AT = 3;
const DOORBELL_MAGIC = 0x53484442;
/** RUNG_AT's clock wraps here (2^31 µs, about 36 minutes). */
const RUNG_AT_WRAP = 2 ** 31;

/** Absolute time in µs mod 2^31, comparable across threads (each adds its own timeOrigin). */
function clockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) % RUNG_AT_WRAP;
}

/** STATE values. */
export const RUNNING = 0;
export const SPINNING = 1;
export const PARKED = 2;

/** Bytes a doorbell occupies (one cache line, so ringers of two bells never share a line). */
export const DOORBELL_BYTES = 64;

/** Longest single timer Node accepts; waits without a timeout re-arm it. */
const MAX_TIMER_MS = 0x7fffffff;

/** What a doorbell is, as it travels through postMessage. */
export interface DoorbellDescriptor {
  readonly kind: 'shoal:doorbell';
  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
}

/** How a wait ended: the bell was rung (SEQ moved past seenSeq) or the time ran out. */
export type DoorbellWaitResult = 'rung' | 'timed-out';

/** Options of {@link Doorbell}. */
export interface DoorbellOptions {
  /** Loads of SEQ before parking (each a few ns). Default 1000: a few µs, far below a wake-up. */
  readonly spinIterations?: number;
}

/** Options of {@link Doorbell.wait}. */
export interface DoorbellAsyncWaitOptions {
  /** Give up after this long (resolves 'timed-out'). Default: no limit. */
  readonly timeoutMs?: number;
  /** Rejects with CancelledError when aborted (the ambient task signal counts too). */
  readonly signal?: AbortSignal;
  /** Keep the event loop alive while parked (default true). Pass false when idle on purpose. */
  readonly ref?: boolean;
  /**
   * Asked right after STATE=PARKED is published and before sleeping: true means work came (the
   * wait resolves 'rung' at once). Required by owners whose producers use `ringIfParked`
   * (invariant 8): check their data here.
   */
  readonly recheck?: () => boolean;
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync, typed (Node 20's lib types lack it); also used by loop-parker.ts. */
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Initialise a doorbell in `sab` at `byteOffset` (8-aligned, 64 bytes; 64-aligned avoids sharing
 * a cache line with another bell).
 *
 * @example
 * const sab = new SharedArrayBuffer(4096);
 * const bell = new Doorbell(initDoorbell(sab, 0));
 */
export function initDoorbell(sab: SharedArrayBuffer, byteOffset: number): DoorbellDescriptor {
  checkSab('sab', sab);
  checkRegion(sab, byteOffset, DOORBELL_BYTES);
  const w = new Int32Array(sab, byteOffset, 4);
  Atomics.store(w, SEQ, 0);
  Atomics.store(w, RUNG_AT, 0);
  Atomics.store(w, STATE, RUNNING);
  Atomics.store(w, MAGIC, DOORBELL_MAGIC); // pairs with: layout.ts checkMagic
  return { kind: 'shoal:doorbell', sab, byteOffset };
}

/**
 * Allocate a doorbell in its own SharedArrayBuffer.
 *
 * @example
 * const desc = createDoorbell();
 * worker.postMessage({ bell: desc });      // the worker does `new Doorbell(desc)` and waits on it
 * new Doorbell(desc).ring();               // here: wake it after publishing
 */
export function createDoorbell(): DoorbellDescriptor {
  return initDoorbell(new SharedArrayBuffer(DOORBELL_BYTES), 0);
}

/**
 * A thread's doorbell. Construct it from the descriptor on every thread that rings or owns it.
 *
 * @example
 * // owner (a worker with nothing else to run):
 * const s = bell.seq();
 * if (!reader.available()) bell.waitSync(s, msUntilNextTimer);
 * // producer, after publishing one batch:
 * bell.ring();
 */
export class Doorbell {
  /** The descriptor this handle was built from (pass it on with postMessage). */
  readonly descriptor: DoorbellDescriptor;
  private readonly w: Int32Array;
  private readonly spin: number;
  private waiting = false;
  private rings = 0;
  private notifies = 0;
  private parks = 0;
  private spinWins = 0;

  constructor(descriptor: DoorbellDescriptor, options: DoorbellOptions = {}) {
    if (descriptor === null || typeof descriptor !== 'object' || descriptor.kind !== 'shoal:doorbell') {
      badType('descriptor must be a DoorbellDescriptor (from createDoorbell or initDoorbell)');
    }
    checkSab('descriptor.sab', descriptor.sab);
    checkRegion(descriptor.sab, descriptor.byteOffset, DOORBELL_BYTES);
    this.w = new Int32Array(descriptor.sab, descriptor.byteOffset, 4);
    checkMagic(this.w, MAGIC, DOORBELL_MAGIC, 'doorbell');
    this.spin = checkInt('spinIterations', options.spinIterations ?? 1000, 0, 1e9);
    this.descriptor = descriptor;
  }

  /**
   * The current SEQ. Take it before checking whether there is work, then pass it to a wait.
   *
   * @example
   * const s = bell.seq(); if (!queue.size()) await bell.wait(s);
   */
  seq(): number {
    return Atomics.load(this.w, SEQ); // pairs with: doorbell.ts ring (Atomics.add)
  }

  /**
   * Wake the owner if it is parked. Call once per published batch, after publishing.
   * Returns true when it made the (costly) notify syscall.
   *
   * @example
   * writer.flush(); bell.ring();
   */
  ring(): boolean {
    this.rings++;
    Atomics.add(this.w, SEQ, 1); // pairs with: doorbell.ts park (Atomics.load SEQ after STATE=PARKED)
    if (
      Atomics.load(this.w, STATE) === PARKED && // pairs with: doorbell.ts park (Atomics.store PARKED)
      Atomics.compareExchange(this.w, STATE, PARKED, RUNNING) === PARKED
    ) {
      this.notifies++;
      Atomics.store(this.w, RUNG_AT, clockUs()); // invariant 7; pairs with: doorbell.ts msSinceNotify
      Atomics.notify(this.w, SEQ, 1); // pairs with: doorbell.ts waitSync / wait (Atomics.wait[Async] SEQ)
      return true;
    }
    return false;
  }

  /**
   * Wake the owner only if it is parked: one load of STATE while it runs or spins (no store, so
   * its cache line stays shared), `ring()` when it is parked. Only for producers whose data the
   * owner re-reads after parking (`wait`'s `recheck`) and polls while spinning (invariant 8).
   * Returns true when it made the notify syscall.
   *
   * @example
   * writer.flush(); bell.ringIfParked();   // the owner: bell.wait(s, { recheck: () => reader.available() })
   */
  ringIfParked(): boolean {
    // pairs with: doorbell.ts wait (Atomics.store PARKED in park, then options.recheck)
    if (Atomics.load(this.w, STATE) !== PARKED) return false;
    return this.ring();
  }

  /**
   * How long ago (ms) a ringer last woke the owner with a notify (invariant 7): read it right
   * after a wait returns 'rung'. Returns -1 when that is unknown (no notify yet, or a value
   * older than `withinMs`, which a wake without a notify leaves behind).
   *
   * @example
   * const r = await bell.wait(s); const lag = bell.msSinceNotify(gapMs); // the wake-up's own delay
   */
  msSinceNotify(withinMs: number): number {
    const at = Atomics.load(this.w, RUNG_AT); // pairs with: doorbell.ts ring (Atomics.store RUNG_AT)
    if (at === 0) return -1;
    const us = (clockUs() - at + RUNG_AT_WRAP) % RUNG_AT_WRAP;
    const ms = us / 1000;
    return ms <= withinMs ? ms : -1;
  }

  /** The owner's published state: 'running', 'spinning' or 'parked'. */
  state(): 'running' | 'spinning' | 'parked' {
    const s = Atomics.load(this.w, STATE);
    if (s === RUNNING) return 'running';
    if (s === SPINNING) return 'spinning';
    if (s === PARKED) return 'parked';
    throw new Error(`doorbell STATE holds ${s}, expected 0, 1 or 2`);
  }

  /**
   * Block this worker until the bell rings past `seenSeq` or `timeoutMs` passes: spin briefly,
   * then park with Atomics.wait. For a worker with nothing else to run; bound `timeoutMs` by its
   * next timer, since Atomics.wait freezes the worker's event loop. Throws on the main thread.
   *
   * @example
   * const s = bell.seq();
   * if (!reader.available()) bell.waitSync(s, 50);
   */
  waitSync(seenSeq: number, timeoutMs: number): DoorbellWaitResult {
    if (isMainThread) {
      throw stateError('Doorbell.waitSync would block the main thread; use await bell.wait()');
    }
    this.enter(timeoutMs);
    try {
      if (this.spinFor(seenSeq)) return 'rung';
      const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
      for (;;) {
        if (this.park(seenSeq)) return 'rung';
        const left = deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
        Atomics.wait(this.w, SEQ, seenSeq, left); // pairs with: doorbell.ts ring (Atomics.notify)
        Atomics.store(this.w, STATE, RUNNING);
        if (Atomics.load(this.w, SEQ) !== seenSeq) return 'rung';
        if (performance.now() >= deadline) return 'timed-out';
        // invariant 5: a late notify from an earlier cycle; park again for the time left
      }
    } finally {
      this.waiting = false;
    }
  }

  /**
   * Wait without blocking the thread: spin briefly, then park with Atomics.waitAsync while a ref'd
   * timer keeps the event loop alive (unless `ref: false`). Works on the main thread. Misuse
   * (a second concurrent wait, a negative timeout) throws; cancellation rejects with CancelledError.
   *
   * @example
   * const s = bell.seq();
   * if (!reader.available()) await bell.wait(s, { timeoutMs: 1000, signal });
   */
  wait(seenSeq: number, options: DoorbellAsyncWaitOptions = {}): Promise<DoorbellWaitResult> {
    const timeoutMs = options.timeoutMs ?? Infinity;
    this.enter(timeoutMs); // misuse throws here, at the call site
    try {
      throwIfCancelled(options.signal);
    } catch (e) {
      this.waiting = false;
      return Promise.reject(e);
    }
    if (this.spinFor(seenSeq)) {
      this.waiting = false;
      return Promise.resolve('rung');
    }
    return new Promise<DoorbellWaitResult>((resolve, reject) => {
      let settled = false;
      let pending = false; // a waitAsync of ours is registered on SEQ
      let timer: NodeJS.Timeout | undefined;
      const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
      const finish = (r: DoorbellWaitResult | Error): void => {
        if (settled) return;
        settled = true;
        this.waiting = false;
        Atomics.store(this.w, STATE, RUNNING);
        if (timer !== undefined) clearTimeout(timer);
        off();
        // invariant 6: wake our own stale waitAsync so it does not outlive this wait
        if (pending) Atomics.notify(this.w, SEQ); // pairs with: the waitAsync registered in arm()
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      const arm = (): void => {
        if (settled) return;
        if (this.park(seenSeq)) return finish('rung');
        if (options.recheck?.() === true) return finish('rung'); // invariant 8
        const r = waitAsync(this.w, SEQ, seenSeq); // pairs with: doorbell.ts ring (Atomics.notify)
        if (!r.async) return finish(r.value === 'not-equal' ? 'rung' : 'timed-out');
        pending = true;
        r.value.then(() => {
          pending = false;
          if (settled) return;
          Atomics.store(this.w, STATE, RUNNING);
          if (Atomics.load(this.w, SEQ) !== seenSeq) finish('rung');
          else arm(); // invariant 5: spurious
        }, finish);
      };
      const onTimer = (): void => {
        if (deadline !== Infinity && performance.now() >= deadline - 1) return finish('timed-out');
        timer = setTimeout(
          onTimer,
          Math.min(MAX_TIMER_MS, deadline === Infinity ? MAX_TIMER_MS : deadline - performance.now()),
        );
        if (options.ref === false) timer.unref();
      };
      const off = onCancel(options.signal, finish);
      // An unref'd wait without a deadline needs no timer at all (it would keep nothing alive and
      // never fire): the event loops of the reactor and the net host park this way every turn.
      if (deadline !== Infinity || options.ref !== false) onTimer();
      arm();
    });
  }

  /**
   * Owner only: spin for up to `us` microseconds of wall time until the bell rings past
   * `seenSeq`, publishing SPINNING meanwhile (a ringer that sees it skips the wake it would
   * otherwise owe a parked owner). Leaves STATE at RUNNING. True when SEQ moved. A spin bounded
   * by time, not by loads, costs the same on a busy machine as on an idle one: budget it below a
   * park and wake-up, so a spin that misses costs less than the wake-up it tried to save.
   *
   * @example
   * const s = bell.seq();
   * if (!queue.size() && !bell.spinUntil(s, 30)) bell.waitSync(s, 50);
   */
  spinUntil(seenSeq: number, us: number): boolean {
    const w = this.w;
    if (Atomics.load(w, SEQ) !== seenSeq) return true; // pairs with: doorbell.ts ring (Atomics.add)
    if (!(us > 0)) return false;
    Atomics.store(w, STATE, SPINNING);
    // the clock is read first after 64 loads (well under a µs): a ring that comes that soon (a
    // peer spinning for our answer) costs no performance.now() call at all
    let end = 0;
    for (let i = 1; ; i++) {
      if (Atomics.load(w, SEQ) !== seenSeq) {
        // pairs with: doorbell.ts ring (Atomics.add)
        Atomics.store(w, STATE, RUNNING);
        this.spinWins++;
        return true;
      }
      if ((i & 63) === 0) {
        const now = performance.now();
        if (end === 0) end = now + us / 1000;
        else if (now > end) break;
      }
    }
    Atomics.store(w, STATE, RUNNING);
    return Atomics.load(w, SEQ) !== seenSeq;
  }

  /**
   * Owner only: publish SPINNING ahead of a `spinUntil` that starts a little later (the owner is
   * about to publish an answer whose producer rings back at once: a ringer that sees SPINNING
   * neither notifies nor treats the owner as busy). Undo with `markRunning()` when no spin follows;
   * `spinUntil` leaves STATE at RUNNING itself. A ring meanwhile only bumps SEQ: the owner reads
   * SEQ before it checks for work (invariant 4), so it sees that ring before it parks.
   *
   * @example
   * bell.markSpinning(); writer.flush(); if (!bell.spinUntil(s, 30)) bell.markRunning();
   */
  markSpinning(): void {
    Atomics.store(this.w, STATE, SPINNING); // pairs with: doorbell.ts ring (Atomics.load STATE), pool/shared/wake.ts ring
  }

  /** Owner only: undo `markSpinning()` when no spin follows (STATE=RUNNING). */
  markRunning(): void {
    Atomics.store(this.w, STATE, RUNNING); // pairs with: doorbell.ts ring (Atomics.load STATE)
  }

  /** Counters kept by this handle (not shared between threads). */
  stats(): Readonly<{ rings: number; notifies: number; parks: number; spinWins: number }> {
    return Object.freeze({ rings: this.rings, notifies: this.notifies, parks: this.parks, spinWins: this.spinWins });
  }

  private enter(timeoutMs: number): void {
    if (!(timeoutMs >= 0)) checkInt('timeoutMs', timeoutMs, 0, Infinity);
    if (this.waiting) {
      throw stateError('Doorbell: only one wait at a time (only the owner waits)');
    }
    this.waiting = true;
  }

  /** Spin up to `spin` loads; true when SEQ moved. Publishes SPINNING for observers only. */
  private spinFor(seenSeq: number): boolean {
    const w = this.w;
    if (Atomics.load(w, SEQ) !== seenSeq) return true;
    if (this.spin === 0) return false;
    Atomics.store(w, STATE, SPINNING);
    for (let i = this.spin; i > 0; i--) {
      if (Atomics.load(w, SEQ) !== seenSeq) {
        // pairs with: doorbell.ts ring (Atomics.add)
        Atomics.store(w, STATE, RUNNING);
        this.spinWins++;
        return true;
      }
    }
    return false;
  }

  /** Invariant 1: publish PARKED, then re-read SEQ. True when SEQ already moved (do not sleep). */
  private park(seenSeq: number): boolean {
    Atomics.store(this.w, STATE, PARKED); // pairs with: doorbell.ts ring (Atomics.load / compareExchange STATE)
    if (Atomics.load(this.w, SEQ) !== seenSeq) {
      // pairs with: doorbell.ts ring (Atomics.add SEQ)
      Atomics.store(this.w, STATE, RUNNING);
      return true;
    }
    this.parks++;
    return false;
  }
}
