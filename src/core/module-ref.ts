/**
 * Module references as users give them, and the errors that name them. One rule for every API
 * that takes a module (`rt.run`, `rt.load`, `rt.map`, `rt.blocking`, `rt.listen({ handler })`,
 * `shoal run`, `shoal serve`):
 *
 * 1. A `URL` is used as is (best: `new URL('./tasks.js', import.meta.url)`).
 * 2. A string with a URL scheme (`file:`, `data:`, `node:`...) is a URL.
 * 3. Any other string is a file path resolved against `process.cwd()`, with or without `./`, as
 *    `node tasks.mjs` does; it is never looked up as a package name.
 *
 * A module that cannot be loaded fails with TaskLoadError naming the file (not the URL of
 * shoal's own module that imported it, as Node's message would).
 *
 * Runs on any thread. Owns nothing.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TaskLoadError } from './errors.js';

/**
 * The URL string a worker imports for `ref` (see the rule above). Throws TypeError
 * (ERR_INVALID_ARG_TYPE) for anything but a URL or a non-empty string.
 *
 * @example
 * toModuleURL('tasks.mjs') // 'file:///<cwd>/tasks.mjs'
 */
export function toModuleURL(ref: unknown, name = 'url'): string {
  if (ref instanceof URL) return ref.href;
  if (typeof ref !== 'string' || ref === '') {
    const got = ref === null ? 'null' : ref === '' ? 'an empty string' : typeof ref;
    throw Object.assign(new TypeError(`${name} must be a URL or a module file path, got ${got}`), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return ref;
  return pathToFileURL(isAbsolute(ref) ? ref : resolve(ref)).href;
}

/** How an error names a module: its file path for `file:` URLs, else the URL. */
export function describeModule(href: string): string {
  if (!href.startsWith('file:')) return href;
  try {
    return fileURLToPath(href);
  } catch {
    return href;
  }
}

/**
 * The TaskLoadError for a module `href` whose import failed with `cause`: "no such file" when the
 * module itself is missing (Node's message would name the shoal file that imported it), else the
 * cause's message, kept as `cause` (a syntax error, an exception thrown while loading...).
 *
 * @example
 * import(href).catch((e) => { throw moduleLoadError('task module', href, e) })
 */
export function moduleLoadError(what: string, href: string, cause: unknown): TaskLoadError {
  const path = describeModule(href);
  const e = cause as { code?: string; message?: string; url?: string } | undefined;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
    const missing = e.message?.match(/Cannot find (?:module|package) '([^']+)'/)?.[1];
    const self = missing === undefined || missing === path || missing === href;
    if (self) return new TaskLoadError(`cannot load ${what} ${path}: no such file`);
    return new TaskLoadError(`cannot load ${what} ${path}: it imports '${missing}', which cannot be found`, {
      cause,
    });
  }
  const msg = (e?.message ?? String(cause)).replace(/ imported from \S+$/, '');
  return new TaskLoadError(`cannot load ${what} ${path}: ${msg}`, { cause });
}
