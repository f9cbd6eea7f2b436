/**
 * Scene "tasks": fine-grained jobs (tens of µs) and coarse jobs (ms, with a file read) on shoal's
 * pool against piscina configured for async tasks (`concurrentTasksPerWorker: 16`), each measured
 * on a fresh pool (the first round, what a short script sees) and warm (the median of later
 * rounds, what a long-running service sees); then a cancellation of running jobs on both.
 *
 * Runs on the main thread. Owns a shoal Runtime and a piscina pool for the scene's duration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Runtime } from '../../runtime/runtime.js';
import { median, windowedRate } from './measure.js';
import type { Row } from './report.js';

const JOBS = new URL('./jobs.js', import.meta.url);

/** Options of {@link tasksScene}. */
export interface TasksSceneOptions {
  workers: number;
  quick: boolean;
  log: (s: string) => void;
}

type Submit = (name: string, arg: unknown, signal?: AbortSignal) => Promise<unknown>;

interface Side {
  name: string;
  submit: Submit;
  /** threads the pool has replaced since it started (a cancellation that kills a thread adds one) */
  replaced(): number;
  close(): Promise<void>;
}

async function shoalSide(workers: number): Promise<Side> {
  const rt = await Runtime.start({ workers });
  return {
    name: 'shoal',
    submit: (name, arg, signal) => rt.run(JOBS, name, [arg], signal ? { signal } : {}),
    replaced: () => rt.stats().workers.reduce((n, w) => n + w.restarts + w.recycled, 0),
    close: () => rt.close({ timeout: 5000 }),
  };
}

function piscinaSide(workers: number): Side {
  const pool = new Piscina({
    filename: JOBS.href,
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 16, // as a user configures piscina for async jobs
  });
  let destroyed = 0;
  pool.on('workerDestroy', () => destroyed++);
  return {
    name: 'piscina',
    replaced: () => destroyed,
    submit: (name, arg, signal) => pool.run(arg, signal ? { name, signal } : { name }),
    close: () => pool.destroy(),
  };
}

/** Measure one side: a cold first round, then the median of warm rounds. */
async function measure(side: Side, name: string, args: (i: number) => unknown, count: number, window: number) {
  const round = () => windowedRate(count, window, (i) => side.submit(name, args(i)));
  const cold = await round();
  const warm: number[] = [];
  for (let r = 0; r < 3; r++) warm.push(await round());
  return { cold, warm: median(warm) };
}

/**
 * Cancel `n` running long jobs; report how long until every slot ran a fresh job again and how
 * many threads the pool had to replace to get there.
 */
async function cancelRunning(side: Side, n: number) {
  await Promise.all(Array.from({ length: 4 * n }, () => side.submit('whoami', null)));
  const before = side.replaced();
  const ctl = Array.from({ length: n }, () => new AbortController());
  const running = ctl.map((c) => side.submit(side.name === 'shoal' ? 'longTask' : 'long', 10_000, c.signal));
  const settled = running.map((p) =>
    p.then(
      () => 'finished',
      () => 'cancelled',
    ),
  );
  await new Promise((r) => setTimeout(r, 150)); // let every long job start running
  const t0 = performance.now();
  for (const c of ctl) c.abort(new Error('not needed any more'));
  const outcomes = await Promise.all(settled);
  await Promise.all(Array.from({ length: 4 * n }, () => side.submit('whoami', null)));
  const ms = performance.now() - t0;
  const replaced = side.replaced() - before;
  return { ms, replaced, cancelled: outcomes.filter((o) => o === 'cancelled').length };
}

/**
 * Run the scene and return its rows.
 *
 * @example
 * const rows = await tasksScene({ workers: 2, quick: true, log: console.log });
 */
export async function tasksScene(o: TasksSceneOptions): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-demo-'));
  const rows: Row[] = [];
  try {
    const files = Array.from({ length: 8 }, (_, i) => {
      const p = join(dir, `input-${i}.bin`);
      writeFileSync(p, randomBytes(64 * 1024));
      return p;
    });
    const fineN = o.quick ? 4000 : 20_000;
    const coarseN = o.quick ? 40 : 160;
    const rounds = 12; // ~4 ms of hashing over 64 KiB on this kind of box
    const coarseArg = (i: number) => ({ path: files[i % files.length]!, rounds });
    o.log(
      `tasks: ${fineN} fine jobs (20 SHA-256 passes, tens of µs) and ${coarseN} coarse jobs (64 KiB file + ~4 ms CPU)`,
    );
    o.log(`       shoal vs piscina (concurrentTasksPerWorker 16), ${o.workers} threads each; fresh pool, then warm`);
    const results: Record<string, { fine: { cold: number; warm: number }; coarse: { cold: number; warm: number } }> =
      {};
    const cancels: Record<string, { ms: number; replaced: number; cancelled: number }> = {};
    for (const make of [() => shoalSide(o.workers), async () => piscinaSide(o.workers)]) {
      const side = await make();
      try {
        const fine = await measure(side, 'fine', () => 20, fineN, 1024);
        const coarse = await measure(side, 'coarse', coarseArg, coarseN, 32);
        results[side.name] = { fine, coarse };
        cancels[side.name] = await cancelRunning(side, o.workers);
      } finally {
        await side.close();
      }
    }
    const s = results.shoal!;
    const p = results.piscina!;
    const push = (c: string, a: number, b: number, unit = 'jobs/s') =>
      rows.push({ scene: 'tasks', case: c, unit, shoal: a, anchor: 'piscina', other: b });
    push('fine jobs, fresh pool', s.fine.cold, p.fine.cold);
    push('fine jobs, warm', s.fine.warm, p.fine.warm);
    push('coarse jobs, fresh pool', s.coarse.cold, p.coarse.cold);
    push('coarse jobs, warm', s.coarse.warm, p.coarse.warm);
    const sc = cancels.shoal!;
    const pc = cancels.piscina!;
    rows.push({
      scene: 'tasks',
      case: `cancel ${o.workers} running jobs, until slots run again`,
      unit: 'ms',
      shoal: sc.ms,
      anchor: 'piscina',
      other: pc.ms,
      lowerIsBetter: true,
    });
    o.log(
      `       cancelled ${sc.cancelled} running jobs on shoal: ${sc.replaced} threads replaced (cooperative), ` +
        `${sc.ms.toFixed(0)} ms until every slot ran again`,
    );
    o.log(
      `       cancelled ${pc.cancelled} running jobs on piscina: ${pc.replaced} threads replaced (it terminates them), ` +
        `${pc.ms.toFixed(0)} ms until every slot ran again`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
