/**
 * `import 'shoal'` loads only what every user needs: the libraries behind optional features load
 * with their feature (prom-client with the first `rt.metrics()`, hdr-histogram-js with the first
 * load run, piscina with the blocking pool, Node's undici with the first fetch-style request on a
 * worker). Each of them cost 15-130 ms of a cold start. Checked
 * in a fresh process: the CommonJS module cache after the import must not hold them; and
 * METRICS_CONTENT_TYPE, kept apart from prom-client for this, must equal prom-client's value.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { METRICS_CONTENT_TYPE } from '../../src/index.js';

const require = createRequire(import.meta.url);

test('import "shoal" leaves prom-client, hdr-histogram-js and piscina unloaded', () => {
  const probe = `
    import('shoal').then(() => {
      const { createRequire } = require('node:module');
      const loaded = Object.keys(createRequire(process.cwd() + '/').cache);
      const heavy = ['prom-client', 'hdr-histogram-js', 'piscina'].filter((m) =>
        loaded.some((f) => f.includes('/node_modules/' + m + '/')),
      );
      console.log(JSON.stringify(heavy));
    });`;
  const out = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  assert.equal(JSON.parse(out.trim()), []);
});

test('import "shoal" leaves Node’s bundled undici (behind the global Request) unloaded', () => {
  const probe = `
    import('shoal').then(() => {
      const before = process.moduleLoadList.some((m) => m.includes('undici'));
      void globalThis.Request; // the probe can see it: touching the global loads it
      const after = process.moduleLoadList.some((m) => m.includes('undici'));
      console.log(JSON.stringify([before, after]));
    });`;
  const out = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  assert.equal(JSON.parse(out.trim()), [false, true]);
});

test('the same libraries do load once their feature is used (so the probe above can see them)', () => {
  const probe = `
    import('shoal').then(async ({ Runtime }) => {
      const rt = await Runtime.start({ workers: 1 });
      await rt.metrics();
      await rt.close();
      const { createRequire } = require('node:module');
      const loaded = Object.keys(createRequire(process.cwd() + '/').cache);
      console.log(JSON.stringify(loaded.some((f) => f.includes('/node_modules/prom-client/'))));
    });`;
  const out = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  assert.is(out.trim(), 'true');
});

test('METRICS_CONTENT_TYPE is prom-client’s exposition content type', () => {
  const { Registry } = require('prom-client') as { Registry: { PROMETHEUS_CONTENT_TYPE: string } };
  assert.is(METRICS_CONTENT_TYPE, Registry.PROMETHEUS_CONTENT_TYPE);
});

test.run();
