/**
 * What looking inside costs the service. Three cases, median of 5 rounds (3 with --quick):
 *
 * 1. Echo round trip through the reactor while a REPL client floods `1 + 1` lines and reads the
 *    answers (from a child process), against the same echo with no REPL client. The ratio says
 *    how much of the main thread the REPL takes from the reactor (1.00x: nothing).
 * 2. One REPL line's round trip (send `1 + 1`, wait for the answer), shoal's paced session
 *    against a bare `node:repl` on a socket (`repl.start({ input: socket, output: socket })`,
 *    no token, pacing or bounds; in a child process, as its domain would slow every promise of
 *    the bench): the price of the session's gate.
 * 3. One `rt.metrics()` scrape against `JSON.stringify(rt.stats())`: what prom-client adds.
 *
 * One file, two roles: the bench, and the flooding client (--flood PORT TOKEN).
 * Run alone: `npm run build && flock /tmp/shoal-bench.lock node dist/perf/harness.js --only inspect-repl`
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import repl from 'node:repl';
import { fileURLToPath } from 'node:url';
import { median, printTable, result, type BenchResult } from './bench-types.js';
import { Runtime } from '../src/runtime/runtime.js';

const SELF = fileURLToPath(import.meta.url);
const ECHO = new URL('../test/fixtures/tcp-echo.js', import.meta.url);
const TOKEN = 'bench-token-0123456789';

/** `count` sequential echo round trips of a short message; resolves with the median (µs). */
function echoMedian(port: number, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    const times: number[] = [];
    let got = 0;
    let t0 = 0;
    const msg = Buffer.alloc(32, 97);
    const next = (): void => {
      if (times.length === count) {
        s.destroy();
        resolve(median(times));
        return;
      }
      got = 0;
      t0 = performance.now();
      s.write(msg);
    };
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= msg.length) {
        times.push((performance.now() - t0) * 1000);
        next();
      }
    });
    s.on('error', reject);
    s.once('connect', next);
  });
}

/** `count` sequential REPL lines `1 + 1` on a connected, greeted socket; median µs per line. */
function lineMedian(s: Socket, count: number): Promise<number> {
  return new Promise((resolve) => {
    const times: number[] = [];
    let buf = '';
    let t0 = 0;
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (!/2\n[^\n]*> $/.test(buf)) return;
      buf = '';
      times.push((performance.now() - t0) * 1000);
      if (times.length === count) {
        s.off('data', onData);
        resolve(median(times));
        return;
      }
      t0 = performance.now();
      s.write('1 + 1\n');
    };
    s.on('data', onData);
    t0 = performance.now();
    s.write('1 + 1\n');
  });
}

/** Connect and wait until the REPL shows `prompt` (after sending `first`, if any). */
function greeted(port: number, first: string | undefined, prompt: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.endsWith(prompt)) {
        s.off('data', onData);
        resolve(s);
      }
    };
    s.on('data', onData);
    s.on('error', reject);
    s.once('connect', () => first !== undefined && s.write(first));
  });
}

/** The flooding client: authenticate, then send `1 + 1` lines as fast as TCP takes them; read all. */
async function floodClient(port: number, token: string): Promise<void> {
  const s = connect({ port, host: '127.0.0.1' });
  s.on('data', () => {});
  s.on('error', () => process.exit(0));
  s.on('close', () => process.exit(0));
  s.write(`${token}\n`);
  const chunk = '1 + 1\n'.repeat(4096);
  const pump = (): void => {
    while (s.write(chunk));
    s.once('drain', pump);
  };
  pump();
  process.send?.('flooding');
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const rounds = opts.quick ? 3 : 5;
  const echoes = opts.quick ? 300 : 1000;
  const lines = opts.quick ? 300 : 1000;
  const rt = await Runtime.start({ workers: 2 });
  // the bare node:repl lives in a child process: its domain would slow every promise here
  const bare = fork(SELF, ['--bare-repl']);
  const barePort = await new Promise<number>((res) => bare.once('message', (m) => res(Number(m))));
  try {
    const srv = await rt.listen({ port: 0, handler: ECHO });
    const r = await rt.repl({ port: 0, token: TOKEN, quiet: true });
    const alone: number[] = [];
    const beside: number[] = [];
    const shoalLine: number[] = [];
    const bareLine: number[] = [];
    const scrape: number[] = [];
    const stringify: number[] = [];
    for (let k = 0; k < rounds; k++) {
      alone.push(await echoMedian(srv.port, echoes));
      const child = fork(SELF, ['--flood', String(r.port), TOKEN]);
      await new Promise((res) => child.once('message', res));
      await new Promise((res) => setTimeout(res, 100)); // let the flood fill the session's queue
      beside.push(await echoMedian(srv.port, echoes));
      child.kill();
      await new Promise((res) => child.once('exit', res));

      const a = await greeted(r.port, `${TOKEN}\n`, 'shoal> ');
      shoalLine.push(await lineMedian(a, lines));
      a.destroy();
      const b = await greeted(barePort, undefined, '> ');
      bareLine.push(await lineMedian(b, lines));
      b.destroy();

      const n = opts.quick ? 100 : 300;
      let t0 = performance.now();
      for (let i = 0; i < n; i++) await rt.metrics();
      scrape.push(((performance.now() - t0) * 1000) / n);
      t0 = performance.now();
      for (let i = 0; i < n; i++) JSON.stringify(rt.stats());
      stringify.push(((performance.now() - t0) * 1000) / n);
    }
    return [
      result({
        suite: 'inspect-repl',
        case: 'echo round trip beside a flooding REPL client',
        unit: 'µs',
        shoal: median(beside),
        anchor: 'no REPL client',
        anchorValue: median(alone),
        higherIsBetter: false,
      }),
      result({
        suite: 'inspect-repl',
        case: 'REPL line round trip (1 + 1)',
        unit: 'µs',
        shoal: median(shoalLine),
        anchor: 'bare node:repl on a socket',
        anchorValue: median(bareLine),
        higherIsBetter: false,
      }),
      result({
        suite: 'inspect-repl',
        case: 'rt.metrics() scrape',
        unit: 'µs',
        shoal: median(scrape),
        anchor: 'JSON.stringify(rt.stats())',
        anchorValue: median(stringify),
        higherIsBetter: false,
      }),
    ];
  } finally {
    bare.kill();
    await rt.close({ timeout: 1000 });
  }
}

/** The anchor of case 2: node:repl straight on each socket, in a process of its own. */
function bareRepl(): void {
  const server = createServer((s) => {
    s.setNoDelay(true); // as shoal's sessions: no Nagle delay on the prompt after a result
    s.on('error', () => {});
    const r = repl.start({ input: s, output: s, prompt: '> ', terminal: false, useGlobal: false });
    r.on('exit', () => s.end());
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--bare-repl') {
  bareRepl();
} else if (process.argv[2] === '--flood') {
  void floodClient(Number(process.argv[3]), process.argv[4] ?? '');
} else if (process.argv[1] === SELF) {
  run({ quick: process.argv.includes('--quick') }).then((rs) => printTable(rs));
}
