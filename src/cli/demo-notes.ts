/**
 * What `shoal demo` says beside its figures: jobs per worker for the timed run only (the warm-up
 * is not counted), and an honest note when the machine was busy or the pool did not win.
 *
 * Runs on the main thread of the CLI process. Pure functions; owns nothing.
 */

/**
 * Jobs each worker completed in the timed run: the counts after minus those before it.
 *
 * @example
 * timedJobs([4, 4], [204, 204]) // [200, 200]
 */
export function timedJobs(before: readonly number[], after: readonly number[]): number[] {
  return after.map((n, i) => n - (before[i] ?? 0));
}

/** What the notes are computed from. */
export interface DemoConditions {
  /** 1-minute load average read before the demo started its own work */
  loadBefore: number;
  cores: number;
  /** single-thread time / pool time */
  speedup: number;
  workers: number;
}

/**
 * Lines to print under the summary: a busy-machine note when the load was above the cores, and a
 * word on a speed-up below 1 (or far below the cores).
 *
 * @example
 * demoNotes({ loadBefore: 3.1, cores: 2, speedup: 0.9, workers: 2 })
 */
export function demoNotes(c: DemoConditions): string[] {
  const notes: string[] = [];
  const busy = c.loadBefore > c.cores;
  if (busy) {
    notes.push(
      `note: this machine was busy before the demo started (load average ${c.loadBefore.toFixed(1)} on ${c.cores} cores):` +
        ` other processes took CPU from every run above, and most from shoal's, which needs all the cores at once;` +
        ` its speed-ups here understate what an idle machine shows. Run again when the load is below ${c.cores}.`,
    );
  }
  if (c.speedup < 1) {
    notes.push(
      busy
        ? `note: the pool was slower than one thread in this run (${c.speedup.toFixed(2)}x): on a busy machine its threads wait for cores.`
        : `note: the pool was slower than one thread in this run (${c.speedup.toFixed(2)}x) although the machine looked idle;` +
            ` with ${c.cores} core(s) and ${c.workers} workers there is little to gain, and thread hand-offs cost.`,
    );
  } else if (!busy && c.cores > 1 && c.speedup < Math.min(c.cores, c.workers) * 0.5) {
    notes.push(
      `note: the speed-up (${c.speedup.toFixed(2)}x) is well below the ${Math.min(c.cores, c.workers)} threads used:` +
        ` the jobs' I/O waits and the hand-offs bound it.`,
    );
  }
  return notes;
}
