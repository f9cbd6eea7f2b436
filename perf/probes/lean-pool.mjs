/**
 * Probe helpers (not a benchmark suite): the two reference contenders of the cold-call probes,
 * each on its own worker.
 * - `coldWakeFloor()`: a worker parked in Atomics.wait, woken by Atomics.notify, answering a main
 *   thread that waits in Atomics.waitAsync (the cold-wake floor; main never blocks).
 * - `leanPool(tasksUrl)`: main writes (fnId, id, arg) into a SharedArrayBuffer slot, notifies a
 *   worker parked in Atomics.wait and waits in waitAsync; the worker calls the task module's
 *   `noop` and writes the result back; main resolves the caller's promise. No codec, no records,
 *   no cancellation: the shortest pool path.
 * Both workers are unref'd and loop forever; the probes exit with process.exit.
 */
import { Worker } from 'node:worker_threads';

/** A call to the cold-wake floor's worker: resolves when it answered. */
export function coldWakeFloor() {
  const a = new Int32Array(new SharedArrayBuffer(16));
  new Worker(
    `const { workerData: sab } = require('node:worker_threads'); const a = new Int32Array(sab);
for (;;) { Atomics.wait(a, 0, 0); Atomics.store(a, 0, 0); Atomics.add(a, 1, 1); Atomics.notify(a, 1); }`,
    { eval: true, workerData: a.buffer },
  ).unref();
  return async function floor() {
    const b = Atomics.load(a, 1);
    Atomics.store(a, 0, 1);
    Atomics.notify(a, 0);
    const r = Atomics.waitAsync(a, 1, b);
    if (r.async) await r.value;
  };
}

/** A call of `noop` in the task module at `tasksUrl` (a string) through the lean pool. */
export function leanPool(tasksUrl) {
  const w = new Int32Array(new SharedArrayBuffer(4096));
  new Worker(
    `const { workerData: { sab, url } } = require('node:worker_threads');
import(url).then((mod) => { const fns = [mod.noop]; const w = new Int32Array(sab); let seen = 0;
for (;;) { Atomics.wait(w, 0, seen); seen = Atomics.load(w, 0); const fn = fns[w[4]]; const id = w[5];
  const r = fn(w[6]); w[8] = id; w[9] = r === undefined ? 0 : 1; Atomics.add(w, 1, 1); Atomics.notify(w, 1); } });`,
    { eval: true, workerData: { sab: w.buffer, url: tasksUrl } },
  ).unref();
  let nextId = 1;
  const pending = new Map();
  function onResult() {
    const id = w[8];
    const p = pending.get(id);
    pending.delete(id);
    p(w[9]);
  }
  return function lean() {
    return new Promise((res) => {
      const id = nextId++;
      pending.set(id, res);
      w[4] = 0;
      w[5] = id;
      w[6] = 7;
      const before = Atomics.load(w, 1);
      Atomics.add(w, 0, 1);
      Atomics.notify(w, 0);
      const r = Atomics.waitAsync(w, 1, before);
      if (r.async) r.value.then(onResult);
      else onResult();
    });
  };
}
