/**
 * Benchmark: small values per second through a channel across two threads (main puts, one worker
 * takes), side by side in one process: the shared-memory channel vs the same API over
 * MessagePort (SHOAL_TRANSPORT=message's port channel) vs raw postMessage (one message per
 * value, the anchor the issue names). Goal (issue 3): >= 5M values/s and >= 5x a MessagePort.
 *
 * Runs on the main thread; the same file is the consumer worker's entry (it checks workerData).
 * Each round runs every case back to back; the table reports medians over the rounds. Cases:
 *  - await put / await take: the plain API on both sides, `sharedChan(1024)`;
 *  - try first: `tryPut`/`tryTake` and `await` only when they fail (what a batch loop would do);
 *  - port channel: the plain API under the message transport;
 *  - anchor: `port.postMessage(i)` per value, the worker counting 'message' events.
 *
 * usage: node dist/perf/shm-chan.bench.js [--quick]
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData, type TransferListItem } from 'node:worker_threads';
import { fromDescriptor, sharedChan, type ChannelDescriptor } from '../src/shm/shared-chan-factory.js';
import type { SharedChannel } from '../src/shm/shared-chan.js';
import { median, printTable, result, type BenchResult } from './bench-types.js';

interface ConsumerJob {
  benchRole: 'chan' | 'raw';
  ch?: ChannelDescriptor;
  n: number;
  tryFirst: boolean;
}

/** Worker side: take `n` values, then report how many (and their sum, so nothing is skipped). */
async function consume(job: ConsumerJob): Promise<void> {
  const port = parentPort!;
  if (job.benchRole === 'raw') {
    let got = 0;
    let sum = 0;
    port.on('message', (v: number) => {
      sum += v;
      if (++got === job.n) {
        port.postMessage({ got, sum });
        port.close();
      }
    });
    port.postMessage('ready');
    return;
  }
  const ch = fromDescriptor<number>(job.ch!);
  port.postMessage('ready');
  let got = 0;
  let sum = 0;
  while (got < job.n) {
    let v = job.tryFirst ? ch.tryTake() : undefined;
    if (v === undefined) v = await ch.take();
    if (v === undefined) break;
    sum += v;
    got++;
  }
  port.postMessage({ got, sum });
}

/** Start the consumer, wait for it to be ready, run `produce`, return values/s. */
async function timed(job: ConsumerJob, transfer: readonly TransferListItem[], produce: (w: Worker) => Promise<void>): Promise<number> {
  const w = new Worker(new URL(import.meta.url), { workerData: job, transferList: [...transfer] });
  try {
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    const done = new Promise<{ got: number; sum: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    const t0 = performance.now();
    await produce(w);
    const r = await done;
    const ms = performance.now() - t0;
    const want = (job.n * (job.n - 1)) / 2;
    if (r.got !== job.n || r.sum !== want) throw new Error(`consumer got ${r.got}/${job.n} values (sum ${r.sum}, want ${want})`);
    return (job.n / ms) * 1000;
  } finally {
    await w.terminate();
  }
}

function chanCase(transport: 'shared' | 'message', n: number, tryFirst: boolean): () => Promise<number> {
  return () => {
    const ch: SharedChannel<number> = sharedChan<number>(1024, { transport });
    const { descriptor, transfer } = ch.descriptor();
    return timed({ benchRole: 'chan', ch: descriptor, n, tryFirst }, transfer, async () => {
      for (let i = 0; i < n; i++) {
        if (tryFirst && ch.tryPut(i)) continue;
        await ch.put(i);
      }
    });
  };
}

function rawCase(n: number): () => Promise<number> {
  return () =>
    timed({ benchRole: 'raw', n, tryFirst: false }, [], async (w) => {
      for (let i = 0; i < n; i++) w.postMessage(i);
    });
}

/** Run the suite; `quick` shrinks counts and rounds for CI smoke runs. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const rounds = quick ? 5 : 7;
  const nShared = quick ? 200_000 : 2_000_000;
  const nPort = quick ? 20_000 : 100_000;
  const nRaw = quick ? 50_000 : 300_000;
  const cases = {
    sharedAwait: chanCase('shared', nShared, false),
    sharedTry: chanCase('shared', nShared, true),
    port: chanCase('message', nPort, false),
    raw: rawCase(nRaw),
  };
  const samples: Record<keyof typeof cases, number[]> = { sharedAwait: [], sharedTry: [], port: [], raw: [] };
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(cases) as (keyof typeof cases)[]) samples[k].push(await cases[k]());
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<keyof typeof cases, number>;
  const suite = 'shm-chan';
  const goal = '>= 5M/s, >= 5x';
  return [
    result({ suite, case: 'put/take across 2 threads, await both sides', unit: 'values/s', shoal: m.sharedAwait, anchor: 'raw postMessage', anchorValue: m.raw, higherIsBetter: true, goal }),
    result({ suite, case: 'put/take across 2 threads, try first', unit: 'values/s', shoal: m.sharedTry, anchor: 'raw postMessage', anchorValue: m.raw, higherIsBetter: true, goal }),
    result({ suite, case: 'put/take across 2 threads, await both sides', unit: 'values/s', shoal: m.sharedAwait, anchor: 'port channel (message transport)', anchorValue: m.port, higherIsBetter: true, goal }),
    result({ suite, case: 'port channel vs raw postMessage (fallback cost)', unit: 'values/s', shoal: m.port, anchor: 'raw postMessage', anchorValue: m.raw, higherIsBetter: true }),
  ];
}

if (!isMainThread && (workerData as ConsumerJob | undefined)?.benchRole !== undefined) {
  void consume(workerData as ConsumerJob);
} else if (isMainThread && import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`shm-chan bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
