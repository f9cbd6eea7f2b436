/**
 * WakeList — the waits parked on one connection until its slot is next marked (the net host's
 * "poke"), a deadline passes, or a signal aborts. A woken wait only learns that something may
 * have changed: its owner re-checks the rings and READY (Conn.readable, Conn.writable, blocked
 * writes).
 *
 * Runs on the worker thread of its Conn. Owns: the list of parked waits and their timers.
 */
import { onCancel, throwIfCancelled } from '../../core/context.js';

/** Parked waits of one connection, woken all at once. */
export class WakeList {
  private waiters: Array<() => void> = [];

  /**
   * Park until the next wakeAll() (true), `deadline` (performance.now() time; false), or
   * cancellation by `signal` or the ambient task's signal (rejects with CancelledError).
   *
   * @example
   * while (!ready()) if (!(await list.wait(performance.now() + 100, signal))) return 'timed out';
   */
  wait(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      throwIfCancelled(signal);
      let timer: NodeJS.Timeout | undefined;
      const woke = (): void => {
        if (timer) clearTimeout(timer);
        off();
        resolve(true);
      };
      const drop = (): void => {
        const k = this.waiters.indexOf(woke);
        if (k >= 0) this.waiters.splice(k, 1);
        if (timer) clearTimeout(timer);
      };
      const off = onCancel(signal, (e) => {
        drop();
        reject(e);
      });
      if (deadline !== Infinity) {
        const left = deadline - performance.now();
        if (left <= 0) {
          off();
          resolve(false);
          return;
        }
        timer = setTimeout(() => {
          drop();
          off();
          resolve(false);
        }, Math.ceil(left));
      }
      this.waiters.push(woke);
    });
  }

  /** Wake every parked wait; they re-check their condition. */
  wakeAll(): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}
