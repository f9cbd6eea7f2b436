/**
 * Benchmark: creating 100k agents from main (`rt.agent` x 100k, then `Promise.all`), the issue's
 * "100k live agents ... creating them under 1 s". Each round starts a fresh Runtime with 2 workers
 * (so the first creation also imports the class module on the workers), creates the agents, sends
 * each one message, waits for every handle, then stops them all (not timed).
 *
 * Anchors, in the same run: the goal itself (1 s), and the floor of the same pattern without any
 * agent: 100k promises made in a loop, resolved from a later macrotask with an object each, then
 * `Promise.all` (what any JS API with one promise per creation pays on this machine).
 *
 * Runs on the main thread. Owns nothing after it returns.
 *
 * usage: npm run build && flock /tmp/shoal-bench.lock node dist/perf/agent-create.bench.js [--quick]
 *        (or through the harness: node dist/perf/harness.js --only agent-create)
 */
import { availableParallelism, loadavg } from 'node:os';
import { Runtime, type Agent } from '../src/index.js';
import { median, minMax, printTable, result, type BenchResult } from './bench-types.js';

const agentsUrl = new URL('./savina-agents.js', import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: handles of the bench's classes
type H = Agent<any>;

async function shoalRound(n: number): Promise<number> {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const t0 = performance.now();
    const made = await Promise.all(Array.from({ length: n }, () => rt.agent(agentsUrl, 'FjWorker') as Promise<H>));
    const ms = performance.now() - t0;
    for (const a of made) void a.send('work');
    await Promise.all(made.map((a) => a.sync()));
    await Promise.all(made.map((a) => a.stop({ drain: false })));
    return ms;
  } finally {
    await rt.close({ timeout: 1000 });
  }
}

async function floorRound(n: number): Promise<number> {
  const t0 = performance.now();
  const rs: Array<(v: unknown) => void> = [];
  const ps = Array.from({ length: n }, () => new Promise((r) => rs.push(r)));
  setImmediate(() => {
    for (let i = 0; i < rs.length; i++) rs[i]!({ id: i, name: 'FjWorker', slot: i & 1 });
  });
  await Promise.all(ps);
  return performance.now() - t0;
}

/** Run the suite; `quick` creates 10k agents instead of 100k, over 3 rounds. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const n = quick ? 10_000 : 100_000;
  const rounds = quick ? 3 : 5;
  const shoal: number[] = [];
  const floor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    shoal.push(await shoalRound(n));
    floor.push(await floorRound(n));
  }
  const s = median(shoal);
  const spread: [number, number] = minMax(shoal);
  const label = `${n / 1000}k agents created (rt.agent + Promise.all)`;
  return [
    result({
      suite: 'agent-create',
      case: label,
      unit: 'ms',
      shoal: s,
      anchor: 'goal (1 s for 100k)',
      anchorValue: quick ? 100 : 1000,
      higherIsBetter: false,
      goal: '>= 1x',
      spread,
    }),
    result({
      suite: 'agent-create',
      case: label,
      unit: 'ms',
      shoal: s,
      anchor: 'floor: as many bare promises',
      anchorValue: median(floor),
      higherIsBetter: false,
      spread,
    }),
  ];
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const quick = process.argv.includes('--quick');
  console.log(
    `agent-create bench: ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}${quick ? ' (quick)' : ''}`,
  );
  printTable(await run({ quick }));
}
