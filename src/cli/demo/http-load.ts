/**
 * Load for the demo's HTTP scene: wrk (`-t1`, Debian's `wrk`) when it is installed, else a small
 * closed-loop generator on node:http's keep-alive Agent in a child process (it costs more CPU per
 * request than wrk, which the scene says when it is used).
 *
 * Runs on the main thread (the runner) and in a child process (the fallback generator's entry).
 * Owns the child processes it starts until they exit.
 */
import { execFile, execFileSync, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The first argument of the forked generator: it runs only when started as that child. */
const CHILD_FLAG = '--shoal-demo-http-load';

/** One load run's outcome. */
export interface LoadResult {
  rps: number;
  p99Ms: number;
  errors: number;
}

/** True when Debian's wrk is on the PATH. */
export function haveWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status === 1; // wrk --version exits 1 after printing
  }
}

function wrk(url: string, conns: number, secs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', url],
      { timeout: (secs + 15) * 1000 },
      (err, out) => {
        if (err) return reject(err);
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
        const m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
        const scale = { us: 0.001, ms: 1, s: 1000 } as const;
        const p99Ms = m ? Number(m[1]) * scale[m[2] as keyof typeof scale] : Number.NaN;
        const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
        resolve({ rps, p99Ms, errors });
      },
    );
  });
}

function fallback(url: string, conns: number, secs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, url, String(conns), String(secs)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (r: LoadResult) => resolve(r));
    child.once('exit', (code) => reject(new Error(`the demo's load generator exited with code ${code}`)));
  });
}

/**
 * Load `url` with `conns` keep-alive connections for `secs` seconds.
 *
 * @example
 * const r = await load('http://127.0.0.1:8080/', 64, 2);
 */
export function load(url: string, conns: number, secs: number): Promise<LoadResult> {
  return haveWrk() ? wrk(url, conns, secs) : fallback(url, conns, secs);
}

async function generate(url: string, conns: number, secs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: conns });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + secs * 1000;
  const one = (): Promise<void> =>
    new Promise((done) => {
      const t0 = performance.now();
      const req = request(url, { agent }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.resume().on('end', () => {
          lat.push(performance.now() - t0);
          done();
        });
      });
      req.on('error', () => {
        errors++;
        done();
      });
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const secsTaken = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secsTaken, p99Ms: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN, errors };
}

if (process.argv[2] === CHILD_FLAG && process.send) {
  const [url = '', conns = '64', secs = '1'] = process.argv.slice(3);
  generate(url, Number(conns), Number(secs)).then(
    (r) => process.send!(r, () => process.exit(0)),
    () => process.exit(1),
  );
}
