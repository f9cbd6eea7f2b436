/**
 * Scene "agent task queues": a bank of accounts, each a shoal agent with its own ordered mailbox,
 * against the same class hosted behind postMessage on a worker (the comlink way: every call is a
 * message and an answer). Two cases: a stream of deposits followed by reading every balance (shoal
 * uses fire-and-forget `send` then `sync`, the object host answers each call), and awaited calls
 * with 256 in flight on both. Both sides must end with the same balances.
 *
 * Runs on the main thread. Owns a Runtime and the object-host worker for the scene's duration.
 */
import { Worker } from 'node:worker_threads';
import { Runtime } from '../../runtime/runtime.js';
import { windowedRate } from './measure.js';
import type { Row } from './report.js';

const BANK = new URL('./bank.js', import.meta.url);
const HOST = new URL('./bank-port-worker.js', import.meta.url);

/** Options of {@link agentsScene}. */
export interface AgentsSceneOptions {
  workers: number;
  quick: boolean;
  log: (s: string) => void;
}

/** A tiny comlink-like client: calls batched per turn, answers matched by id. */
class PortBank {
  private readonly w = new Worker(HOST);
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private queue: unknown[] = [];
  private nextId = 0;

  constructor() {
    this.w.on('message', (replies: { id: number; value?: unknown; error?: string }[]) => {
      for (const r of replies) {
        const p = this.waiting.get(r.id)!;
        this.waiting.delete(r.id);
        if (r.error !== undefined) p.reject(new Error(r.error));
        else p.resolve(r.value);
      }
    });
  }

  call(acct: number, method: string, arg?: number): Promise<unknown> {
    const id = this.nextId++;
    if (this.queue.length === 0) queueMicrotask(() => this.flush());
    this.queue.push({ id, acct, method, args: [arg] });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private flush(): void {
    const q = this.queue;
    this.queue = [];
    this.w.postMessage(q);
  }

  close(): Promise<number> {
    return this.w.terminate();
  }
}

/**
 * Run the scene and return its rows.
 *
 * @example
 * const rows = await agentsScene({ workers: 2, quick: true, log: console.log });
 */
export async function agentsScene(o: AgentsSceneOptions): Promise<Row[]> {
  const accounts = 64;
  const deposits = o.quick ? 50_000 : 200_000;
  const calls = o.quick ? 20_000 : 60_000;
  o.log(
    `agent task queues: ${accounts} bank accounts; ${deposits} deposits then every balance read, and ${calls} awaited calls`,
  );
  o.log(
    `       shoal agents (${o.workers} workers) vs the same class behind postMessage on a worker (the comlink way)`,
  );

  // shoal: one agent per account
  const rt = await Runtime.start({ workers: o.workers });
  let shoalStream: number;
  let shoalCalls: number;
  let shoalSum: number;
  try {
    const accts = await Promise.all(Array.from({ length: accounts }, () => rt.agent(BANK, 'Account', [0])));
    await Promise.all(accts.map((a) => a.call('total'))); // warm: every agent and method used once
    const t0 = performance.now();
    for (let i = 0; i < deposits; i++) accts[i % accounts]!.send('deposit', 1);
    await Promise.all(accts.map((a) => a.sync()));
    const totals = (await Promise.all(accts.map((a) => a.call('total')))) as number[];
    shoalStream = deposits / ((performance.now() - t0) / 1000);
    shoalCalls = await windowedRate(calls, 256, (i) => accts[i % accounts]!.call('deposit', 1));
    shoalSum = totals.reduce((a, b) => a + b, 0);
    await Promise.all(accts.map((a) => a.stop()));
  } finally {
    await rt.close({ timeout: 5000 });
  }

  // the object host behind postMessage
  const bank = new PortBank();
  let portStream: number;
  let portCalls: number;
  let portSum: number;
  try {
    const ids = (await Promise.all(Array.from({ length: accounts }, () => bank.call(0, 'open', 0)))) as number[];
    await Promise.all(ids.map((a) => bank.call(a, 'total')));
    const t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < deposits; i++) pending.push(bank.call(ids[i % accounts]!, 'deposit', 1));
    await Promise.all(pending);
    const totals = (await Promise.all(ids.map((a) => bank.call(a, 'total')))) as number[];
    portStream = deposits / ((performance.now() - t0) / 1000);
    portCalls = await windowedRate(calls, 256, (i) => bank.call(ids[i % accounts]!, 'deposit', 1));
    portSum = totals.reduce((a, b) => a + b, 0);
  } finally {
    await bank.close();
  }
  if (shoalSum !== deposits || portSum !== deposits) {
    throw new Error(
      `agents scene: balances add up to ${shoalSum} (shoal) and ${portSum} (postMessage), expected ${deposits}`,
    );
  }
  o.log(`       balances agree: both sides hold ${deposits} after the deposit stream`);
  return [
    {
      scene: 'agents',
      case: 'deposit stream + read balances',
      unit: 'msg/s',
      shoal: shoalStream,
      anchor: 'postMessage object',
      other: portStream,
    },
    {
      scene: 'agents',
      case: 'awaited calls, 256 in flight',
      unit: 'calls/s',
      shoal: shoalCalls,
      anchor: 'postMessage object',
      other: portCalls,
    },
  ];
}
