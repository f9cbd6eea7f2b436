/**
 * The load generator of the served-socket demo: a child process (forked by scene-sockets.ts) that opens
 * `conns` connections to 127.0.0.1:port and keeps one request in flight on each (closed loop),
 * for a warm-up and then a measured stretch, and reports requests/s and latency percentiles.
 *
 * Runs in its own process, so the load does not share the server's cores' event loops (it still
 * shares the machine's cores: on a 2-core box it competes with the server, whichever server it is).
 * Owns its sockets; exits by itself after one job (and after `ms + 10 s` at the latest).
 */
import { connect, type Socket } from 'node:net';
import { setting } from '../../config.js';
import { REPLY_BYTES, REQUEST_BYTES } from './sockets-handler.js';

/** What the parent asks for. */
export interface LoadJob {
  readonly port: number;
  readonly conns: number;
  readonly warmMs: number;
  readonly ms: number;
}

/** What the child answers. */
export interface LoadReport {
  readonly rate: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly error?: string;
}

const MAX_SAMPLES = 200_000;

/**
 * Run one closed-loop load job against 127.0.0.1:`job.port`.
 *
 * @example
 * const r = await runLoad({ port, conns: 64, warmMs: 300, ms: 1500 });
 * console.log(`${r.rate.toFixed(0)} req/s, p99 ${r.p99Us} µs`);
 */
export async function runLoad(job: LoadJob): Promise<LoadReport> {
  const socks: Socket[] = [];
  const lat = new Float64Array(MAX_SAMPLES);
  let samples = 0;
  let count = 0;
  let measuring = false;
  const req = Buffer.alloc(REQUEST_BYTES, 1);
  try {
    await Promise.all(
      Array.from(
        { length: job.conns },
        (_, k) =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ port: job.port, host: '127.0.0.1', noDelay: true });
            socks.push(s);
            let pending = 0;
            let sentAt = 0;
            const send = (): void => {
              pending = REPLY_BYTES;
              sentAt = performance.now();
              req.writeUInt32LE(k, 0); // requests differ per connection: no reply is a cache hit
              s.write(req);
            };
            s.once('connect', () => {
              resolve();
              send();
            });
            s.once('error', reject);
            s.on('data', (b: Buffer) => {
              pending -= b.length;
              if (pending > 0) return;
              if (measuring) {
                count++;
                if (samples < MAX_SAMPLES) lat[samples++] = (performance.now() - sentAt) * 1000;
              }
              send();
            });
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, job.warmMs));
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, job.ms));
    measuring = false;
    const secs = (performance.now() - t0) / 1000;
    const sorted = lat.subarray(0, samples).sort();
    const pct = (p: number): number =>
      samples === 0 ? 0 : Math.round(sorted[Math.min(samples - 1, Math.floor(samples * p))]!);
    return { rate: count / secs, p50Us: pct(0.5), p99Us: pct(0.99) };
  } finally {
    for (const s of socks) s.destroy();
  }
}

// The child's entry: one job from the parent, one report back, then exit.
if (setting('demoNetLoad') && process.send) {
  process.once('message', (job: LoadJob) => {
    const guard = setTimeout(() => process.exit(2), job.warmMs + job.ms + 10_000);
    runLoad(job)
      .then(
        (r) => process.send!(r, () => process.exit(0)),
        (e: unknown) =>
          process.send!({ rate: 0, p50Us: 0, p99Us: 0, error: String(e) } satisfies LoadReport, () => process.exit(1)),
      )
      .finally(() => clearTimeout(guard));
  });
}
