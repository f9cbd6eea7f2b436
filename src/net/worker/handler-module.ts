/**
 * Loading a TCP handler module: its default export must be a function `(conn) => Promise<void>`.
 * Used by the net host for every connection (cached there) and, through the pool, by
 * `rt.listen()` before it listens, so a missing or unusable module fails the listen call with
 * TaskLoadError instead of closing every connection with 0 bytes.
 *
 * Runs on a pool worker. Owns nothing.
 */
import { describeModule, moduleLoadError } from '../../core/module-ref.js';
import { TaskLoadError } from '../../core/errors.js';
import type { Conn } from './conn.js';

/** A TCP handler module's default export. */
export type ConnHandler = (conn: Conn) => unknown;

/** Import `url` and return its default export, or throw TaskLoadError naming the module. */
export async function loadHandler(url: string, named = url): Promise<ConnHandler> {
  let m: { default?: unknown };
  try {
    m = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw moduleLoadError('TCP handler module', named, e);
  }
  if (typeof m.default !== 'function') {
    const names = Object.keys(m).join(', ') || 'none';
    throw new TaskLoadError(
      `TCP handler module ${describeModule(named)} has no default export function ` +
        `(default: ${m.default === undefined ? 'missing' : typeof m.default}; exports: ${names})`,
    );
  }
  return m.default as ConnHandler;
}

/**
 * The task `rt.listen()` runs on a worker before it listens: resolves once the handler loads.
 *
 * @example
 * await rt.run(new URL('./handler-module.js', import.meta.url), 'checkHandler', [href]);
 */
export async function checkHandler(url: string): Promise<void> {
  await loadHandler(url);
}
