/**
 * The Runtime facade, re-exported from its home in src/pool/ (see runtime.ts there).
 *
 * Runs on the main thread. Owns nothing.
 */
export { Runtime, moduleURL } from './pool/runtime.js';
export type { RuntimeOptions, RunOptions, CloseOptions, ModuleRef } from './pool/runtime.js';
export type { Remote, LoadOptions } from './pool/load.js';
export type { MapOptions, MapProgress } from './pool/map.js';
export type { RuntimeStats, WorkerStats } from './pool/stats.js';
export type { LiveTask } from './pool/pool.js';
export type { BlockingOptions } from './pool/blocking.js';
