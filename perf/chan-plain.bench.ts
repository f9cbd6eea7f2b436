/**
 * Benchmark: the plain shared-channel loop across threads, written the way users write it: a worker
 * producing with `await ch.put(i)`, main consuming with `for await (const v of ch)`, 300k small
 * integers through `sharedChan(1024)`, against a raw MessagePort (the worker posts each value, main
 * counts 'message' events) in the same process. Issue 18's goals: >= 5x the MessagePort and >= 3M
 * values/s. CPU per value: the process's CPU time (both threads) over the run, divided by n.
 *
 * A second row measures the machine's floor for the same loop: a bare single-producer ring in a
 * SharedArrayBuffer with shoal's slot size (16 + 248 bytes), an `await` per value on each side,
 * both sides spinning (never parking), no checks, no codec. It shows how much of a value's cost
 * is the two cores handing slot lines to each other, which no channel design can skip. It never
 * parks, so on a busy machine (a spinner waiting for a descheduled peer) it collapses: read it only
 * from a quiet run.
 *
 * Runs on the main thread; the same file is the producer worker's entry (it checks workerData).
 *
 * usage: node dist/perf/chan-plain.bench.js [--quick]   (or: node dist/perf/harness.js --only chan-plain)
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fromDescriptor, sharedChan, type ChannelDescriptor } from '../src/shared-chan/index.js';
import { DEFAULT_VALUE_BYTES, SLOT_HEADER_BYTES } from '../src/shared-chan/memory/layout.js';
import type { SharedChannel } from '../src/shared-chan/api.js';
import { Runtime } from '../src/runtime/runtime.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';

interface ProducerJob {
  chanPlainRole: 'chan' | 'raw' | 'floor';
  ch?: ChannelDescriptor;
  floor?: SharedArrayBuffer;
  n: number;
}

/** The floor's ring: slots of shoal's default size, words: [0] SEQ (Vyukov), [3] the value. */
const FLOOR_SLOTS = 1024;
const FLOOR_STRIDE = (SLOT_HEADER_BYTES + DEFAULT_VALUE_BYTES) / 4;
const FLOOR_CTL_BYTES = 512;
/** ctl word the producer sets once it put its last value (its own cache line) */
const FLOOR_DONE = 64;
const RESOLVED_TRUE = Promise.resolve(true);

function floorViews(sab: SharedArrayBuffer): { ctl: Int32Array; slots: Int32Array } {
  return { ctl: new Int32Array(sab, 0, FLOOR_CTL_BYTES / 4), slots: new Int32Array(sab, FLOOR_CTL_BYTES) };
}

/** The floor's producer: a put that spins while its slot is still held, then publishes. */
async function produceFloor(sab: SharedArrayBuffer, n: number): Promise<void> {
  const { ctl, slots } = floorViews(sab);
  let e = 0;
  const put = (v: number): Promise<boolean> => {
    const at = (e & (FLOOR_SLOTS - 1)) * FLOOR_STRIDE;
    while (Atomics.load(slots, at) !== e) {} // released by the consumer a lap ago
    slots[at + 3] = v;
    Atomics.store(slots, at, ++e);
    return RESOLVED_TRUE;
  };
  for (let i = 0; i < n; i++) await put(i);
  Atomics.store(ctl, FLOOR_DONE, 1);
}

/** The floor's consumer: an async iterator that spins until its slot is published. */
function floorIterator(sab: SharedArrayBuffer): AsyncIterable<number> {
  const { ctl, slots } = floorViews(sab);
  let d = 0;
  const next = (): Promise<IteratorResult<number, undefined>> => {
    const at = (d & (FLOOR_SLOTS - 1)) * FLOOR_STRIDE;
    while (Atomics.load(slots, at) !== d + 1) {
      if (Atomics.load(ctl, FLOOR_DONE) === 1 && Atomics.load(slots, at) !== d + 1) {
        return Promise.resolve({ done: true, value: undefined });
      }
    }
    const value = slots[at + 3]!;
    Atomics.store(slots, at, d + FLOOR_SLOTS); // release the slot for the next lap
    d++;
    return Promise.resolve({ done: false, value });
  };
  return { [Symbol.asyncIterator]: () => ({ next }) };
}

