/**
 * The blocking pool: long CPU jobs on a separate piscina pool, so they never stall the
 * green-thread workers (the role of Tokio's `spawn_blocking`). Created on first use.
 *
 * Runs on the main thread. Owns: the piscina instance.
 *
 * Cancellation here is piscina's: aborting a job that already started terminates the thread
 * running it (a synchronous CPU loop cannot be interrupted any other way). That is acceptable on
 * this pool because each thread runs one job at a time, so nothing else is lost with it; the
 * green-thread workers are never killed.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { cancelledError } from '../core/context.js';
import { ClosedError } from '../core/errors.js';
import { fromWire, type WireError } from './wire-error.js';

// piscina is loaded with the pool, on first use: most runtimes never start one, and `import
// 'shoal'` should not pay for loading it (design.md, "Layers")
const requireCjs = createRequire(import.meta.url);

const piscinaClass = (): typeof Piscina => (requireCjs('piscina') as typeof import('piscina')).Piscina;

const WORKER_FILE = new URL('../../workers/blocking-worker.js', import.meta.url).href;

/** What the blocking worker sends back (errors are carried as WireError to keep code/cause). */
export type BlockingReply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** The job a blocking worker receives. */
export interface BlockingJob {
  url: string;
  name: string;
  args: unknown[];
}

/**
 * Options of `rt.blocking()`.
 *
 * @example
 * await rt.blocking(url, 'compress', [buf], { signal: AbortSignal.timeout(60_000), transfer: [buf.buffer] });
 */
export interface BlockingOptions {
  /** abort the job: a queued job is dropped; a started one ends its thread (piscina's behaviour) */
  signal?: AbortSignal;
  /** ArrayBuffers / MessagePorts to move to the blocking thread rather than copy */
  transfer?: readonly TransferListItem[];
}

/** A lazily created piscina pool. */
export class BlockingPool {
  private pool: Piscina<BlockingJob, BlockingReply> | undefined;
  private readonly threads: number;
  private closed = false;

  constructor(threads = Math.max(1, availableParallelism())) {
    this.threads = threads;
  }

  async run(url: string, name: string, args: unknown[], o?: BlockingOptions): Promise<unknown> {
    if (this.closed) throw new ClosedError(`runtime is closed: blocking job ${url}#${name} was not started`);
    if (o?.signal?.aborted) throw cancelledError(o.signal);
    this.pool ??= new (piscinaClass())<BlockingJob, BlockingReply>({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 1000,
    });
    let reply: BlockingReply;
    try {
      reply = await this.pool.run(
        { url, name, args },
        { signal: o?.signal ?? null, transferList: o?.transfer as never },
      );
    } catch (e) {
      if (o?.signal?.aborted) throw cancelledError(o.signal);
      if (e instanceof Error) throw e;
      // piscina rejects with whatever failed (a bare `{}` when a message could not be cloned)
      throw Object.assign(new Error(`blocking job ${url}#${name} failed: ${describe(e)}`, { cause: e }), {
        code: 'ERR_SHOAL_BLOCKING',
      });
    }
    if (reply.ok) return reply.value;
    throw fromWire(reply.error);
  }

  /** Threads currently alive in the blocking pool (0 until first use). */
  get size(): number {
    return this.pool?.threads.length ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.destroy();
  }
}

function describe(v: unknown): string {
  try {
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
