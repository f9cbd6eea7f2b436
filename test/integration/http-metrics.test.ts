/**
 * rt.serve's `metrics` option: GET (and HEAD) on the metrics path of an rt.serve server answers
 * `rt.metrics()` in the Prometheus text format before the handler sees the request (fetch and
 * node style, both transports); every other path, and every path when the option is off, goes to
 * the handler; a method other than GET/HEAD gets 405; a bad option throws at the call.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METRICS_CONTENT_TYPE } from '../../src/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { APP, NODE_APP } from '../fixtures/http-harness.js';

for (const transport of ['shared', 'message'] as const) {
  test(`metrics: true answers GET /metrics with rt.metrics(), fetch style (${transport})`, async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      const web = await rt.serve({ handler: APP, metrics: true });
      for (let i = 0; i < 4; i++) assert.is(await (await fetch(web.url)).text(), 'hello'); // other paths: the handler
      for (const path of ['metrics', 'metrics?from=prometheus']) {
        const r = await fetch(web.url + path);
        assert.is(r.status, 200);
        assert.is(r.headers.get('content-type'), METRICS_CONTENT_TYPE);
        const families = new Map(parsePrometheusTextFormat(await r.text()).map((f) => [f.name, f]));
        assert.is(families.get('shoal_workers')?.metrics[0]?.value, '2');
        assert.ok(families.has('shoal_server_requests_total'));
      }
      const head = await fetch(`${web.url}metrics`, { method: 'HEAD' });
      assert.is(head.status, 200);
      assert.is(await head.text(), '');
      const post = await fetch(`${web.url}metrics`, { method: 'POST', body: 'x' });
      assert.is(post.status, 405);
      assert.is(post.headers.get('allow'), 'GET, HEAD');
      await web.close();
    } finally {
      await rt.close();
    }
  });
}

test('metrics: a path of its own, node style; the default path then goes to the handler', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const web = await rt.serve({ handler: NODE_APP, metrics: '/_ops/prom' });
    const r = await fetch(`${web.url}_ops/prom`);
    assert.is(r.status, 200);
    assert.ok(parsePrometheusTextFormat(await r.text()).some((f) => f.name === 'shoal_workers'));
    assert.is(await (await fetch(`${web.url}metrics`)).text(), 'node GET /metrics from 127.0.0.1');
    await web.close();
  } finally {
    await rt.close();
  }
});

test('metrics: off by default; a bad value throws at the call naming it', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const web = await rt.serve({ handler: NODE_APP });
    assert.is(await (await fetch(`${web.url}metrics`)).text(), 'node GET /metrics from 127.0.0.1');
    await web.close();
    for (const bad of ['metrics', '/a b', 1, null] as unknown[]) {
      try {
        await rt.serve({ handler: NODE_APP, metrics: bad as string });
        assert.unreachable(`metrics: ${String(bad)} was accepted`);
      } catch (e) {
        assert.is((e as { code?: string }).code, 'ERR_INVALID_ARG_VALUE');
        assert.match((e as Error).message, /options\.metrics must be true, false or a path/);
      }
    }
  } finally {
    await rt.close();
  }
});

test.run();
