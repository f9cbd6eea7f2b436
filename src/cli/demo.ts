/**
 * The `shoal demo` command (what `npm start` runs): parses its options and runs the scenes in
 * src/cli/demo/ (one per user of shoal, each against the tool that user would otherwise pick).
 *
 * Runs on the main thread of the CLI process. Owns nothing beyond the call.
 */
import { demo, SCENES, type SceneName } from './demo/index.js';
import { intOption, parse, UsageError } from './usage.js';

export const help = `usage: shoal demo [options]

The main job, in about 20 seconds: one scene per user of shoal, each measured side by side with the
tool that user would otherwise pick, on this machine, in this run:
  tasks    fine-grained (tens of µs) and coarse (ms) jobs against piscina configured for async
           tasks, fresh and warm, and a cancellation of running jobs (no thread is killed)
  http     a hybrid HTTP handler (file read + ~1 ms CPU) served by rt.serve against one-thread
           node:http and node:cluster (load: wrk -t1 where installed, else a node:http client)
  agents   a bank of accounts as agents against the same class behind postMessage (comlink's way)
  sockets  (opt-in) a CPU-heavy TCP service against node:net
Each case prints a verdict computed from its figures; the summary table shows every ratio, and says
when the machine was busy (load above its cores) and what that does to the figures.

options:
  --quick              smaller counts and shorter loads (about 10 s)
  --only SCENE         only this scene (repeatable): ${SCENES.join(', ')}
  --workers N          pool workers, piscina threads and cluster processes (default: the cores)
  -h, --help           this text`;

/**
 * Parse the arguments after `demo` and run it; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['--quick', '--only', 'tasks']);
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parse('demo', args, {
    quick: { type: 'boolean' },
    only: { type: 'string', multiple: true },
    workers: { type: 'string' },
  });
  const only = (values.only ?? []) as string[];
  for (const s of only) {
    if (!(SCENES as readonly string[]).includes(s)) {
      throw new UsageError(`unknown scene '${s}' (scenes: ${SCENES.join(', ')})`, 'demo');
    }
  }
  await demo({
    quick: values.quick === true,
    only: only as SceneName[],
    workers: intOption('demo', values.workers, 'workers', 1, 1024),
  });
  return 0;
}
