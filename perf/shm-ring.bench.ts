/**
 * SPSC byte ring vs MessagePort between the main thread and one worker, side by side in one run:
 *
 * - one-way messages/s for 16 B, 1 KiB and 64 KiB payloads (ring: copy in with tryWrite, flush
 *   every 256 messages, the reader touches each frame in place; MessagePort: postMessage of a
 *   Uint8Array, structured-cloned, the receiver touches each copy);
 * - round trip of a 16 B message: hot (both sides spinning), cold (worker parked in Atomics.wait,
 *   main spinning), cold both (worker parked, main in Atomics.waitAsync), vs postMessage ping-pong.
 *
 * Median of >= 5 alternating rounds. Runs on the main thread; this same file is the worker's entry
 * (it branches on workerData). Owns its worker and the rings it creates.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createByteRing, type ByteRingDescriptor } from '../src/shm/byte-ring.js';
import { ByteRingReader } from '../src/shm/byte-ring-reader.js';
import { ByteRingWriter } from '../src/shm/byte-ring-writer.js';
import { createDoorbell, Doorbell, type DoorbellDescriptor } from '../src/shm/doorbell.js';
import { median, printTable, result, type BenchResult } from './bench-types.js';

const ROLE = 'shm-ring-bench';
const STALL_MS = 30_000;

type Cmd =
  | { cmd: 'oneway-ring'; ring: ByteRingDescriptor; bell: DoorbellDescriptor; n: number; done: Int32Array }
  | { cmd: 'oneway-mp'; port: MessagePort; n: number }
  | {
      cmd: 'rt-ring';
      req: ByteRingDescriptor;
      resp: ByteRingDescriptor;
      bell: DoorbellDescriptor;
      main: DoorbellDescriptor;
      n: number;
      park: boolean;
    }
  | { cmd: 'rt-mp'; port: MessagePort; n: number };

// ───────────────────────────── worker side ─────────────────────────────

function workerMain(): void {
  let sink = 0;
  parentPort!.on('message', (c: Cmd) => {
    if (c.cmd === 'oneway-ring') {
      const bell = new Doorbell(c.bell);
      const r = new ByteRingReader(c.ring);
      let got = 0;
      while (got < c.n) {
        if (!r.readableSync(bell, STALL_MS)) throw new Error('bench worker: ring stalled');
        got += r.drain((b, off) => {
          sink += b[off] ?? 0;
        });
      }
      Atomics.store(c.done, 0, 1);
      parentPort!.postMessage('finished');
    } else if (c.cmd === 'oneway-mp') {
      let got = 0;
      c.port.on('message', (m: Uint8Array) => {
        sink += m[0] ?? 0;
        if (++got === c.n) {
          c.port.postMessage('done');
          c.port.close();
        }
      });
      parentPort!.postMessage('ready');
    } else if (c.cmd === 'rt-ring') {
      const bell = new Doorbell(c.bell, c.park ? { spinIterations: 0 } : {});
      const main = new Doorbell(c.main);
      const r = new ByteRingReader(c.req);
      const w = new ByteRingWriter(c.resp, { onPublish: () => main.ring() });
      for (let i = 0; i < c.n; i++) {
        if (c.park) {
          if (!r.readableSync(bell, STALL_MS)) throw new Error('bench worker: no request');
        } else {
          while (!r.available()) {
            /* hot: spin */
          }
        }
        r.next();
        const ok = w.tryWrite(r.view());
        r.release();
        if (!ok) throw new Error('bench worker: response ring full');
        w.flush();
      }
      parentPort!.postMessage('finished');
    } else {
      const port = c.port;
      let left = c.n;
      port.on('message', (m: Uint8Array) => {
        port.postMessage(m);
        if (--left === 0) port.close();
      });
      parentPort!.postMessage('ready');
    }
    void sink;
  });
}

// ───────────────────────────── main side ─────────────────────────────

function once(w: Worker | MessagePort, what: string): Promise<unknown> {
  return new Promise((resolve) =>
    (w as Worker).once('message', (m: unknown) => {
      if (m !== what && what !== '*') throw new Error(`bench: expected ${what}, got ${String(m)}`);
      resolve(m);
    }),
  );
}

/** Spin until words[0] != 0 (the worker is the only other party; bounded). */
function spinUntil(words: Int32Array): void {
  const t0 = performance.now();
  for (let i = 1; Atomics.load(words, 0) === 0; i++) {
    if ((i & 0xfffff) === 0 && performance.now() - t0 > STALL_MS) throw new Error('bench: worker stalled');
  }
}

async function onewayRing(worker: Worker, size: number, n: number): Promise<number> {
  const ring = createByteRing(1 << 20);
  const bellDesc = createDoorbell();
  const bell = new Doorbell(bellDesc);
  const done = new Int32Array(new SharedArrayBuffer(4));
  const w = new ByteRingWriter(ring, { onPublish: () => bell.ring() });
  const payload = new Uint8Array(size).fill(1);
  const finished = once(worker, 'finished');
  worker.postMessage({ cmd: 'oneway-ring', ring, bell: bellDesc, n, done } satisfies Cmd);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    while (!w.tryWrite(payload)) {
      /* full: the refused write published; the reader drains */
    }
    if ((i & 255) === 255) w.flush();
  }
  w.flush();
  spinUntil(done);
  const ms = performance.now() - t0;
  await finished;
  return (n / ms) * 1000;
}

async function onewayPort(worker: Worker, size: number, n: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const ready = once(worker, 'ready');
  worker.postMessage({ cmd: 'oneway-mp', port: port2, n } satisfies Cmd, [port2]);
  await ready;
  const payload = new Uint8Array(size).fill(1);
  const done = once(port1, 'done');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) port1.postMessage(payload);
  await done;
  const ms = performance.now() - t0;
  port1.close();
  return (n / ms) * 1000;
}

