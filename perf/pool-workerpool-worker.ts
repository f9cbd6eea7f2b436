/**
 * workerpool's worker script for the pool benchmarks (workerpool needs its methods registered
 * from a script of its own).
 *
 * Runs on workerpool's worker threads.
 */
import workerpool from 'workerpool';
import { cpu, noop, readSize } from './pool-tasks.js';

workerpool.worker({ noop, cpu, readSize });
