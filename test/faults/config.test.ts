/**
 * Fault suite, environment: every SHOAL_* variable is listed once in src/config.ts, documented in
 * the README, and validated at Runtime.start: a garbage value is a ConfigError naming the variable
 * and the value, before any thread starts (row 13 of docs/design.md "Faults"; #17 item 10).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, readConfig, Runtime, sharedChan } from '../../src/index.js';
import { SETTINGS } from '../../src/config.js';
import { errorOf, outcome } from '../fixtures/settle.js';

const t = suite('config');
const root = new URL('../../../', import.meta.url).pathname;

function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  return fn().finally(() => {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  });
}

for (const s of SETTINGS) {
  t(`${s.variable}=abc makes Runtime.start reject with ConfigError naming it`, async () => {
    await withEnv(s.variable, 'abc', async () => {
      const e = (await errorOf(() => Runtime.start({ workers: 1 }))) as ConfigError | undefined;
      assert.instance(e, ConfigError);
      assert.is(e!.code, 'ERR_SHOAL_CONFIG');
      assert.is(e!.variable, s.variable);
      assert.is(e!.value, 'abc');
      assert.match(e!.message, s.variable);
      assert.match(e!.message, '"abc"');
    });
  });
}

t('SHOAL_TRANSPORT=bogus is refused by channels too, and valid values are taken', async () => {
  await withEnv('SHOAL_TRANSPORT', 'bogus', async () => {
    let code: unknown;
    try {
      sharedChan(4);
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    assert.is(code, 'ERR_SHOAL_CONFIG');
  });
  await withEnv('SHOAL_TRANSPORT', 'message', async () => {
    assert.is(readConfig().transport, 'message');
    const rt = await Runtime.start({ workers: 1 });
    try {
      assert.is(rt.stats().transport, 'message');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });
});

t('a valid tunable is taken and the runtime serves with it', async () => {
  await withEnv('SHOAL_NET_HOLD_US', '0', async () => {
    assert.is(readConfig().netHoldUs, 0);
    const rt = await Runtime.start({ workers: 1 });
    try {
      const url = new URL('../fixtures/tasks-faults.js', import.meta.url);
      assert.equal(await outcome(rt.run(url, 'add', [1, 2])), { state: 'fulfilled', value: 3 });
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });
});

function walk(dir: string): string[] {
  let out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

t('src/config.ts is the only reader of process.env, and lists every SHOAL_* variable the code names', () => {
  const listed = new Set(SETTINGS.map((s) => s.variable));
  for (const f of [...walk(join(root, 'src')), ...walk(join(root, 'workers'))]) {
    const text = readFileSync(f, 'utf8');
    if (!f.endsWith('config.ts')) {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      assert.not.match(code, /process\.env\.[A-Z_]+|process\.env\[/, `${f} reads process.env directly`);
    }
    for (const m of text.matchAll(/(?<![A-Z_])SHOAL_[A-Z_]+/g)) {
      if (m[0].startsWith('SHOAL_TEST_')) continue;
      assert.ok(listed.has(m[0]) || m[0] === 'SHOAL_', `${f} names ${m[0]}, missing from src/config.ts`);
    }
  }
});

t('the README documents every variable with its default', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Environment variables'));
  assert.ok(readme.includes('## Environment variables'));
  for (const s of SETTINGS) assert.match(section, `\`${s.variable}\``, `${s.variable} missing from the README`);
});

t.run();
