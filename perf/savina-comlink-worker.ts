/**
 * The comlink anchor's worker: objects exposed with comlink (each method call is a message to
 * this worker and a reply back). Used by perf/agent-savina.bench.ts.
 *
 * Runs on a worker thread started by the bench. Owns the exposed objects.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

class Actor {
  x = 0;
  n = 0;
  work(): void {
    this.x += Math.sin(this.n++);
  }
  count(): number {
    return this.n;
  }
}

const api = {
  counter: 0,
  ping(): number {
    return 0;
  },
  inc(): void {
    api.counter++;
  },
  get(): number {
    return api.counter;
  },
  reset(): void {
    api.counter = 0;
  },
  actors: [] as Actor[],
  makeActors(n: number): void {
    api.actors = Array.from({ length: n }, () => new Actor());
  },
  work(i: number): void {
    api.actors[i]!.work();
  },
  Actor,
};

export type ComlinkApi = typeof api;

Comlink.expose(api, nodeEndpoint(parentPort!));
