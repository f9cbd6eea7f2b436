/**
 * Benchmark: the Savina actor micro-benchmarks (Imam and Sarkar, AGERE 2014) on shoal agents,
 * side by side in one run with Erlang/OTP (perf/savina-erlang/savina.erl, skipped with a note when
 * `erl` is absent), comlink objects across a worker, nact, and a plain single-thread JS actor loop
 * (perf/savina-plain.ts). Reports messages per second (medians over the rounds) and the ratios.
 * Every contender first runs three untimed warm-up rounds of every case (Erlang too, in its own
 * process), as Savina's own harness discards its warm-up iterations: V8 finishes optimizing the
 * agents' hop path over a fresh runtime's first rounds (a new ThreadRing ring speeds up over
 * several rounds), and a median over five rounds of which some were cold measured the JIT, not
 * the design (docs/measurements.md, 2026-12-07 07:52).
 *
 * Runs on the main thread (one Runtime with 2 workers, the default transport; comlink gets a
 * worker of its own). Owns nothing after it returns.
 *
 * Placement of the shoal agents: PingPong and ThreadRing span the two workers (ping on one, pong
 * on the other; the ring's first half on one, second half on the other), the rest keep each
 * program on one worker (as the issue's "one agent queue per core" use does); Fork-join throughput
 * is driven from main across both workers; Fork-join create makes the agents from main.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node dist/perf/agent-savina.bench.js [--quick]
 *        (or through the harness: node dist/perf/harness.js --only agent-savina)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Runtime, type Agent } from '../src/index.js';
import { cpuSince, median, minMax, printTable, result, type BenchResult } from './bench-types.js';
import { nact, plain } from './savina-plain.js';
import type { ComlinkApi } from './savina-comlink-worker.js';

const agentsUrl = new URL('./savina-agents.js', import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: handles of the bench's classes
type H = Agent<any>;

export interface Sizes {
  pingpong: number;
  counting: number;
  fjActors: number;
  fjN: number;
  fjCreate: number;
  ringActors: number;
  ringHops: number;
  chamCount: number;
  chamMeetings: number;
  bigActors: number;
  bigN: number;
  bbProducers: number;
  bbConsumers: number;
  bbItems: number;
  bbSize: number;
}

export function sizes(scale: number): Sizes {
  const s = (n: number): number => Math.max(1, Math.round(n * scale));
  return {
    pingpong: s(40_000),
    counting: s(1_000_000),
    fjActors: 60,
    fjN: s(10_000),
    fjCreate: s(40_000),
    ringActors: 100,
    ringHops: s(100_000),
    chamCount: 100,
    chamMeetings: s(200_000),
    bigActors: 120,
    bigN: s(20_000),
    bbProducers: 40,
    bbConsumers: 40,
    bbItems: s(1000),
    bbSize: 50,
  };
}

export type Case =
  | 'pingpong'
  | 'counting'
  | 'fj_throughput'
  | 'fj_create'
  | 'thread_ring'
  | 'chameneos'
  | 'big'
  | 'bounded_buffer';
export const CASES: Case[] = [
  'pingpong',
  'counting',
  'fj_throughput',
  'fj_create',
  'thread_ring',
  'chameneos',
  'big',
  'bounded_buffer',
];
const LABEL: Record<Case, string> = {
  pingpong: 'PingPong (2 workers)',
  counting: 'Counting',
  fj_throughput: 'Fork-join throughput',
  fj_create: 'Fork-join create',
  thread_ring: 'ThreadRing (2 workers)',
  chameneos: 'Chameneos',
  big: 'Big',
  bounded_buffer: 'Bounded buffer',
};

/**
 * CPU µs per message of the last timed() run: every thread of this process (shoal's workers,
 * comlink's worker, nact and the plain loop on main), read by run() right after each case.
 */
let lastCpuUs = Number.NaN;

/** One run of a case: messages per second and CPU µs per message. */
interface Sample {
  rate: number;
  cpuUs: number;
}

/** msgs per second of one timed run (and its CPU per message into lastCpuUs) */
async function timed(f: () => Promise<number> | number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const msgs = await f();
  const secs = (performance.now() - t0) / 1000;
  lastCpuUs = cpuSince(c0) / msgs;
  return msgs / secs;
}

// --- shoal -------------------------------------------------------------------------------------

