/**
 * How code typed at the REPL prompt is evaluated and printed: `node:repl` started on a session's
 * streams with `rt` in scope, bounded rendering of results, no domain, callbacks of typed code
 * guarded, and the time of each evaluation reported (the session paces lines with it).
 *
 * Runs on the main thread of the service (inside a REPL session). Owns the REPLServer it starts
 * until the session closes it.
 */
import { EventEmitter } from 'node:events';
import repl, { type REPLServer } from 'node:repl';
import type { Readable, Writable } from 'node:stream';
import { inspect } from 'node:util';
import { clip } from './format.js';
import { PROMPT } from './wire.js';
import { isThenable } from '../core/thenable.js';

/** Longest rendering of one result or one text view. */
export const MAX_RESULT_CHARS = 256 * 1024;

/** What the REPL tells its session. */
export interface EvalHooks {
  /** an error thrown outside any line: by a callback of typed code, or an unawaited promise */
  report(what: string, e: unknown): void;
  /** the synchronous time (ms) of one evaluation (and, for lines without await, its printing) */
  evaluated(ms: number): void;
}

/** Result rendering: bounded depth, array and string lengths, then a hard cut. */
export function render(v: unknown): string {
  const s = inspect(v, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100, colors: false });
  return clip(s, MAX_RESULT_CHARS);
}

/**
 * What node:repl gets instead of a `domain`: an emitter whose `bind` is the identity. node:repl
 * only needs the 'error' event from it (it emits a line's error there and prints it). A real
 * domain (node:repl's default) enables an async hook for the rest of the process's life: after
 * the first client, every promise on the main thread, the reactor's included, cost ~75x more
 * (`await null` x2M: 0.16 s before, 11.9 s after, here), and domains take over the process's
 * uncaught-exception handling. Without it, errors thrown later by code typed at the prompt are
 * caught by the callback wrappers of `guardContext` below instead.
 */
function inertDomain(): EventEmitter {
  return Object.assign(new EventEmitter(), { bind: <F>(f: F): F => f, add() {}, remove() {} });
}

/**
 * Callbacks scheduled by code typed at the prompt (timers, immediates, microtasks) report what
 * they throw to this session instead of throwing into the service's event loop.
 */
function guardContext(r: REPLServer, report: (what: string, e: unknown) => void): void {
  const guard = <A extends unknown[]>(cb: unknown): unknown => {
    if (typeof cb !== 'function') return cb;
    return function (this: unknown, ...args: A): unknown {
      try {
        return (cb as (...a: A) => unknown).apply(this, args);
      } catch (e) {
        report('Uncaught (in a callback)', e);
        return undefined;
      }
    };
  };
  const ctx = r.context as Record<string, unknown>;
  type Sched = (cb: unknown, ...rest: unknown[]) => unknown;
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'] as const) {
    const real = globalThis[name] as unknown as Sched;
    ctx[name] = (cb: unknown, ...rest: unknown[]) => real(guard(cb), ...rest);
  }
}

/**
 * Start node:repl on `input` / `output` with `rt` in scope.
 *
 * @example
 * const r = startNodeRepl(input, output, rt, { report: (w, e) => log(w, e), evaluated: (ms) => (debt += ms) });
 */
export function startNodeRepl(input: Readable, output: Writable, rt: object, hooks: EvalHooks): REPLServer {
  const r = repl.start({
    input,
    output,
    prompt: PROMPT,
    terminal: false,
    useColors: false,
    useGlobal: false,
    ignoreUndefined: true,
    breakEvalOnSigint: false,
    writer: (v: unknown) => {
      // a promise printed as a result and never awaited: report its rejection to the session
      // rather than let it become the service's unhandled rejection
      if (isThenable(v)) v.then(undefined, (e: unknown) => hooks.report('Uncaught (in promise)', e));
      return render(v);
    },
    domain: inertDomain(),
  } as repl.ReplOptions);
  r.context.rt = rt;
  guardContext(r, hooks.report);
  const evaluate = r.eval;
  (r as { eval: REPLServer['eval'] }).eval = (code, context, file, cb) => {
    const t0 = performance.now();
    try {
      evaluate.call(r, code, context, file, cb);
    } finally {
      hooks.evaluated(performance.now() - t0);
    }
  };
  return r;
}
