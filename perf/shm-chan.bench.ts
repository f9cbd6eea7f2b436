/**
 * Benchmark: small values per second through a channel across two threads (main puts, one worker
 * takes), side by side in one process: the shared-memory channel vs the same API over
 * MessagePort (SHOAL_TRANSPORT=message's port channel) vs raw postMessage (one message per
 * value, the anchor the issue names). Goal (issue 3): >= 5M values/s and >= 5x a MessagePort.
 *
 * Runs on the main thread; the same file is the consumer worker's entry (it checks workerData).
 * Each round runs every case back to back; the table reports medians over the rounds. Cases:
 *  - await put / await take: the plain API on both sides, `sharedChan(1024)`, small integers;
 *  - the same with 8-char strings;
 *  - for await (worker) over await put (main);
 *  - try first: `tryPut`/`tryTake` and `await` only when they fail;
 *  - putMany / takeMany in batches of 256;
 *  - port channel: the plain API under the message transport (await put / await take), and
 *    takeMany(256) on the worker;
 *  - anchor: `port.postMessage(i)` per value, the worker counting 'message' events.
 *
 * usage: node dist/perf/shm-chan.bench.js [--quick]
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData, type TransferListItem } from 'node:worker_threads';
import { fromDescriptor, sharedChan, type ChannelDescriptor } from '../src/shared-chan/index.js';
import type { SharedChannel } from '../src/shared-chan/memory/channel.js';
import { cpuSince, median, printTable, result, type BenchResult } from './bench-types.js';

type Take = 'await' | 'try' | 'iter' | 'many';
type Put = 'await' | 'try' | 'many';

interface ConsumerJob {
  benchRole: 'chan' | 'raw';
  ch?: ChannelDescriptor;
  n: number;
  take: Take;
  strings: boolean;
}

const BATCH = 256;
const STRS = Array.from({ length: 1024 }, (_, i) => `v${String(i).padStart(7, '0')}`);

/** Worker side: take `n` values, then report how many (and a checksum, so nothing is skipped). */
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
  const ch = fromDescriptor<number | string>(job.ch!);
  const add = (v: number | string): number => (typeof v === 'number' ? v : Number(v.slice(1)));
  port.postMessage('ready');
  let got = 0;
  let sum = 0;
  if (job.take === 'iter') {
    for await (const v of ch) {
      sum += add(v);
      if (++got === job.n) break;
    }
  } else if (job.take === 'many') {
    while (got < job.n) {
      const b = await ch.takeMany(BATCH);
      if (b.length === 0) break;
      for (const v of b) sum += add(v);
      got += b.length;
    }
  } else {
    while (got < job.n) {
      let v = job.take === 'try' ? ch.tryTake() : undefined;
      if (v === undefined) v = await ch.take();
      if (v === undefined) break;
      sum += add(v);
      got++;
    }
  }
  port.postMessage({ got, sum });
}

/** CPU µs per value of the last timed() run (every thread of the process). */
let lastCpuUs = 0;

/** Start the consumer, wait for it to be ready, run `produce`, return values/s (CPU: lastCpuUs). */
async function timed(
  job: ConsumerJob,
  want: number,
  transfer: readonly TransferListItem[],
  produce: (w: Worker) => Promise<void>,
): Promise<number> {
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
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await produce(w);
    const r = await done;
    const ms = performance.now() - t0;
    lastCpuUs = cpuSince(c0) / job.n; // both threads: the producer (main) and the consumer (worker)
    if (r.got !== job.n || r.sum !== want)
      throw new Error(`consumer got ${r.got}/${job.n} values (sum ${r.sum}, want ${want})`);
    return (job.n / ms) * 1000;
  } finally {
    await w.terminate();
  }
}