/** One timed run of case `c` on shoal agents (exported for perf/probes/agent-hops.mjs `--suite-order`). */
export async function shoalCase(rt: Runtime, c: Case, z: Sizes): Promise<number> {
  const mk = (
    cls: string,
    o: { worker?: number; interleave?: string[]; mailbox?: { size: number; policy: 'wait' } } = {},
  ) => rt.agent(agentsUrl, cls, [], o) as Promise<H>;
  const made: H[] = [];
  const keep = async (p: Promise<H>): Promise<H> => {
    const h = await p;
    made.push(h);
    return h;
  };
  try {
    switch (c) {
      case 'pingpong': {
        const ping = await keep(mk('Ping', { worker: 0, interleave: ['pong'] }));
        const pong = await keep(mk('Pong', { worker: 1 }));
        return await timed(async () => {
          await ping.call('run', pong, z.pingpong);
          return 2 * z.pingpong;
        });
      }
      case 'counting': {
        const counter = await keep(mk('Counter', { worker: 0 }));
        const producer = await keep(mk('Producer', { worker: 0 }));
        return await timed(async () => {
          const n = await producer.call('run', counter, z.counting);
          if (n !== z.counting) throw new Error(`counting: ${n} of ${z.counting}`);
          return n;
        });
      }
      case 'fj_throughput': {
        const ws = await Promise.all(Array.from({ length: z.fjActors }, () => keep(mk('FjWorker'))));
        return await timed(async () => {
          for (let i = 0; i < z.fjN; i++) for (const w of ws) void w.send('work');
          await Promise.all(ws.map((w) => w.sync()));
          return z.fjActors * z.fjN;
        });
      }
      case 'fj_create': {
        return await timed(async () => {
          const ws = await Promise.all(Array.from({ length: z.fjCreate }, () => keep(mk('FjWorker'))));
          for (const w of ws) void w.send('work');
          await Promise.all(ws.map((w) => w.sync()));
          return z.fjCreate;
        });
      }
      case 'thread_ring': {
        const leader = await keep(mk('Leader', { worker: 0, interleave: ['finish'] }));
        const nodes = await Promise.all(
          Array.from({ length: z.ringActors }, (_, i) =>
            keep(mk('RingNode', { worker: i < z.ringActors / 2 ? 0 : 1 })),
          ),
        );
        await Promise.all(nodes.map((n, i) => n.call('link', nodes[(i + 1) % nodes.length], leader)));
        return await timed(async () => {
          const done = leader.call('wait', 1);
          void nodes[0]!.send('token', z.ringHops);
          await done;
          return z.ringHops + 1;
        });
      }
      case 'chameneos': {
        const leader = await keep(mk('Leader', { worker: 0, interleave: ['finish'] }));
        const mall = await keep(mk('Mall', { worker: 0 }));
        const chams = await Promise.all(Array.from({ length: z.chamCount }, () => keep(mk('Chameneo', { worker: 0 }))));
        return await timed(async () => {
          const done = leader.call('wait', 1);
          void mall.send('start', chams, z.chamMeetings, leader);
          return (await done) as number;
        });
      }
      case 'big': {
        const leader = await keep(mk('Leader', { worker: 0, interleave: ['finish'] }));
        const as = await Promise.all(Array.from({ length: z.bigActors }, () => keep(mk('BigActor', { worker: 0 }))));
        await Promise.all(as.map((a, i) => a.call('setup', as, z.bigN, leader, i * 7919)));
        return await timed(async () => {
          const done = leader.call('wait', z.bigActors);
          for (const a of as) void a.send('go');
          await done;
          return z.bigActors * z.bigN * 2;
        });
      }
      case 'bounded_buffer': {
        const leader = await keep(mk('Leader', { worker: 0, interleave: ['finish'] }));
        const buf = await keep(mk('BufferAgent', { worker: 0, mailbox: { size: z.bbSize, policy: 'wait' } }));
        const cs = await Promise.all(
          Array.from({ length: z.bbConsumers }, () => keep(mk('BbConsumer', { worker: 0 }))),
        );
        const ps = await Promise.all(
          Array.from({ length: z.bbProducers }, () => keep(mk('BbProducer', { worker: 0 }))),
        );
        const per = (z.bbProducers * z.bbItems) / z.bbConsumers;
        await Promise.all(cs.map((c) => c.call('setup', per, leader)));
        await buf.call('setConsumers', cs);
        return await timed(async () => {
          const done = leader.call('wait', z.bbConsumers);
          for (const p of ps) void p.call('run', buf, z.bbItems);
          await done;
          return z.bbProducers * z.bbItems * 2;
        });
      }
    }
  } finally {
    await Promise.all(made.map((h) => h.stop({ drain: false })));
  }
}

