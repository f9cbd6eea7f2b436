/**
 * The API reference (docs/api.md) documents every export of src/index.ts from its TSDoc and is up
 * to date: `npm run docs` regenerates it (scripts/api-docs.mjs).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Generated {
  text: string;
  missing: string[];
}

async function generate(): Promise<Generated> {
  const mod = (await import(pathToFileURL(root + 'scripts/api-docs.mjs').href)) as { generate(): Generated };
  return mod.generate();
}

test('every public export has a doc comment', async () => {
  const { missing } = await generate();
  assert.equal(missing, [], missing.join('\n'));
});

test('docs/api.md is generated from the current sources (run `npm run docs` after changing an export)', async () => {
  const { text } = await generate();
  assert.ok(text === readFileSync(root + 'docs/api.md', 'utf8'), 'docs/api.md is stale: run `npm run docs`');
});

test('every runtime export of the package has an entry', async () => {
  const api = await import(pathToFileURL(root + 'dist/src/index.js').href);
  const md = readFileSync(root + 'docs/api.md', 'utf8');
  for (const name of Object.keys(api)) assert.ok(md.includes(`### \`${name}\``), `${name} has no entry`);
  for (const name of [
    'openScope',
    'promiseOp',
    'isCancellation',
    'setTracing',
    'taskCount',
    'MAX_PENDING',
    'NOT_READY',
  ])
    assert.ok(md.includes(`### \`${name}\``), name);
});

test.run();
