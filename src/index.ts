/**
 * The public API of shoal. Re-exports only: what is not re-exported here is internal.
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
export { select, afterOp, promiseOp, type Selected, type SelectOptions, type SelectArg, type OpValue } from './core/select.js';
