/**
 * A bank of accounts as agents: each Account is an object living on one worker with its own
 * ordered mailbox, so concurrent deposits and withdrawals never lose an update, even though
 * `withdraw` awaits in the middle (an audit log write). Also the main-side helpers the agents
 * demo uses: `openBank` and `transfer`.
 *
 * The classes run on pool workers (loaded by rt.agent); the helpers run on the main thread.
 */
import { sleep, type Agent, type Runtime } from 'shoal';

/** One account. Its methods are its messages. */
export class Account {
  balance: number;
  history = 0;
  constructor(
    readonly owner: string,
    opening = 0,
  ) {
    this.balance = opening;
  }
  deposit(amount: number): number {
    this.balance += amount;
    this.history++;
    return this.balance;
  }
  /** read, await, write: safe because turns do not interleave */
  async withdraw(amount: number): Promise<number> {
    const b = this.balance;
    if (amount > b) throw new RangeError(`${this.owner}: insufficient funds (${b} < ${amount})`);
    await sleep(0); // e.g. write an audit record
    this.balance = b - amount;
    this.history++;
    return this.balance;
  }
  getBalance(): number {
    return this.balance;
  }
  /** supervision re-creates a crashed account from its last snapshot */
  snapshot(): { balance: number; history: number } {
    return { balance: this.balance, history: this.history };
  }
  restore(s: { balance: number; history: number }): void {
    this.balance = s.balance;
    this.history = s.history;
  }
}

export type AccountHandle = Agent<typeof Account>;

const here = new URL(import.meta.url);

/** Open `n` accounts of `opening` each, spread over the workers. */
export function openBank(rt: Runtime, n: number, opening: number): Promise<AccountHandle[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => rt.agent<typeof Account>(here, 'Account', [`acct-${i}`, opening])),
  );
}

/** Move `amount` from one account to another; false (nothing moved) when funds are short. */
export async function transfer(from: AccountHandle, to: AccountHandle, amount: number): Promise<boolean> {
  try {
    await from.call('withdraw', amount);
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
  await to.send('deposit', amount);
  return true;
}

/** The sum of every balance (each read is ordered after what this thread sent that account). */
export async function totalBalance(accounts: readonly AccountHandle[]): Promise<number> {
  const bs = await Promise.all(accounts.map((a) => a.call('getBalance')));
  return bs.reduce((s, b) => s + b, 0);
}
