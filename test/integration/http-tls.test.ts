/**
 * HTTPS through rt.serve, TLS terminated on the workers: curl and Node's https client against a
 * self-signed certificate generated here with the openssl CLI; keep-alive over TLS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/index.js';
import { APP, NODE_APP, hasTool, run, selfSignedCert } from '../fixtures/http-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-'));
let key = '';
let cert = '';
let certFile = '';

test.before(() => {
  const made = selfSignedCert(dir);
  if (made === undefined) return;
  ({ key, cert, certFile } = made);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('curl gets answers over TLS, keep-alive included, verifying the self-signed certificate', async () => {
  if (!hasTool('openssl') || !hasTool('curl')) return;
  const rt = await Runtime.start({ workers: 2 });
  try {
    const web = await rt.serve({ port: 0, handler: APP, tls: { key, cert } });
    assert.match(web.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await run('curl', ['-sv', '--cacert', certFile, web.url, web.url + 'info']);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello\{/);
    assert.match(r.stdout, `"url":"${web.url}info"`);
    assert.match(r.stderr, /Re-using existing connection|Reusing existing connection/);
    const up = await run('curl', ['-s', '--cacert', certFile, '--data-binary', '@-', web.url + 'echo'], {
      input: 'secret bytes',
    });
    assert.is(up.stdout, 'secret bytes');
    const plain = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', web.url.replace('https', 'http')]);
    assert.is.not(plain.stdout, '200'); // plain HTTP on the TLS port gets nowhere
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test("Node's https client talks to a node-style handler over TLS", async () => {
  if (!hasTool('openssl')) return;
  const rt = await Runtime.start({ workers: 2 });
  try {
    const web = await rt.serve({ port: 0, handler: NODE_APP, tls: { key, cert } });
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(web.url + 'x', { ca: cert }, (res) => {
        let d = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (d += c));
        res.on('end', () => resolve(d));
      });
      req.on('error', reject);
      req.end();
    });
    assert.is(body, 'node GET /x from 127.0.0.1');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('a bad key or certificate fails rt.serve at the call', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    assert.throws(() => rt.serve({ port: 0, handler: APP, tls: { key: 'nope', cert: 'nope' } }));
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
