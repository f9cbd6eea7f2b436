/**
 * LoopParker — the owner side of a doorbell (doorbell.ts) for a loop that lives on its thread's
 * event loop and parks and wakes thousands of times a second: the reactor and every net host
 * (src/net/bell-loop.ts). It replaces `Doorbell.wait()` for such a loop; the two are never
 * mixed on one bell (doorbell.ts invariant 1: one waiter, the owner).
 *
 * Runs on the doorbell's owner thread only (any thread, main included: it never calls
 * Atomics.wait). Owns: the owner's STATE stores and at most one Atomics.waitAsync on SEQ.
 *
 * Why not `Doorbell.wait()`: such a loop is often woken by something other than its bell (a
 * socket's data, a handler's write) and must then be RUNNING again at once, so that the ring that
 * answers its hand-off costs the ringer no notify (33 µs of the ringer's CPU here). `wait()`
 * could only be left by a notify; this parker is left by a plain store (`unpark`), and the
 * waitAsync it registered stays registered and serves the next park: a notify wakes a waiter
 * whatever value it was registered with, the value only decides whether it sleeps at all.
 *
 * Words used (doorbell.ts table): SEQ (read), STATE (written by the owner; ringers CAS it
 * PARKED→RUNNING before they notify).
 *
 * 1. `park(seen)` stores STATE=PARKED, then re-reads SEQ (Dekker with `Doorbell.ring`'s add then
 *    load of STATE): either it sees SEQ moved and does not sleep, or the ringer sees PARKED and
 *    notifies. A waitAsync is registered only when none is, with `seen`: a ring between the
 *    re-read and the registration makes it return 'not-equal' at once, so nothing is lost.
 * 2. `unpark()` stores STATE=RUNNING without a ring. A ringer that won PARKED→RUNNING just before
 *    it may still notify: the registered waiter then fires while the loop is awake, a spurious
 *    wake, and the loop runs one extra turn (harmless, as doorbell.ts invariant 5).
 * 3. At most one waitAsync of ours is registered at any time (`pending`), so the ringer's
 *    notify of one waiter always reaches it.
 * 4. `dispose()` notifies our own registered waiter, so none outlives the loop.
 */
import {
  DOORBELL_SEQ as SEQ,
  DOORBELL_STATE as STATE,
  PARKED,
  RUNNING,
  waitAsync,
  type DoorbellDescriptor,
} from './doorbell.js';

/**
 * Park / unpark for an event-loop-driven doorbell owner. The waitAsync never keeps the event
 * loop alive (it is unref'd by nature): the loop's sockets or ports must.
 *
 * @example
 * const parker = new LoopParker(bell.descriptor, (slept) => turn());
 * const s = bell.seq();
 * if (step() === 0 && !parker.park(s)) queueTurn();   // false: SEQ moved, look again now
 * // ...another event queued a turn that found work:
 * parker.unpark();                                    // ringers stop notifying
 */
export class LoopParker {
  private readonly w: Int32Array;
  private readonly onWake: (slept: boolean) => void;
  /** a waitAsync of ours is registered on SEQ (invariant 3) */
  private pending = false;
  /** STATE=PARKED was published by park() and not undone by unpark() or a wake */
  private asleep = false;
  /** parks that went to sleep, and waitAsyncs registered for them */
  parks = 0;
  registrations = 0;

  /** `onWake(slept)`: the registered waiter fired; `slept` says the loop was parked then. */
  constructor(descriptor: DoorbellDescriptor, onWake: (slept: boolean) => void) {
    this.w = new Int32Array(descriptor.sab, descriptor.byteOffset, 4);
    this.onWake = onWake;
  }

  /** True while parked (STATE=PARKED published, no wake or unpark since). */
  get parked(): boolean {
    return this.asleep;
  }

  /**
   * Invariant 1: sleep from `seen` (SEQ read before the loop last looked for work). Returns false
   * when SEQ already moved: the caller looks for work again instead.
   */
  park(seen: number): boolean {
    const w = this.w;
    Atomics.store(w, STATE, PARKED); // pairs with: doorbell.ts ring (Atomics.load / compareExchange STATE)
    if (Atomics.load(w, SEQ) !== seen) {
      // pairs with: doorbell.ts ring (Atomics.add SEQ)
      Atomics.store(w, STATE, RUNNING);
      return false;
    }
    if (!this.pending) {
      const r = waitAsync(w, SEQ, seen); // pairs with: doorbell.ts ring (Atomics.notify)
      if (!r.async) {
        Atomics.store(w, STATE, RUNNING);
        return false; // 'not-equal': rung in between (no timeout is given, so never 'timed-out')
      }
      this.pending = true;
      this.registrations++;
      r.value.then(this.fired, this.fired);
    }
    this.asleep = true;
    this.parks++;
    return true;
  }

  /** Invariant 2: awake again without a ring; the registered waiter stays for the next park. */
  unpark(): void {
    if (!this.asleep) return;
    this.asleep = false;
    Atomics.store(this.w, STATE, RUNNING); // pairs with: doorbell.ts ring (Atomics.load STATE)
  }

  /** Invariant 4: wake our own registered waiter (the loop is ending). */
  dispose(): void {
    if (this.pending) Atomics.notify(this.w, SEQ); // pairs with: the waitAsync registered in park()
  }

  private readonly fired = (): void => {
    this.pending = false;
    const slept = this.asleep;
    this.asleep = false;
    Atomics.store(this.w, STATE, RUNNING); // a ringer that notified already stored it; a spurious wake did not
    this.onWake(slept);
  };
}
