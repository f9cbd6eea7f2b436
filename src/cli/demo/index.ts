/**
 * `shoal demo` (what `npm start` runs): one short scene per user of shoal, each side by side with
 * the tool that user would otherwise pick, measured in the same run on this machine:
 *   1. tasks   fine-grained and coarse jobs against piscina, and a cancellation of running jobs;
 *   2. http    a hybrid HTTP service (file read + CPU per request) against node:http and
 *              node:cluster;
 *   3. agents  a bank of accounts as agents against the same class behind postMessage;
 *   (sockets)  a CPU-heavy TCP service against node:net, with `--only sockets`.
 * Each scene prints one verdict per case computed from its own figures, then a summary table
 * shows every ratio. A busy machine (load above the cores) is said in the summary.
 *
 * Runs on the main thread of the CLI process. Owns the scenes' runtimes, pools and processes
 * while they run.
 */
import { availableParallelism } from 'node:os';
import { agentsScene } from './scene-agents.js';
import { httpScene } from './scene-http.js';
import { socketsScene } from './scene-sockets.js';
import { tasksScene } from './scene-tasks.js';
import { busyNote, busyness, printSummary, type Row, verdict } from './report.js';

/** The scenes, in the order they run. */
export const SCENES = ['tasks', 'http', 'agents', 'sockets'] as const;
export type SceneName = (typeof SCENES)[number];
const DEFAULT_SCENES: readonly SceneName[] = ['tasks', 'http', 'agents'];

/** Options of {@link demo}. */
export interface DemoOptions {
  /** Pool workers (and piscina threads, cluster processes). Default: availableParallelism(). */
  workers?: number;
  /** Smaller counts and shorter loads (about 10 s in all). */
  quick?: boolean;
  /** Only these scenes. Default: tasks, http, agents. */
  only?: readonly SceneName[];
  /** Where lines go. Default: console.log. */
  log?: (s: string) => void;
}

/**
 * Run the demo and print its verdicts and summary. Resolves with every row measured.
 *
 * @example
 * await demo({ quick: true, only: ['tasks'] });
 */
export async function demo(o: DemoOptions = {}): Promise<Row[]> {
  const workers = o.workers ?? availableParallelism();
  const quick = o.quick ?? false;
  const log = o.log ?? ((s: string) => console.log(s));
  for (const s of o.only ?? []) {
    if (!(SCENES as readonly string[]).includes(s)) {
      throw Object.assign(new RangeError(`shoal demo: unknown scene '${s}' (scenes: ${SCENES.join(', ')})`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
  }
  const scenes = o.only?.length ? SCENES.filter((s) => o.only!.includes(s)) : DEFAULT_SCENES;
  const before = busyness();
  log(
    `shoal demo: ${scenes.join(', ')}; ${workers} workers on ${before.cores} cores, Node ${process.version}` +
      (quick ? ' (quick)' : ''),
  );
  if (before.busy)
    log(`warning: the machine is busy before the start (load ${before.load.toFixed(1)} on ${before.cores} cores)`);
  const rows: Row[] = [];
  for (const name of scenes) {
    log('');
    const got = await runScene(name, workers, quick, log);
    for (const r of got) log(`  => ${verdict(r)}`);
    rows.push(...got);
  }
  const after = busyness();
  printSummary(rows, log);
  const note = busyNote(before.load, after.load, after.cores);
  if (note) log(`\n${note}`);
  return rows;
}

function runScene(name: SceneName, workers: number, quick: boolean, log: (s: string) => void): Promise<Row[]> {
  switch (name) {
    case 'tasks':
      return tasksScene({ workers, quick, log });
    case 'http':
      return httpScene({ workers, quick, log });
    case 'agents':
      return agentsScene({ workers, quick, log });
    case 'sockets':
      return socketsScene({ workers, ms: quick ? 700 : 1500 });
  }
}
