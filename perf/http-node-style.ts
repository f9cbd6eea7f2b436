/** The node-style twin of perf/http-handlers.ts's default export, for rt.serve (a function default). */
import { node } from './http-handlers.js';

export default node;