// --- anchors -----------------------------------------------------------------------------------

export function plainCase(c: Case, z: Sizes): Promise<number> {
  switch (c) {
    case 'pingpong':
      return timed(() => plain.pingpong(z.pingpong));
    case 'counting':
      return timed(() => plain.counting(z.counting));
    case 'fj_throughput':
      return timed(() => plain.fjThroughput(z.fjActors, z.fjN));
    case 'fj_create':
      return timed(() => plain.fjCreate(z.fjCreate));
    case 'thread_ring':
      return timed(() => plain.threadRing(z.ringActors, z.ringHops));
    case 'chameneos':
      return timed(() => plain.chameneos(z.chamCount, z.chamMeetings));
    case 'big':
      return timed(() => plain.big(z.bigActors, z.bigN));
    case 'bounded_buffer':
      return timed(() => plain.boundedBuffer(z.bbProducers, z.bbConsumers, z.bbItems, z.bbSize));
  }
}

export function nactCase(c: Case, z: Sizes): Promise<number> | undefined {
  switch (c) {
    case 'pingpong':
      return timed(() => nact.pingpong(z.pingpong));
    case 'counting':
      return timed(() => nact.counting(z.counting));
    case 'fj_throughput':
      return timed(() => nact.fjThroughput(z.fjActors, z.fjN));
    case 'thread_ring':
      return timed(() => nact.threadRing(z.ringActors, z.ringHops));
    default:
      return undefined;
  }
}

/** comlink: calls across one worker; sizes shrunk (it runs at tens of thousands of calls/s). */
export async function comlinkCase(api: Comlink.Remote<ComlinkApi>, c: Case, z: Sizes): Promise<number | undefined> {
  const k = 0.05;
  switch (c) {
    case 'pingpong': {
      const n = Math.max(1, Math.round(z.pingpong * k));
      return timed(async () => {
        for (let i = 0; i < n; i++) await api.ping();
        return 2 * n;
      });
    }
    case 'counting': {
      const n = Math.max(1, Math.round(z.counting * k * 0.1));
      await api.reset();
      return timed(async () => {
        const ps: Promise<void>[] = [];
        for (let i = 0; i < n; i++) ps.push(api.inc());
        await Promise.all(ps);
        if ((await api.get()) !== n) throw new Error('comlink counting lost calls');
        return n;
      });
    }
    case 'fj_throughput': {
      const n = Math.max(1, Math.round(z.fjN * k));
      await api.makeActors(z.fjActors);
      return timed(async () => {
        const ps: Promise<void>[] = [];
        for (let i = 0; i < n; i++) for (let a = 0; a < z.fjActors; a++) ps.push(api.work(a));
        await Promise.all(ps);
        return n * z.fjActors;
      });
    }
    case 'fj_create': {
      const n = Math.max(1, Math.round(z.fjCreate * k));
      return timed(async () => {
        const objs = await Promise.all(Array.from({ length: n }, () => new api.Actor()));
        await Promise.all(objs.map((o) => o.work()));
        for (const o of objs) o[Comlink.releaseProxy]();
        return n;
      });
    }
    default:
      return undefined;
  }
}

/**
 * Erlang: every case, one warm-up round then `rounds` timed ones, in one `erl` run (the warm-up
 * samples are dropped); undefined (with a note) without erl.
 */
