/**
 * Probe helper (agent module): per-worker GC and heap figures for perf/probes/agent-hops.mjs.
 * Runs on a pool worker as an agent. Owns a PerformanceObserver of 'gc' entries.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

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
    return { gc: { ...gc }, heap: h.used_heap_size, hop: { ...(globalThis.__shoalHop ?? {}) } };
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
