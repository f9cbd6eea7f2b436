/**
 * rt.map (bounded runner), rt.load and rt.blocking on real workers, both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import type { MapProgress } from '../../src/index.js';
import { CancelledError, TaskLoadError } from '../../src/core/errors.js';

const url = new URL('../fixtures/tasks-basic.js', import.meta.url);

async function* slowly(n: number, pulled: { n: number }): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    pulled.n++;
    yield i;
  }
}

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`map, load, blocking [${transport}]`);
  t.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport, blockingThreads: 1 });
  });
  t.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t('ordered map yields results in input order with progress and a known total', async ({ rt }) => {
    const seen: MapProgress[] = [];
    const out: unknown[] = [];
    const inputs = Array.from({ length: 500 }, (_, i) => i);
    for await (const r of rt.map(inputs, url, 'echoLater', { concurrency: 16, onProgress: (p) => seen.push(p) }))
      out.push(r);
    assert.equal(out, inputs);
    assert.is(seen.length, 500);
    assert.equal(seen.at(-1), { done: 500, failed: 0, active: 0, total: 500 });
    assert.ok(
      seen.every((p) => p.active <= 16),
      'never more than the concurrency active',
    );
  });

  t('unordered map over an async iterable yields every result and pulls inputs lazily', async ({ rt }) => {
    const pulled = { n: 0 };
    let yielded = 0;
    let maxAhead = 0;
    const got = new Set<unknown>();
    for await (const r of rt.map(slowly(300, pulled), url, 'echoLater', { concurrency: 8, ordered: false })) {
      yielded++;
      maxAhead = Math.max(maxAhead, pulled.n - yielded);
      got.add(r);
    }
    assert.is(got.size, 300);
    assert.ok(maxAhead <= 8, `inputs pulled ahead of results stayed within the concurrency (saw ${maxAhead})`);
  });

  t('a failing item rejects the map and cancels the rest', async ({ rt }) => {
    const inputs = ['ok', 'ok', 'custom', 'ok'];
    const e = await (async () => {
      for await (const _ of rt.map(inputs, url, 'fail', { concurrency: 2 })) void _;
    })().catch((x: unknown) => x);
    assert.instance(e, Error);
    assert.is(rt.stats().inFlight, 0);
  });

  t('the error a map throws names the failing input and its index, keeping its class and code', async ({ rt }) => {
    const inputs = ['ok', 'ok', 'custom', 'ok'];
    let err: unknown;
    try {
      for await (const _ of rt.map(inputs, url, 'fail', { concurrency: 1 })) void _;
    } catch (e) {
      err = e;
    }
    // fail('ok') throws a CustomError too: the first input fails, at index 0
    const e = err as Error & { input?: unknown; index?: number; code?: string };
    assert.is(e.name, 'CustomError');
    assert.is(e.code, 'E_CUSTOM');
    assert.is(e.input, 'ok');
    assert.is(e.index, 0);
  });

  t('aborting the signal ends the map with CancelledError', async ({ rt }) => {
    const ac = new AbortController();
    let n = 0;
    const e = await (async () => {
      for await (const _ of rt.map(
        Array.from({ length: 1000 }, (_, i) => i),
        url,
        'echoLater',
        { concurrency: 4, signal: ac.signal },
      )) {
        if (++n === 10) ac.abort();
      }
    })().catch((x: unknown) => x);
    assert.instance(e, CancelledError);
    assert.ok(n >= 10 && n < 1000);
  });

  t('leaving the loop early cancels in-flight items', async ({ rt }) => {
    for await (const r of rt.map(
      Array.from({ length: 1000 }, (_, i) => i),
      url,
      'echoLater',
      { concurrency: 32 },
    )) {
      if (r === 5) break;
    }
    assert.is(rt.stats().inFlight, 0);
  });

  t('map refuses a bad concurrency and a non-iterable input', async ({ rt }) => {
    assert.throws(() => rt.map(42 as unknown as number[], url, 'echo'), TypeError);
    // checked at the call site, before any input is pulled (test/faults/options.test.ts)
    assert.throws(() => rt.map([1], url, 'echo', { concurrency: 0 }), RangeError);
  });

  t('blocking runs on the piscina pool and keeps error fidelity', async ({ rt }) => {
    assert.is(await rt.blocking(url, 'add', [40, 2]), 42);
    const e = (await rt.blocking(url, 'fail', ['custom']).catch((x: unknown) => x)) as Error & { code: string };
    assert.is(e.name, 'CustomError');
    assert.is(e.code, 'E_CUSTOM');
    assert.instance(await rt.blocking(url, 'nope', []).catch((x: unknown) => x), TaskLoadError);
    assert.is(rt.stats().blockingThreads >= 1, true);
  });

  t.run();
}
