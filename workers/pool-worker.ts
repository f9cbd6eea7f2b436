/**
 * Entry point of a shoal pool worker (the file given to `new Worker`). Thin on purpose: it
 * reads its boot data and hands the thread to the worker side of the chosen transport.
 *
 * Runs on a pool worker thread. Owns nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readConfig } from '../src/config.js';
import { bootPoolWorker } from '../src/pool/worker-boot.js';
import { installNetHost, netBusy } from '../src/net/worker/host.js';
import { agentsBusy, installAgentHost } from '../src/agent/worker.js';
import type { WorkerBoot } from '../src/pool/protocol.js';
import { installTaskFetch } from '../src/http/worker/task-fetch.js';

if (!parentPort) throw new Error('workers/pool-worker.js must be started as a worker thread');
readConfig(); // every SHOAL_* variable, validated at boot: a bad one is a ConfigError naming it
installNetHost(parentPort); // the reactor's link arrives on parentPort (src/net/worker/host.ts)
installAgentHost(parentPort); // the agent hub's port arrives on parentPort too (src/agent/worker.ts)
installTaskFetch(); // fetch() inside a task follows the task's cancellation (src/http/worker/task-fetch.ts)
// a worker with open connections or live agents must not block its loop in Atomics.wait
bootPoolWorker(parentPort, workerData as WorkerBoot, () => netBusy() || agentsBusy());
