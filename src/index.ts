/**
 * The public API of shoal. Re-exports only: what is not re-exported here is internal.
 *
 * General layout. A folder imports only from folders below it (checked by
 * test/unit/layers.test.ts; why: docs/design.md "Layers"):
 *
 *   core < shm < codec < shared-chan < {pool, net} < features < runtime < cli
 *
 * - core/         single-thread primitives: tasks, timers, channels, select, promises, argument checks
 * - shm/          shared-memory primitives: layout helpers, byte ring, slot queue, doorbell, loop parker
 * - codec/        the value codec (what crosses threads as bytes)
 * - shared-chan/  channels across threads: api.ts, memory/ (SharedArrayBuffer), port/ (MessagePort)
 * - pool/         the worker pool: task table, worker lives; shared/ and message/ transports
 * - net/          TCP: connection slot and protocol at the root; reactor/ (main thread), worker/ (handlers)
 * - features      http/, agent/, ... : one folder each, built on the layers below
 * - runtime/      the Runtime facade, which composes pool, net and the features
 * - cli/          the `shoal` command
 *
 * pool and net never import each other; inside a folder, each thread's side (main / worker,
 * reactor / worker) and each variant (shared / message, memory / port) never import each other:
 * what they share sits at the folder's root. workers/ holds the thin entry points given to
 * `new Worker`.
 */
export {
  ShoalError,
  CancelledError,
  TimeoutError,
  TooManyPendingError,
  WorkerExitedError,
  ClosedError,
  isCancellation,
} from './core/errors.js';
// channels and select
export { chan, Chan, MAX_PENDING, type ChanStats, type PutOptions, type TakeOptions } from './core/chan.js';
export { fixed, dropping, sliding, type BufferSpec, type BufferKind } from './core/buffers.js';
export { Op, NOT_READY, type Handler, type NotReady } from './core/op.js';
export {
  select,
  afterOp,
  promiseOp,
  type Selected,
  type SelectOptions,
  type SelectArg,
  type OpValue,
} from './core/select.js';
// green threads, timers and promises
export { spawn, setAmbient, type Task, type TaskArgs, type TaskState, type SpawnOptions } from './core/task.js';
export { scope, openScope, type Scope, type ScopeOptions, type ScopeSpawnOptions } from './core/scope.js';
export { sleep, yieldNow, type WaitOptions } from './core/sleep.js';
export { after, every, type TimerHandle, type TimerOptions, type Tick } from './core/timers.js';
export { deferred, type Deferred } from './core/deferred.js';
export { timeout, type TimeoutOptions } from './core/timeout.js';
export {
  tasks,
  taskCount,
  setTracing,
  isTracing,
  loopDelay,
  watchSlowSlices,
  type TaskInfo,
  type LoopDelayStats,
  type SlowSlice,
  type SlowSliceWatcher,
} from './core/introspect.js';
// the runtime (main thread) and the task-side helper
export {
  Runtime,
  type RuntimeOptions,
  type RunOptions,
  type CloseOptions,
  type ModuleRef,
} from './runtime/runtime.js';
export type { Remote, LoadOptions } from './pool/load.js';
export type { MapOptions, MapProgress } from './pool/map.js';
export type { RuntimeStats, WorkerStats } from './runtime/stats.js';
export type { LiveTask } from './pool/pool.js';
export type { BlockingOptions } from './pool/blocking.js';
export { taskSignal } from './pool/task-context.js';
export { TaskLoadError } from './core/errors.js';
// shared-memory substrate: the error a corrupt ring or queue reports
export { RingCorruptError } from './core/errors.js';
// the value codec is internal; this is the error a corrupt frame reports, should one surface
export { CodecError } from './core/errors.js';
// channels across threads (shared memory, or MessagePort under SHOAL_TRANSPORT=message)
export {
  sharedChan,
  fromDescriptor,
  isChannelDescriptor,
  type SharedChanOptions,
  type ChannelDescriptor,
} from './shared-chan/index.js';
export { SharedChan, type SharedChannel, type TakeManyOptions } from './shared-chan/memory/channel.js';
// TCP: the reactor serves sockets on the main thread; handlers and connect() run on workers
export { Conn, type ConnWaitOptions, type Readiness } from './net/worker/conn.js';
export { connect, type ConnectOptions } from './net/worker/connect.js';
export type { ConnHandler } from './net/worker/handler-module.js';
export {
  TcpServer,
  HandlerError,
  type ListenOptions,
  type ServerCloseOptions,
  type TcpServerStats,
} from './net/reactor/listen.js';
export type { ReactorStats } from './net/reactor/reactor.js';
export { ConnectionResetError, ConnectError } from './core/errors.js';
// reliability: the environment (every SHOAL_* variable) and the module policy
export { ConfigError, readConfig, SETTINGS, type Config, type Setting } from './config.js';
export { ModuleNotAllowedError } from './core/errors.js';
export type { ModuleAllowList } from './runtime/options.js';
// agents: objects of exported classes on the pool, with ordered mailboxes
export {
  asAgent,
  type Agent,
  type AgentClass,
  type CallOptions,
  type StopOptions,
  type RestartOptions,
} from './agent/handle.js';
export type { AgentOptions } from './agent/options.js';
export type { MailboxPolicy } from './agent/protocol.js';
export type { LiveAgent, WorkerAgentStats } from './agent/main.js';
export { currentAgent } from './agent/worker.js';
export { AgentFailedError, AgentStoppedError, MailboxFullError } from './core/errors.js';
// HTTP: rt.serve() handlers (fetch style or node style) run on the workers
export { HttpServer, type HttpServerStats, type HttpCloseOptions } from './http/main.js';
export { HttpContext, PayloadTooLargeError } from './http/worker/context.js';
export {
  HTTP_DEFAULTS,
  type ServeOptions,
  type HttpLimits,
  type HttpTlsOptions,
  type HttpHandlerError,
} from './http/options.js';
// perf harness: load generation on every core (`shoal load`) and isolated benchmark suites (`shoal bench`)
export {
  runLoad,
  formatLoadReport,
  type LoadTestOptions,
  type LoadReport,
  type LoadProgress,
  type LoaderHost,
} from './harness/load/main.js';
export type { LatencySummary } from './harness/load/histogram.js';
export { runSuite, type SuiteOptions } from './harness/bench/main.js';
export { formatSuiteTable, suiteChart, type SuiteReport, type CaseReport } from './harness/bench/report.js';
export type { CaseStats } from './harness/bench/stats.js';
export { HarnessOptionError } from './harness/errors.js';
// looking inside a running service: rt.repl(), rt.metrics(), rt.serveMetrics() (src/inspect/)
export type { ReplOptions, ReplServer, ReplServerStats } from './inspect/repl-server.js';
export type { MetricsServeOptions, MetricsServer } from './inspect/metrics.js';
export type { AgentInfo } from './inspect/source.js';
export { METRICS_CONTENT_TYPE } from './inspect/content-type.js';
export { ReplRefusedError } from './inspect/errors.js';
