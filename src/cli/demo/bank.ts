/**
 * The demo's agent: a bank account. On shoal each account is an agent (its own ordered mailbox on
 * a worker); for the comparison the same class is hosted on a worker behind postMessage, the way
 * comlink exposes an object (src/cli/demo/bank-port-worker.ts).
 *
 * Runs on pool workers (as agents) or on the postMessage host worker. Owns its balance.
 */
export class Account {
  private balance: number;

  constructor(opening = 0) {
    this.balance = opening;
  }

  /** Add `n` to the balance. */
  deposit(n: number): void {
    this.balance += n;
  }

  /** Take `n` out; refuses to overdraw. */
  withdraw(n: number): void {
    if (n > this.balance) throw new RangeError(`insufficient funds: ${this.balance} < ${n}`);
    this.balance -= n;
  }

  /** The current balance. */
  total(): number {
    return this.balance;
  }
}