function erlangRuns(rounds: number, scale: number): Map<Case, Sample[]> | undefined {
  try {
    execFileSync('erl', ['-version'], { stdio: 'ignore' });
  } catch {
    console.log('  (Erlang/OTP not installed: `apt-get install erlang-nox`; its anchor is skipped)');
    return undefined;
  }
  const src = fileURLToPath(new URL('../../perf/savina-erlang/savina.erl', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'shoal-savina-'));
  execFileSync('erlc', ['-o', dir, src]);
  const out = execFileSync(
    'erl',
    [
      '-noshell',
      '-pa',
      dir,
      '-s',
      'savina',
      'main',
      String(rounds + WARM_UP_ROUNDS),
      scale.toFixed(4),
      '-s',
      'init',
      'stop',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const m = new Map<Case, Sample[]>();
  for (const line of out.split('\n')) {
    const [name, msgs, us, cpuMs] = line.trim().split(/\s+/);
    if (!name || !CASES.includes(name as Case)) continue;
    const rate = Number(msgs) / (Number(us) / 1e6);
    // statistics(runtime): the whole VM's CPU (every scheduler, busy-waiting included), ms
    const sample: Sample = { rate, cpuUs: (Number(cpuMs) * 1000) / Number(msgs) };
    m.set(name as Case, [...(m.get(name as Case) ?? []), sample]);
  }
  for (const [c, xs] of m) m.set(c, xs.slice(WARM_UP_ROUNDS)); // the output lists rounds in order
  return m;
}

/** Untimed rounds every contender runs first (see the header). */
const WARM_UP_ROUNDS = 3;

/** Run the suite; `quick` shrinks sizes and rounds for CI smoke runs. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const rounds = quick ? 3 : 5;
  const scale = quick ? 0.05 : 1;
  const z = sizes(scale);
  const shoal = new Map<Case, Sample[]>();
  const plainR = new Map<Case, Sample[]>();
  const nactR = new Map<Case, Sample[]>();
  const comlinkR = new Map<Case, Sample[]>();
  const add = (m: Map<Case, Sample[]>, c: Case, rate: number | undefined): void => {
    if (rate !== undefined) m.set(c, [...(m.get(c) ?? []), { rate, cpuUs: lastCpuUs }]);
  };

  const rt = await Runtime.start({ workers: 2 });
  const cw = new Worker(fileURLToPath(new URL('./savina-comlink-worker.js', import.meta.url)));
  const api = Comlink.wrap<ComlinkApi>(nodeEndpoint(cw));
  try {
    for (let r = -WARM_UP_ROUNDS; r < rounds; r++) {
      const keep = r >= 0;
      for (const c of CASES) {
        const mine = await shoalCase(rt, c, z);
        if (keep) add(shoal, c, mine);
        const p = await plainCase(c, z);
        if (keep) add(plainR, c, p);
        const n = await nactCase(c, z);
        if (keep) add(nactR, c, n);
        const k = await comlinkCase(api, c, z);
        if (keep) add(comlinkR, c, k);
      }
    }
  } finally {
    api[Comlink.releaseProxy]();
    await cw.terminate();
    await rt.close({ timeout: 1000 });
  }
  const erl = erlangRuns(rounds, scale);

  const goals: Partial<Record<Case, Record<string, string>>> = {
    counting: { 'Erlang/OTP': '>= 1x' },
    fj_throughput: { 'Erlang/OTP': '>= 1x' },
    pingpong: { 'Erlang/OTP': '>= 0.5x' },
    thread_ring: { 'Erlang/OTP': '>= 0.5x' },
  };
  const out: BenchResult[] = [];
  const rates = (xs: Sample[]): number[] => xs.map((x) => x.rate);
  for (const c of CASES) {
    const mine = shoal.get(c)!;
    const anchors: Array<[string, Sample[] | undefined, string | undefined]> = [
      ['Erlang/OTP', erl?.get(c), goals[c]?.['Erlang/OTP']],
      ['comlink (1 worker)', comlinkR.get(c), '>= 50x'],
      ['nact', nactR.get(c), '>= 10x'],
      ['plain JS loop, 1 thread', plainR.get(c), undefined],
    ];
    for (const [name, xs, goal] of anchors) {
      if (!xs || xs.length === 0) continue;
      out.push(
        result({
          suite: 'agent-savina',
          case: LABEL[c],
          unit: 'msgs/s',
          shoal: median(rates(mine)),
          anchor: name,
          anchorValue: median(rates(xs)),
          higherIsBetter: true,
          shoalCpuUs: median(mine.map((x) => x.cpuUs)),
          anchorCpuUs: median(xs.map((x) => x.cpuUs)),
          spread: minMax(rates(mine)),
          anchorSpread: minMax(rates(xs)),
          ...(goal ? { goal } : {}),
        }),
      );
    }
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const quick = process.argv.includes('--quick');
  console.log(
    `agent-savina bench: ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}${quick ? ' (quick)' : ''}`,
  );
  printTable(await run({ quick }));
}
