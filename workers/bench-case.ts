/**
 * Entry point of a `shoal bench` case worker (the file given to `new Worker`): one fresh thread
 * per case, so no heap, module instance or JIT state is shared between cases.
 *
 * Runs on a worker thread started by src/harness/bench/main.ts. Owns nothing.
 */
import { runCaseWorker } from '../src/harness/bench/worker.js';

await runCaseWorker();
