/**
 * Benchmark: the plain shared-channel loop across threads, written the way users write it: a worker
 * producing with `await ch.put(i)`, main consuming with `for await (const v of ch)`, 300k small
 * integers through `sharedChan(1024)`, against a raw MessagePort (the worker posts each value, main
 * counts 'message' events) in the same process. Issue 18's goals: >= 5x the MessagePort and >= 3M
 * values/s. CPU per value: the process's CPU time (both threads) over the run, divided by n.
 *
 * Runs on the main thread; the same file is the producer worker's entry (it checks workerData).
 *
 * usage: node dist/perf/chan-plain.bench.js [--quick]   (or: node dist/perf/harness.js --only chan-plain)
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fromDescriptor, sharedChan, type ChannelDescriptor } from '../src/shared-chan/index.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

interface ProducerJob {
  chanPlainRole: 'chan' | 'raw';
  ch?: ChannelDescriptor;
  n: number;
}

/** Worker side: wait for 'go', then produce 0..n-1 the plain way. */
async function produce(job: ProducerJob): Promise<void> {
  const port = parentPort!;
  await new Promise<void>((resolve) => {
    port.once('message', () => resolve());
    port.postMessage('ready');
  });
  if (job.chanPlainRole === 'raw') {
    for (let i = 0; i < job.n; i++) port.postMessage(i);
    return;
  }
  const ch = fromDescriptor<number>(job.ch!);
  for (let i = 0; i < job.n; i++) await ch.put(i);
  ch.close();
}

/** [values/s, CPU µs per value] for one run. */
async function once(role: 'chan' | 'raw', n: number): Promise<[number, number]> {
  const ch = role === 'chan' ? sharedChan<number>(1024) : undefined;
  const d = ch?.descriptor();
  const job: ProducerJob = { chanPlainRole: role, ch: d?.descriptor, n };
  const w = new Worker(new URL(import.meta.url), { workerData: job, transferList: d ? [...d.transfer] : [] });
  try {
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    let got = 0;
    let sum = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    if (ch) {
      w.postMessage('go');
      for await (const v of ch) {
        sum += v;
        got++;
      }
    } else {
      await new Promise<void>((resolve) => {
        w.on('message', (v: number) => {
          sum += v;
          if (++got === n) resolve();
        });
        w.postMessage('go');
      });
    }
    const ms = performance.now() - t0;
    const cpu = cpuSince(c0);
    if (got !== n || sum !== (n * (n - 1)) / 2) throw new Error(`got ${got}/${n} values (sum ${sum})`);
    return [(n / ms) * 1000, cpu / n];
  } finally {
    await w.terminate();
  }
}

/** Run the suite. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const rounds = quick ? 3 : 7;
  const n = quick ? 100_000 : 300_000;
  const s = { chan: [] as number[], raw: [] as number[], chanCpu: [] as number[], rawCpu: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const [a, ac] = await once('chan', n);
    const [b, bc] = await once('raw', n);
    s.chan.push(a);
    s.chanCpu.push(ac);
    s.raw.push(b);
    s.rawCpu.push(bc);
  }
  return [
    result({
      suite: 'chan-plain',
      case: `worker await put, main for await, ${n / 1000}k ints`,
      unit: 'values/s',
      higherIsBetter: true,
      shoal: median(s.chan),
      shoalCpuUs: median(s.chanCpu),
      spread: minMax(s.chan),
      anchorSpread: minMax(s.raw),
      anchor: 'raw MessagePort',
      anchorValue: median(s.raw),
      anchorCpuUs: median(s.rawCpu),
      goal: '>= 5x, >= 3M/s',
    }),
  ];
}

if (!isMainThread && (workerData as ProducerJob | undefined)?.chanPlainRole !== undefined) {
  void produce(workerData as ProducerJob);
} else if (isMainThread && import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const quick = process.argv.includes('--quick');
  console.log(`chan-plain bench: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
