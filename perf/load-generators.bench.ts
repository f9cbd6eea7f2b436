/**
 * The load generators side by side on shoal's own HTTP servers (issue 24: shoal's server suites
 * use `shoal load`, with wrk and autocannon beside it where installed): hello-world at 64
 * connections on one-thread node:http and on `rt.serve` (fetch style, 2 workers), each driven in
 * turn by `shoal load --workers 1`, wrk -t1 and autocannon. Reported per target: the rate each
 * generator drove it at, and each generator's own CPU per request (all its threads, from /proc).
 * The servers are perf/http-servers.ts's, each in its own process.
 *
 * usage: npm run build && node dist/perf/load-generators.bench.js [--quick]
 *        (or: node dist/perf/harness.js --only load-generators)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { printTable, type BenchResult } from './bench-types.js';
import { generatorsSideBySide } from './load-generators.js';

const SERVERS = fileURLToPath(new URL('./http-servers.js', import.meta.url));

async function start(kind: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [SERVERS, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('ready ')) resolve(l);
    });
    child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
  });
  return { port: Number(line.split(' ')[1]), child };
}

/** The harness entry. */
export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const rounds = opts.quick ? 3 : 5;
  const secs = opts.quick ? 3 : 5;
  const servers = [
    { name: 'node:http', ...(await start('node')) },
    { name: 'rt.serve', ...(await start('shoal-fetch')) },
  ];
  try {
    return await generatorsSideBySide(
      'load-generators',
      'hello, 64 conns',
      servers.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.port}/hello` })),
      64,
      secs,
      rounds,
    );
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    `load-generators: ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`,
  );
  printTable(await run({ quick: process.argv.includes('--quick') }));
}
