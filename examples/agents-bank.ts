/**
 * Agents: a bank of 1,000 accounts on the worker pool, 20,000 concurrent random transfers, and
 * the money is all still there at the end. Prints the totals and where the accounts live.
 *
 * Run: npm run build && node dist/examples/agents-bank.js
 */
import { Runtime } from 'shoal';
import { openBank, totalBalance, transfer } from './bank.js';

await using rt = await Runtime.start({ workers: 2 });

const accounts = await openBank(rt, 1000, 100);
console.log('opened', accounts.length, 'accounts; total', await totalBalance(accounts));

let seed = 42;
const rnd = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
  return seed % n;
};
const results = await Promise.all(
  Array.from({ length: 20_000 }, () => transfer(accounts[rnd(1000)]!, accounts[rnd(1000)]!, 1 + rnd(20))),
);
console.log('transfers done:', results.filter(Boolean).length, 'moved,', results.filter((r) => !r).length, 'refused');

await Promise.all(accounts.map((a) => a.sync())); // every deposit sent has run
const total = await totalBalance(accounts);
console.log('total after transfers', total);
if (total !== 100_000) throw new Error(`money was lost or made: ${total}`);

for (const w of rt.stats().workers) console.log(`worker ${w.slot}: ${w.agents} agents, ${w.turns} turns`);
