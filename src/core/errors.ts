/**
 * Error classes shared by every layer. Each carries a stable `code` (like Node's own errors) so
 * callers can branch on `err.code` without `instanceof` across realms or threads.
 *
 * Runs on any thread. Owns nothing.
 */
import { constants as osConstants } from 'node:os';

/** Base class of every error shoal throws on purpose. */
export class ShoalError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A task, wait or operation was cancelled (cooperatively, through an AbortSignal).
 * `cause` holds the reason given to `cancel(reason)` / `abort(reason)`, when there was one.
 *
 * @example
 * try { await sleep(1000, { signal }) } catch (e) { if (e instanceof CancelledError) ... }
 */
export class CancelledError extends ShoalError {
  static readonly code = 'ERR_SHOAL_CANCELLED';
  constructor(message = 'cancelled', options?: { cause?: unknown }) {
    super(CancelledError.code, message, options);
  }
}

/**
 * A wait ran out of time.
 *
 * @example
 * await timeout(fetchThing(), 100).catch((e) => e.code === 'ERR_SHOAL_TIMEOUT')
 */
export class TimeoutError extends ShoalError {
  static readonly code = 'ERR_SHOAL_TIMEOUT';
  constructor(message = 'timed out', options?: { cause?: unknown }) {
    super(TimeoutError.code, message, options);
  }
}

/**
 * Too many operations are parked on one channel (the cap keeps a runaway producer or consumer
 * from growing memory without bound; use a buffer or fewer concurrent waiters).
 */
export class TooManyPendingError extends ShoalError {
  static readonly code = 'ERR_SHOAL_TOO_MANY_PENDING';
  constructor(message: string) {
    super(TooManyPendingError.code, message);
  }
}

/**
 * A worker thread died while it held this task (or connection); the worker has been replaced.
 * `started` is true when the dead worker had taken the task: it may have run in part or in whole,
 * so retrying it may run it twice. False when no worker had taken it (no worker could start).
 *
 * @example
 * await rt.run(url, 'job', []).catch((e) => { if (e.code === 'ERR_SHOAL_WORKER_EXITED' && !e.started) retry(); });
 */
export class WorkerExitedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_WORKER_EXITED';
  /** the dead worker had taken the task (it may have run): a retry may run it twice */
  readonly started: boolean;
  constructor(message: string, options?: { cause?: unknown; started?: boolean }) {
    super(WorkerExitedError.code, message, options);
    this.started = options?.started ?? true;
  }
}

/**
 * A module reference was refused by the runtime's module policy: a `data:` URL (refused unless
 * allowed), or a URL outside `Runtime.start({ allowModules })`. Thrown at the call site.
 *
 * @example
 * try { rt.run('data:text/javascript,export const f=()=>1', 'f') } catch (e) { e.code === 'ERR_SHOAL_MODULE_NOT_ALLOWED' }
 */
export class ModuleNotAllowedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_MODULE_NOT_ALLOWED';
  constructor(message: string) {
    super(ModuleNotAllowedError.code, message);
  }
}

/** The runtime, pool, server or channel is closed and takes no new work. */
export class ClosedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_CLOSED';
  constructor(message: string) {
    super(ClosedError.code, message);
  }
}

/**
 * A shared-memory ring or queue holds words no correct peer could have written (a length past
 * the frame limit, a position past the capacity, unknown flag bits...). `reason` names the check
 * that failed; the ring is unusable afterwards. Never a hang or an allocation sized by garbage.
 *
 * @example
 * try { reader.next() } catch (e) { if (e instanceof RingCorruptError) console.error(e.reason) }
 */
