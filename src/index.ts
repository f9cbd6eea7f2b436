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
