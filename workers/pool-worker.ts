/**
 * Entry point of a shoal pool worker (the file given to `new Worker`). Thin on purpose: it
 * reads its boot data and hands the thread to the worker side of the chosen transport.
 *
 * Runs on a pool worker thread. Owns nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bootPoolWorker } from '../src/pool/worker-boot.js';
import { installNetHost, netBusy } from '../src/net/worker/host.js';
import type { WorkerBoot } from '../src/pool/protocol.js';
import { installTaskFetch } from '../src/http/worker/task-fetch.js';

if (!parentPort) throw new Error('workers/pool-worker.js must be started as a worker thread');
installNetHost(parentPort); // the reactor's link arrives on parentPort (src/net/host.ts)
installTaskFetch(); // fetch() inside a task follows the task's cancellation (src/http/worker/task-fetch.ts)
bootPoolWorker(parentPort, workerData as WorkerBoot, netBusy); // a worker with open connections must not park its loop
