/**
 * Shared channel — how one thread parks its waiting puts or takes on a shared channel: a local
 * FIFO of parked ops per direction, one "I may sleep" flag per direction raised by any handle
 * before it waits, and at most one `Atomics.waitAsync` outstanding per handle and direction. The
 * words are in layout.ts (TAKERS / PUT_SEQ for takes, PUTTERS / TAKE_SEQ for puts).
 *
 * Runs on any thread, including the main thread: it never calls Atomics.wait, only waitAsync,
 * and holds a ref'd timer exactly while it has a live parked op (waitAsync alone does not keep a
 * thread's event loop alive). Owns the parked entries of one handle and one direction.
 *
 * One cycle (the code below reads in this order):
 *  1. `add()` queues an entry; the first live entry refs the keep-alive timer; a cycle is
 *     scheduled (a microtask), never run inside `park` (op.ts invariant 4).
 *  2. A cycle stores the sleep flag (TAKERS or PUTTERS = 1), then loads SEQ (layout invariant 4),
 *     then serves entries oldest first: an entry whose handler is no longer active is dropped;
 *     otherwise `attempt` commits on shared memory or says NOT_READY; the first NOT_READY ends it.
 *     (A plain put or take spins on its attempt before it parks at all: channel.ts.)
 *  3. Entries left: spin briefly on SEQ, then `waitAsync(SEQ, seen)` (unless one is pending); its
 *     resolution runs the next cycle. No entries left: unref (a flag left at 1 costs some
 *     counterpart one spurious bump, nothing more).
 *
 * Why not doorbell.ts: a doorbell has one owner and one waiter (its STATE word says whether *the*
 * owner sleeps). A channel has parked ops on any number of threads, so the flag only says "some
 * handle may sleep"; the counterpart that clears it wakes every sleeper, and each one that still
 * waits raises the flag again.
 */
import { Ring } from '../../core/buffers.js';
import { NOT_READY, type Handler, type NotReady } from '../../core/op.js';

/**
 * One parked put or take. A put carries its staged value (value.ts): the tag, the
 * value itself for the fast tags, and a private copy of the codec frame for TAG_CODEC.
 */
export class WaitEntry {
  live = true;
  constructor(
    readonly h: Handler,
    readonly i: number,
    readonly tag: number,
    readonly v: unknown,
    readonly frame: Uint8Array | undefined,
  ) {}
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Loads of SEQ before parking: a few µs, far below a 30-40 µs wake-up through the kernel. */
const SPIN = 400;
/**
 * A waitAsync gives up after this long and the cycle re-checks. Bounds how long a wait left
 * behind by withdrawn interest (all its ops cancelled) keeps its handle reachable.
 */
const WAIT_SLICE_MS = 5_000;

/**
 * One timer per thread keeps the event loop alive while any list on this thread has a live parked
 * op: ref() and unref() are flag flips, where a timer per park would cost a microsecond each.
 */
let keepAlive: ReturnType<typeof setInterval> | undefined;
let parkedLists = 0;

function holdLoop(): void {
  if (parkedLists++ === 0) (keepAlive ??= setInterval(noop, 2 ** 30)).ref();
}

function releaseLoop(): void {
  if (--parkedLists === 0) keepAlive!.unref();
}

function noop(): void {}

/** The parked ops of one handle in one direction (takes, or puts). */
export class WaitList {
  readonly #w: Int32Array;
  readonly #flag: number;
  readonly #seq: number;
  readonly #attempt: (e: WaitEntry) => unknown;
  readonly #q = new Ring<WaitEntry>(4);
  #live = 0;
  #dead = 0;
  #pending = false;
  #scheduled = false;
  readonly #cycle = (): void => this.#run();

  /**
   * `attempt(e)` commits e's op on shared memory and returns its value, or returns NOT_READY
   * having changed nothing. It runs only while e's handler is active.
   */
  constructor(words: Int32Array, flagIndex: number, seqIndex: number, attempt: (e: WaitEntry) => unknown | NotReady) {
    this.#w = words;
    this.#flag = flagIndex;
    this.#seq = seqIndex;
    this.#attempt = attempt;
  }

  /** Live parked entries. */
  get live(): number {
    return this.#live;
  }

  /** Step 1: park `e`. The caller has checked its pending cap and made a failed try. */
  add(e: WaitEntry): void {
    this.#q.push(e);
    if (this.#live++ === 0) holdLoop();
    this.kick();
  }

  /** Unpark `e`: it is never served afterwards. Idempotent. */
  remove(e: WaitEntry): void {
    if (!e.live) return;
    e.live = false;
    if (--this.#live === 0) releaseLoop();
    // Compact when dead entries dominate, so a stream of cancelled waits cannot grow the ring.
    if (++this.#dead > 32 && this.#dead * 2 > this.#q.length) {
      this.#q.retain((x) => x.live);
      this.#dead = 0;
    }
  }

  /** Schedule a cycle (after park, or when this thread itself made the counterpart ready). */
  kick(): void {
    if (this.#scheduled || this.#live === 0) return;
    this.#scheduled = true;
    queueMicrotask(this.#cycle);
  }

  /** Steps 2 and 3. */
  #run(): void {
    this.#scheduled = false;
    if (this.#live === 0) return;
    const w = this.#w;
    Atomics.store(w, this.#flag, 1); // pairs with: core.ts wakeIf (Atomics.load / exchange flag)
    const seen = Atomics.load(w, this.#seq); // pairs with: core.ts wake (Atomics.add SEQ)
    this.#serve();
    if (this.#live === 0 || this.#pending) return;
    for (let k = SPIN; k > 0; k--) {
      if (Atomics.load(w, this.#seq) !== seen) return this.kick(); // pairs with: core.ts wake
    }
    const r = waitAsync(w, this.#seq, seen, WAIT_SLICE_MS); // pairs with: core.ts wake (Atomics.notify)
    if (!r.async) return this.kick(); // SEQ moved already
    this.#pending = true;
    r.value.then(() => {
      this.#pending = false;
      this.kick();
    });
  }

  /** Serve entries oldest first until one cannot commit. */
  #serve(): void {
    const q = this.#q;
    for (let e = q.peek(); e !== undefined; e = q.peek()) {
      if (!e.live) {
        q.shift();
        this.#dead--;
        continue;
      }
      if (!e.h.active) {
        // Its waiter gave up or another op of its select won: it unparks itself; drop it now.
        q.shift();
        e.live = false;
        if (--this.#live === 0) releaseLoop();
        continue;
      }
      const v = this.#attempt(e);
      if (v === NOT_READY) break;
      q.shift();
      e.live = false;
      if (--this.#live === 0) releaseLoop();
      // op.ts invariant 5: active was true and nothing ran since, so the claim cannot fail.
      if (!e.h.claim()) throw new Error('shared channel: a handler went inactive during a synchronous commit');
      e.h.commit(e.i, v);
    }
  }
}
