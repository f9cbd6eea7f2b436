/**
 * Benchmark: channel put/take pairs per second on one thread, shoal vs js-csp, side by side.
 *
 * Runs on the main thread, one process. Each round runs shoal and js-csp back to back on the same
 * workload (one producer task putting N numbers, one consumer taking until closed); the table
 * reports the median of the rounds and shoal/js-csp. Cases:
 *  - chan(1024): the anchor the design notes measured (js-csp ~0.97M pairs/s on this machine);
 *  - chan(1): producer and consumer in lock step through a one-slot buffer;
 *  - rendezvous: shoal chan(0) vs js-csp chan() (a put waits for its taker);
 *  - select: the consumer takes through select([a.takeOp(), b.takeOp()]) vs js-csp alts.
 *
 * usage: node dist/perf/core-chan.bench.js [--quick]
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { chan } from '../src/core/chan.js';
import { select } from '../src/core/select.js';
import { median, printTable, result, type BenchResult } from './bench-types.js';

/** The slice of js-csp 1.0's CommonJS API used here (it ships no types). */
interface CspChan {
  close(): void;
}
interface Csp {
  chan(buf?: number): CspChan;
  go(gen: () => Generator<unknown, void, unknown>): unknown;
  put(ch: CspChan, v: unknown): unknown;
  take(ch: CspChan): unknown;
  alts(ops: CspChan[]): unknown;
  CLOSED: unknown;
}
const csp = createRequire(import.meta.url)('js-csp') as Csp;

type Workload = (n: number) => Promise<void>;

function shoalPairs(buf: number): Workload {
  return async (n) => {
    const c = chan<number>(buf);
    const producer = (async () => {
      for (let i = 1; i <= n; i++) await c.put(i);
      c.close();
    })();
    let got = 0;
    for (let v = await c.take(); v !== undefined; v = await c.take()) got++;
    await producer;
    if (got !== n) throw new Error(`shoal lost values: ${got}/${n}`);
  };
}

function cspPairs(buf: number | undefined): Workload {
  return (n) =>
    new Promise<void>((resolve, reject) => {
      const c = csp.chan(buf);
      csp.go(function* () {
        for (let i = 1; i <= n; i++) yield csp.put(c, i);
        c.close();
      });
      csp.go(function* () {
        let got = 0;
        for (let v = yield csp.take(c); v !== csp.CLOSED; v = yield csp.take(c)) got++;
        if (got === n) resolve();
        else reject(new Error(`js-csp lost values: ${got}/${n}`));
      });
    });
}

function shoalSelect(buf: number): Workload {
  return async (n) => {
    const a = chan<number>(buf);
    const b = chan<number>(buf);
    const half = n >> 1;
    const feed = async (c: typeof a, k: number) => {
      for (let i = 1; i <= k; i++) await c.put(i);
      c.close();
    };
    const producers = Promise.all([feed(a, half), feed(b, n - half)]);
    let got = 0;
    let open = 2;
    while (open > 0) {
      const r = await select([a.takeOp(), b.takeOp()]);
      if (r.value === undefined) open--;
      else got++;
      // A closed channel's take op stays ready; once one side is done, take the other directly.
      if (open === 1) {
        const rest = r.index === 0 ? b : a;
        for (let v = await rest.take(); v !== undefined; v = await rest.take()) got++;
        open = 0;
      }
    }
    await producers;
    if (got !== n) throw new Error(`shoal select lost values: ${got}/${n}`);
  };
}

function cspSelect(buf: number): Workload {
  return (n) =>
    new Promise<void>((resolve, reject) => {
      const a = csp.chan(buf);
      const b = csp.chan(buf);
      const half = n >> 1;
      const feed = (c: CspChan, k: number) =>
        csp.go(function* () {
          for (let i = 1; i <= k; i++) yield csp.put(c, i);
          c.close();
        });
      feed(a, half);
      feed(b, n - half);
      csp.go(function* () {
        let got = 0;
        let open = 2;
        while (open > 0) {
          const r = (yield csp.alts([a, b])) as { value: unknown; channel: CspChan };
          if (r.value === csp.CLOSED) open--;
          else got++;
          if (open === 1) {
            const rest = r.channel === a ? b : a;
            for (let v = yield csp.take(rest); v !== csp.CLOSED; v = yield csp.take(rest)) got++;
            open = 0;
          }
        }
        if (got === n) resolve();
        else reject(new Error(`js-csp alts lost values: ${got}/${n}`));
      });
    });
}

async function rate(w: Workload, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  await w(n);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

interface Case {
  name: string;
  shoal: Workload;
  anchor: Workload;
  /** values per round for shoal and js-csp (js-csp is ~10x slower, so it gets fewer). */
  n: [number, number];
  goal?: string;
}

/** Run every case; medians of `rounds` alternating rounds. */
export async function run(opts?: { quick?: boolean }): Promise<BenchResult[]> {
  const quick = opts?.quick === true;
  const rounds = 5;
  const scale = quick ? 0.1 : 1;
  const cases: Case[] = [
    {
      name: 'put/take pairs, chan(1024)',
      shoal: shoalPairs(1024),
      anchor: cspPairs(1024),
      n: [2e6, 3e5],
      goal: '>= 10x',
    },
    { name: 'put/take pairs, chan(1)', shoal: shoalPairs(1), anchor: cspPairs(1), n: [1e6, 2e5] },
    { name: 'rendezvous, chan(0) vs csp.chan()', shoal: shoalPairs(0), anchor: cspPairs(undefined), n: [1e6, 2e5] },
    { name: 'select over 2 chan(1024)', shoal: shoalSelect(1024), anchor: cspSelect(1024), n: [1e6, 2e5] },
  ];
  const out: BenchResult[] = [];
  for (const c of cases) {
    const ns = Math.max(1000, Math.round(c.n[0] * scale));
    const na = Math.max(1000, Math.round(c.n[1] * scale));
    await rate(c.shoal, ns / 10); // warm-up
    await rate(c.anchor, na / 10);
    const s: number[] = [];
    const a: number[] = [];
    for (let r = 0; r < rounds; r++) {
      s.push(await rate(c.shoal, ns));
      a.push(await rate(c.anchor, na));
    }
    out.push(
      result({
        suite: 'core-chan',
        case: c.name,
        unit: 'pairs/s',
        shoal: median(s),
        anchor: 'js-csp',
        anchorValue: median(a),
        higherIsBetter: true,
        ...(c.goal === undefined ? {} : { goal: c.goal }),
      }),
    );
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const quick = process.argv.includes('--quick');
  console.log(`core-chan: ${availableParallelism()} cores, Node ${process.version}${quick ? ' (quick)' : ''}`);
  printTable(await run({ quick }));
}