export class RingCorruptError extends ShoalError {
  static readonly code = 'ERR_SHOAL_RING_CORRUPT';
  /** Which check failed, e.g. 'frame-length', 'positions', 'flags', 'descriptor'. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(RingCorruptError.code, `${message} (${reason})`);
    this.reason = reason;
  }
}

/**
 * A pool task could not start: its module failed to load (not found, or it threw while
 * evaluating) or it has no function export of that name. The message names the module and
 * export; `cause` holds the loader's own error.
 *
 * @example
 * await rt.run(url, 'nope', []).catch((e) => e.code === 'ERR_SHOAL_TASK_LOAD')
 */
export class TaskLoadError extends ShoalError {
  static readonly code = 'ERR_SHOAL_TASK_LOAD';
  constructor(message: string, options?: { cause?: unknown }) {
    super(TaskLoadError.code, message, options);
  }
}

/**
 * Bytes given to the value codec are not a valid frame (garbage, truncated or corrupted). Decoding
 * never hangs, crashes or allocates beyond the frame's size on bad input: it throws this.
 *
 * @example
 * try { decode(bytes) } catch (e) { if (e instanceof CodecError) dropFrame() }
 */
export class CodecError extends ShoalError {
  static readonly code = 'ERR_SHOAL_CODEC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(CodecError.code, message, options);
  }
}

/**
 * The peer reset a TCP connection (or it failed under the handler): the next read, write or wait
 * on the Conn rejects with this, and `conn.signal` aborts with it. `errno` is the socket's code
 * when known ('ECONNRESET', 'EPIPE', ...).
 *
 * @example
 * try { await conn.write(buf) } catch (e) { if (e.code === 'ERR_SHOAL_CONN_RESET') return }
 */
export class ConnectionResetError extends ShoalError {
  static readonly code = 'ERR_SHOAL_CONN_RESET';
  readonly errno: string;
  constructor(message: string, errno = 'ECONNRESET') {
    super(ConnectionResetError.code, message);
    this.errno = errno;
  }
}

/**
 * An outbound `connect()` failed (refused, unreachable, bad host). As with node:net, `code` is the
 * socket's error code (`'ECONNREFUSED'`, `'EHOSTUNREACH'`, `'ENOTFOUND'`...), `errno` its number
 * (negative, as libuv reports it, when known) and `syscall` is `'connect'`. A connect that runs
 * out of time rejects with TimeoutError instead.
 *
 * @example
 * await connect({ port: 1 }).catch((e) => e.code) // 'ECONNREFUSED'
 */
export class ConnectError extends ShoalError {
  readonly errno: number | undefined;
  readonly syscall = 'connect';
  constructor(message: string, code: string) {
    super(code, message);
    const n = (osConstants.errno as Record<string, number | undefined>)[code];
    this.errno = n === undefined ? undefined : -n;
  }
}

/** True when `e` is a cancellation (a CancelledError, or an AbortError from a platform API). */
export function isCancellation(e: unknown): boolean {
  return e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError');
}

/**
 * An agent is failed: a `send` threw under `errorMode: 'fail'` (the default), or supervision gave
 * up re-creating it after its worker died too often. Its mailbox is held; later sends and calls
 * reject with this until `agent.restart()`. `cause` holds the error that failed it.
 *
 * @example
 * await counter.call('get').catch((e) => e.code === 'ERR_SHOAL_AGENT_FAILED' && counter.restart())
 */
export class AgentFailedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_AGENT_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentFailedError.code, message, options);
  }
}

/**
 * The agent was stopped (`agent.stop()`, or the runtime closed): the message was not delivered.
 *
 * @example
 * await counter.stop(); await counter.call('get').catch((e) => e.code) // 'ERR_SHOAL_AGENT_STOPPED'
 */
export class AgentStoppedError extends ShoalError {
  static readonly code = 'ERR_SHOAL_AGENT_STOPPED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(AgentStoppedError.code, message, options);
  }
}

/**
 * A bounded mailbox was full: policy 'error' (the send or call rejects with this), or a call
 * dropped by policy 'drop' / pushed out by policy 'slide' (a call is never left pending).
 *
 * @example
 * await rt.agent(url, 'Log', [], { mailbox: { size: 100, policy: 'error' } })
 */
export class MailboxFullError extends ShoalError {
  static readonly code = 'ERR_SHOAL_MAILBOX_FULL';
  constructor(message: string) {
    super(MailboxFullError.code, message);
  }
}
