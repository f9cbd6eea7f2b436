/**
 * The bounded runner behind `rt.map()`: keep N tasks active over an input sequence of any size
 * and yield their results, with progress; one call for the "keep N jobs active and print
 * progress" loop.
 *
 * Runs on the main thread. Owns: the window of started-but-not-yet-yielded items.
 *
 * Invariants:
 *   1. started - yielded <= concurrency at all times, so memory is bounded by the concurrency
 *      (inputs are pulled lazily; a result waiting to be yielded still holds its slot).
 *   2. The first failure (or the caller's signal, or the consumer leaving the loop) aborts every
 *      task still active; the generator then throws that failure (or CancelledError).
 *   3. ordered: results come in input order; unordered: in completion order.
 *   4. The failure thrown names what failed: `err.input` is the input and `err.index` its
 *      position (0-based, in input order), set on the task's own error (its class and code stay).
 */
import { setMaxListeners } from 'node:events';
import { checkPositiveInt } from '../core/args.js';
import { cancelledError } from '../core/context.js';

/** Progress of a map run, reported after every completion. */
export interface MapProgress {
  done: number;
  failed: number;
  active: number;
  /** known when the input is an array (or has a numeric `length`/`size`) */
  total?: number;
}

/**
 * Options of `rt.map()`.
 *
 * @example
 * rt.map(urls, url, 'fetchPage', { concurrency: 128, ordered: false, timeout: 10_000, onProgress: (p) => log(p.done) })
 */
export interface MapOptions {
  /** tasks kept active at once (default 64) */
  concurrency?: number;
  /** yield in input order (default true) */
  ordered?: boolean;
  signal?: AbortSignal;
  /** per-task timeout, ms */
  timeout?: number;
  onProgress?: (p: MapProgress) => void;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown; input: unknown };

/** Run `run(input, signal)` over `inputs` with bounded concurrency, yielding results. */
export async function* boundedMap<I, R>(
  inputs: Iterable<I> | AsyncIterable<I>,
  run: (input: I, signal: AbortSignal) => Promise<R>,
  opts: MapOptions = {},
): AsyncGenerator<R, void, undefined> {
  const concurrency = opts.concurrency ?? 64;
  checkPositiveInt('concurrency', concurrency);
  const ordered = opts.ordered ?? true;
  const outer = opts.signal;
  if (outer?.aborted) throw cancelledError(outer);
  const total = totalOf(inputs);
  const it: Iterator<I> | AsyncIterator<I> =
    Symbol.asyncIterator in (inputs as object)
      ? (inputs as AsyncIterable<I>)[Symbol.asyncIterator]()
      : (inputs as Iterable<I>)[Symbol.iterator]();

  const ac = new AbortController();
  // every active task listens on this one signal: up to `concurrency` listeners is by design
  setMaxListeners(Infinity, ac.signal);
  const ready = new Map<number, Settled<R>>();
  let started = 0;
  let yielded = 0;
  let active = 0;
  let done = 0;
  let failed = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onOuter = (): void => {
    ac.abort(outer!.reason);
    poke();
  };
  outer?.addEventListener('abort', onOuter, { once: true });

  /** set when onProgress threw: the map fails with it (it must not escape as an uncaught error) */
  const progressFailed: { failed: boolean; error?: unknown } = { failed: false };
  const progress = (): void => {
    if (!opts.onProgress || progressFailed.failed) return;
    const p: MapProgress = { done, failed, active };
    if (total !== undefined) p.total = total;
    try {
      opts.onProgress(p);
    } catch (error) {
      progressFailed.failed = true;
      progressFailed.error = error;
      ac.abort(error); // stop the active tasks, as a failed task would
    }
  };

  const fill = async (): Promise<void> => {
    while (!exhausted && started - yielded < concurrency && !ac.signal.aborted) {
      const r = await it.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      const i = started++;
      active++;
      run(r.value, ac.signal).then(
        (value) => {
          active--;
          done++;
          ready.set(i, { ok: true, value });
          progress();
          poke();
        },
        (error: unknown) => {
          active--;
          failed++;
          ready.set(i, { ok: false, error, input: r.value });
          progress();
          poke();
        },
      );
    }
  };

  try {
    for (;;) {
      if (progressFailed.failed) throw progressFailed.error;
      if (outer?.aborted) throw cancelledError(outer);
      await fill();
      if (progressFailed.failed) throw progressFailed.error;
      let key: number | undefined;
      if (ordered) key = ready.has(yielded) ? yielded : undefined;
      else
        for (const k of ready.keys()) {
          key = k;
          break;
        }
      if (key !== undefined) {
        const s = ready.get(key)!;
        ready.delete(key);
        yielded++;
        if (!s.ok) throw tagFailure(s.error, s.input, key);
        yield s.value;
        continue;
      }
      if (exhausted && active === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    outer?.removeEventListener('abort', onOuter);
    if (!exhausted || active > 0) ac.abort(outer?.reason);
    if (!exhausted) await (it as AsyncIterator<I>).return?.();
  }
}

/** Set `input` and `index` on a task's error (when it is an object that takes properties). */
function tagFailure(error: unknown, input: unknown, index: number): unknown {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return error;
  if (!Object.isExtensible(error) || Object.hasOwn(error, 'index')) return error;
  try {
    Object.defineProperty(error, 'input', { value: input, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(error, 'index', { value: index, enumerable: true, writable: true, configurable: true });
  } catch {
    // a proxy or an exotic object that refuses: throw it as it is
  }
  return error;
}

function totalOf(x: unknown): number | undefined {
  if (Array.isArray(x)) return x.length;
  const o = x as { length?: unknown; size?: unknown };
  if (typeof o.length === 'number') return o.length;
  if (typeof o.size === 'number') return o.size;
  return undefined;
}
