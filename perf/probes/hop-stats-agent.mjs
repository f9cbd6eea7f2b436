/**
 * Probe helper (agent module): per-worker GC, heap and spin figures for perf/probes/agent-hops.mjs,
 * a sampling heap profile that counts garbage too (HeapSampler) and a CPU profile (CpuSampler).
 * Runs on a pool worker as an agent. Owns a PerformanceObserver of 'gc' entries.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';

// the build's spin counters (src/agent/worker/host.ts spinCounters; absent in older builds)
const root = process.env.SHOAL_ROOT ? pathToFileURL(`${process.env.SHOAL_ROOT}/`) : new URL('../../', import.meta.url);
const host = await import(new URL('dist/src/agent/worker/host.js', root));

const gc = { n: 0, ms: 0, minor: 0, major: 0, maxMs: 0 };
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    gc.n++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    if (e.detail?.kind === 1) gc.minor++;
    else gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

export class HopStats {
  read() {
    const h = v8.getHeapStatistics();
    return { gc: { ...gc }, heap: h.used_heap_size, hop: { ...(host.spinCounters ?? {}) } };
  }
}

import { Session } from 'node:inspector';

/** Sampling heap profile of this worker including collected garbage: top allocation sites. */
export class HeapSampler {
  start() {
    this.s = new Session();
    this.s.connect();
    return new Promise((res, rej) =>
      this.s.post(
        'HeapProfiler.startSampling',
        { samplingInterval: 32, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true },
        (e) => (e ? rej(e) : res(1)),
      ),
    );
  }
  stop() {
    return new Promise((res, rej) =>
      this.s.post('HeapProfiler.stopSampling', (e, r) => {
        if (e) return rej(e);
        const agg = new Map();
        const walk = (n, st) => {
          const cf = n.callFrame;
          const name = `${cf.functionName || '(anon)'} ${cf.url.split('/').at(-1)}:${cf.lineNumber + 1}`;
          const s2 = [...st, name];
          if (n.selfSize) {
            const k = s2.slice(-3).reverse().join(' < ');
            agg.set(k, (agg.get(k) ?? 0) + n.selfSize);
          }
          for (const c of n.children ?? []) walk(c, s2);
        };
        walk(r.profile.head, []);
        res([...agg].sort((a, b) => b[1] - a[1]).slice(0, 12));
      }),
    );
  }
}

/** CPU profile of this worker between start() and stop(): self ms by function (top 15). */
export class CpuSampler {
  start() {
    this.s ??= new Session();
    try {
      this.s.connect();
    } catch {}
    const post = (m, p) => new Promise((res, rej) => this.s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
    this.post = post;
    return post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 50 })).then(() => post('Profiler.start'));
  }
  async stop() {
    const { profile } = await this.post('Profiler.stop');
    const self = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    for (let i = 0; i < profile.samples.length; i++) {
      const n = byId.get(profile.samples[i]);
      const cf = n.callFrame;
      const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').at(-1)}:${cf.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0) / 1000);
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    return { total, top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 15) };
  }
}