/** Round trips of 16 B; mode: 'hot' both spin, 'cold' worker parks, 'cold-async' both park. */
async function rtRing(worker: Worker, mode: 'hot' | 'cold' | 'cold-async', n: number): Promise<number> {
  const req = createByteRing(4096);
  const resp = createByteRing(4096);
  const wBell = createDoorbell();
  const mBell = createDoorbell();
  const wb = new Doorbell(wBell);
  const mb = new Doorbell(mBell, { spinIterations: 0 });
  const w = new ByteRingWriter(req, { onPublish: () => wb.ring() });
  const r = new ByteRingReader(resp);
  const msg = new Uint8Array(16).fill(7);
  const finished = once(worker, 'finished');
  worker.postMessage({ cmd: 'rt-ring', req, resp, bell: wBell, main: mBell, n, park: mode !== 'hot' } satisfies Cmd);
  let ms = 0;
  for (let i = 0; i < n; i++) {
    // cold: let the worker get to sleep first (not timed), or it would see the next request while
    // still spinning and the case would measure a hot path
    if (mode !== 'hot') {
      const t = performance.now();
      for (let k = 1; wb.state() !== 'parked'; k++) {
        if ((k & 0xfffff) === 0 && performance.now() - t > STALL_MS) throw new Error('bench: worker never parked');
      }
    }
    const t1 = performance.now();
    w.tryWrite(msg);
    w.flush();
    if (mode === 'cold-async') {
      for (;;) {
        const s = mb.seq();
        if (r.next() >= 0) break;
        if ((await mb.wait(s, { timeoutMs: STALL_MS })) === 'timed-out') throw new Error('bench: no response');
      }
    } else {
      for (let k = 1; r.next() < 0; k++) {
        if ((k & 0xfffff) === 0 && performance.now() - t1 > STALL_MS) throw new Error('bench: no response');
      }
    }
    r.release();
    ms += performance.now() - t1;
  }
  await finished;
  return (ms * 1000) / n;
}

async function rtPort(worker: Worker, n: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const ready = once(worker, 'ready');
  worker.postMessage({ cmd: 'rt-mp', port: port2, n } satisfies Cmd, [port2]);
  await ready;
  const msg = new Uint8Array(16).fill(7);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const back = once(port1, '*');
    port1.postMessage(msg);
    await back;
  }
  const ms = performance.now() - t0;
  port1.close();
  return (ms * 1000) / n;
}

/** An idle gap between measured rounds (idle-time GC, other processes' bursts). */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

/** Run every case; `quick` shrinks the message counts (still 5 rounds). */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const q = opts.quick ? 0.1 : 1;
  const rounds = 5;
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
  const out: BenchResult[] = [];
  try {
    const oneway = [
      { size: 16, ring: 2_000_000, mp: 200_000, goal: '>= 20x' },
      { size: 1024, ring: 500_000, mp: 100_000, goal: undefined },
      { size: 65536, ring: 20_000, mp: 4_000, goal: '>= 2x' },
    ];
    for (const c of oneway) {
      const nr = Math.max(1000, Math.round(c.ring * q));
      const nm = Math.max(500, Math.round(c.mp * q));
      await onewayRing(worker, c.size, Math.round(nr / 10)); // warm-up
      await onewayPort(worker, c.size, Math.round(nm / 10));
      const s: number[] = [];
      const a: number[] = [];
      for (let r = 0; r < rounds; r++) {
        await pause(); // let the garbage of the previous round (MessagePort clones) be collected first
        s.push(await onewayRing(worker, c.size, nr));
        await pause();
        a.push(await onewayPort(worker, c.size, nm));
      }
      const label = c.size >= 1024 ? `${c.size / 1024} KiB` : `${c.size} B`;
      out.push(
        result({
          suite: 'shm-ring',
          case: `one-way ${label} messages`,
          unit: 'msg/s',
          shoal: median(s),
          anchor: 'MessagePort',
          anchorValue: median(a),
          higherIsBetter: true,
          ...(c.goal ? { goal: c.goal } : {}),
        }),
      );
    }
    const rts = [
      { mode: 'hot' as const, n: 200_000, name: 'round trip 16 B, hot (both spinning)', goal: '<= 5 µs' },
      { mode: 'cold' as const, n: 5_000, name: 'round trip 16 B, cold (worker parked, main spins)', goal: undefined },
      {
        mode: 'cold-async' as const,
        n: 5_000,
        name: 'round trip 16 B, cold (both parked, main waitAsync)',
        goal: undefined,
      },
    ];
    const nmp = Math.max(500, Math.round(10_000 * q));
    await rtPort(worker, Math.round(nmp / 10));
    for (const c of rts) {
      const n = Math.max(500, Math.round(c.n * q));
      await rtRing(worker, c.mode, Math.round(n / 10));
      const s: number[] = [];
      const a: number[] = [];
      for (let r = 0; r < rounds; r++) {
        await pause();
        s.push(await rtRing(worker, c.mode, n));
        await pause();
        a.push(await rtPort(worker, nmp));
      }
      out.push(
        result({
          suite: 'shm-ring',
          case: c.name,
          unit: 'µs',
          shoal: median(s),
          anchor: 'postMessage ping-pong',
          anchorValue: median(a),
          higherIsBetter: false,
          ...(c.goal ? { goal: c.goal } : {}),
        }),
      );
    }
  } finally {
    await worker.terminate();
  }
  return out;
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  workerMain();
} else if (
  isMainThread &&
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))
) {
  const quick = process.argv.includes('--quick');
  console.log(`shm-ring: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