function newFloor(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(FLOOR_CTL_BYTES + FLOOR_SLOTS * FLOOR_STRIDE * 4);
  const { slots } = floorViews(sab);
  for (let i = 0; i < FLOOR_SLOTS; i++) slots[i * FLOOR_STRIDE] = i; // slot i is free for position i
  return sab;
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
  if (job.chanPlainRole === 'floor') return produceFloor(job.floor!, job.n);
  const ch = fromDescriptor<number>(job.ch!);
  for (let i = 0; i < job.n; i++) await ch.put(i);
  ch.close();
}

/** [values/s, CPU µs per value] for one run. */
/**
 * Task (this file is also the task module of the third row): the same producer as an `rt.run`
 * task, the way a user runs it; the runtime's default ambient context is on while it runs.
 */
export async function produceTask(ch: SharedChannel<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await ch.put(i);
  ch.close();
}

/** [values/s, CPU µs per value] of one run with the producer as an rt.run task on `rt`. */
async function onceTask(rt: Runtime, n: number): Promise<[number, number]> {
  const ch = sharedChan<number>(1024);
  let got = 0;
  let sum = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const task = rt.run(new URL(import.meta.url), 'produceTask', [ch, n]);
  for await (const v of ch) {
    sum += v;
    got++;
  }
  await task;
  const ms = performance.now() - t0;
  const cpu = cpuSince(c0);
  if (got !== n || sum !== (n * (n - 1)) / 2) throw new Error(`got ${got}/${n} values (sum ${sum})`);
  return [(n / ms) * 1000, cpu / n];
}

async function once(role: 'chan' | 'raw' | 'floor', n: number): Promise<[number, number]> {
  const ch = role === 'chan' ? sharedChan<number>(1024) : undefined;
  const d = ch?.descriptor();
  const floor = role === 'floor' ? newFloor() : undefined;
  const job: ProducerJob = { chanPlainRole: role, ch: d?.descriptor, floor, n };
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
    if (ch || floor) {
      w.postMessage('go');
      for await (const v of ch ?? floorIterator(floor!)) {
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
  const s = {
    chan: [] as number[],
    raw: [] as number[],
    floor: [] as number[],
    chanCpu: [] as number[],
    rawCpu: [] as number[],
    floorCpu: [] as number[],
    task: [] as number[],
    taskCpu: [] as number[],
  };
  const rt = await Runtime.start({ workers: 2 });
  for (let r = 0; r < rounds; r++) {
    const [a, ac] = await once('chan', n);
    const [b, bc] = await once('raw', n);
    const [f, fc] = await once('floor', n);
    s.chan.push(a);
    s.chanCpu.push(ac);
    s.raw.push(b);
    s.rawCpu.push(bc);
    s.floor.push(f);
    s.floorCpu.push(fc);
    const [k, kc] = await onceTask(rt, n);
    s.task.push(k);
    s.taskCpu.push(kc);
  }
  await rt.close();
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
    result({
      suite: 'chan-plain',
      case: `the same loop vs the machine's floor, ${n / 1000}k ints`,
      unit: 'values/s',
      higherIsBetter: true,
      shoal: median(s.chan),
      shoalCpuUs: median(s.chanCpu),
      spread: minMax(s.chan),
      anchorSpread: minMax(s.floor),
      anchor: 'floor: bare spinning SAB ring, same slot size',
      anchorValue: median(s.floor),
      anchorCpuUs: median(s.floorCpu),
      goal: 'context: the ceiling (quiet box only)',
    }),
    result({
      suite: 'chan-plain',
      case: `the same loop, producer an rt.run task (ambient on), ${n / 1000}k ints`,
      unit: 'values/s',
      higherIsBetter: true,
      shoal: median(s.task),
      shoalCpuUs: median(s.taskCpu),
      spread: minMax(s.task),
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
