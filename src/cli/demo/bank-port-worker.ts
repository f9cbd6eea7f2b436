/**
 * The comparison's object host: accounts on one worker, driven by postMessage calls
 * `{ id, acct, method, args }` answered with `{ id, value }` or `{ id, error }` (what comlink does
 * for every call on a proxied object, minus its proxy machinery).
 *
 * Runs on a worker thread started by src/cli/demo/scene-agents.ts. Owns the accounts.
 */
import { parentPort } from 'node:worker_threads';
import { Account } from './bank.js';

interface Call {
  id: number;
  acct: number;
  method: 'deposit' | 'withdraw' | 'total' | 'open';
  args: number[];
}

const accounts: Account[] = [];
parentPort!.on('message', (batch: Call[]) => {
  const replies = batch.map((c) => {
    try {
      if (c.method === 'open') return { id: c.id, value: accounts.push(new Account(c.args[0])) - 1 };
      const a = accounts[c.acct]!;
      return { id: c.id, value: (a[c.method] as (n?: number) => unknown).call(a, c.args[0]) };
    } catch (e) {
      return { id: c.id, error: String(e) };
    }
  });
  parentPort!.postMessage(replies);
});