function chanCase(
  transport: 'shared' | 'message',
  n: number,
  put: Put,
  take: Take,
  strings = false,
): () => Promise<number> {
  return () => {
    const ch: SharedChannel<number | string> = sharedChan<number | string>(1024, { transport });
    const { descriptor, transfer } = ch.descriptor();
    const val = (i: number): number | string => (strings ? STRS[i & 1023]! : i);
    const want = strings ? Array.from({ length: n }, (_, i) => i & 1023).reduce((a, b) => a + b, 0) : (n * (n - 1)) / 2;
    return timed({ benchRole: 'chan', ch: descriptor, n, take, strings }, want, transfer, async () => {
      if (put === 'many') {
        const batch = new Array<number | string>(BATCH);
        for (let i = 0; i < n; i += BATCH) {
          const k = Math.min(BATCH, n - i);
          batch.length = k;
          for (let j = 0; j < k; j++) batch[j] = val(i + j);
          await ch.putMany(batch);
        }
        return;
      }
      for (let i = 0; i < n; i++) {
        const v = val(i);
        if (put === 'try' && ch.tryPut(v)) continue;
        await ch.put(v);
      }
    });
  };
}

function rawCase(n: number): () => Promise<number> {
  return () =>
    timed({ benchRole: 'raw', n, take: 'await', strings: false }, (n * (n - 1)) / 2, [], async (w) => {
      for (let i = 0; i < n; i++) w.postMessage(i);
    });
}

/** Run the suite; `quick` shrinks counts and rounds for CI smoke runs. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const rounds = quick ? 5 : 7;
  const nShared = quick ? 500_000 : 2_000_000;
  const nPort = quick ? 50_000 : 200_000;
  const nRaw = quick ? 100_000 : 300_000;
  const cases = {
    sharedAwait: chanCase('shared', nShared, 'await', 'await'),
    sharedStr: chanCase('shared', nShared, 'await', 'await', true),
    sharedIter: chanCase('shared', nShared, 'await', 'iter'),
    sharedTry: chanCase('shared', nShared, 'try', 'try'),
    sharedMany: chanCase('shared', nShared, 'many', 'many'),
    port: chanCase('message', nPort, 'await', 'await'),
    portMany: chanCase('message', nPort, 'await', 'many'),
    raw: rawCase(nRaw),
  };
  type K = keyof typeof cases;
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const cpus = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(cases) as K[]) {
      samples[k].push(await cases[k]());
      cpus[k].push(lastCpuUs);
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<K, number>;
  const cpu = Object.fromEntries(Object.entries(cpus).map(([k, v]) => [k, median(v)])) as Record<K, number>;
  const suite = 'shm-chan';
  const goal = '>= 5M/s, >= 5x';
  const unit = 'values/s';
  const raw = {
    anchor: 'raw postMessage',
    anchorValue: m.raw,
    anchorCpuUs: cpu.raw,
    higherIsBetter: true,
    unit,
    suite,
  };
  const mine = (k: K): { shoal: number; shoalCpuUs: number } => ({ shoal: m[k], shoalCpuUs: cpu[k] });
  return [
    result({ ...raw, case: 'await put / await take, ints', ...mine('sharedAwait'), goal }),
    result({ ...raw, case: 'await put / await take, 8-char strings', ...mine('sharedStr') }),
    result({ ...raw, case: 'await put / for await', ...mine('sharedIter') }),
    result({ ...raw, case: 'tryPut / tryTake first, await on failure', ...mine('sharedTry') }),
    result({ ...raw, case: `putMany / takeMany, batches of ${BATCH}`, ...mine('sharedMany') }),
    result({
      ...raw,
      case: 'await put / await take, ints',
      ...mine('sharedAwait'),
      anchor: 'port channel (message transport)',
      anchorValue: m.port,
      anchorCpuUs: cpu.port,
    }),
    result({ ...raw, case: 'port channel: await put / await take (fallback cost)', ...mine('port') }),
    result({ ...raw, case: `port channel: await put / takeMany(${BATCH})`, ...mine('portMany') }),
  ];
}

if (!isMainThread && (workerData as ConsumerJob | undefined)?.benchRole !== undefined) {
  void consume(workerData as ConsumerJob);
} else if (isMainThread && import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`shm-chan bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
