/**
 * The task `rt.serve()` runs once before it listens: import the HTTP handler module on a worker
 * and say how it is called, so a module that does not load fails `rt.serve` at the call.
 *
 * Runs on a pool worker, as a task. Owns nothing (the module stays in the worker's cache).
 */
import { TaskLoadError } from '../../core/errors.js';
import type { HandlerStyle } from '../options.js';

/**
 * How a module says which style it is:
 * - fetch style: the default export has a `fetch(req, ctx)` method (`export default { fetch }`,
 *   a Hono app, any object or class instance with `fetch`);
 * - node style: the default export is a function `(req, res)` (an Express or Connect app, a
 *   plain request listener).
 */
export function styleOf(m: unknown): HandlerStyle | undefined {
  const d = (m as { default?: unknown } | null)?.default;
  if (d !== null && (typeof d === 'object' || typeof d === 'function')) {
    if (typeof (d as { fetch?: unknown }).fetch === 'function') return 'fetch';
    if (typeof d === 'function') return 'node';
  }
  return undefined;
}

/** Import `url` and classify it; TaskLoadError names the module on any failure. */
export async function probe(url: string): Promise<HandlerStyle> {
  let m: unknown;
  try {
    m = await import(url);
  } catch (e) {
    throw new TaskLoadError(`cannot load HTTP handler module ${url}: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
    });
  }
  const style = styleOf(m);
  if (style === undefined) {
    const d = (m as { default?: unknown }).default;
    throw new TaskLoadError(
      `HTTP handler module ${url} must export default { fetch(req, ctx) } or a (req, res) function, got ${
        d === null ? 'null' : typeof d
      }`,
    );
  }
  return style;
}
