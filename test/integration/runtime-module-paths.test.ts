/**
 * Module references: a string is a file path resolved against process.cwd(), with or without
 * './', as `node tasks.mjs` does; errors name the file, not shoal's internal importer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime/runtime.js';
import { TaskLoadError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-paths-'));
writeFileSync(join(dir, 'tasks.mjs'), 'export function add(a, b) {\n  return a + b;\n}\n');
writeFileSync(join(dir, 'broken.mjs'), "import './gone.mjs';\nexport const x = 1;\n");

test('a bare file name, ./name and an absolute path all load the file from the cwd', async () => {
  const cwd = process.cwd();
  process.chdir(dir);
  const rt = await Runtime.start({ workers: 1 });
  try {
    assert.is(await rt.run('tasks.mjs', 'add', [1, 2]), 3);
    assert.is(await rt.run('./tasks.mjs', 'add', [2, 2]), 4);
    assert.is(await rt.run(join(dir, 'tasks.mjs'), 'add', [3, 2]), 5);
    assert.is(await rt.load<{ add(a: number, b: number): number }>('tasks.mjs').add(4, 4), 8);
  } finally {
    process.chdir(cwd);
    await rt.close({ timeout: 1000 });
  }
});

test('a missing module, or one importing a missing file, is a TaskLoadError naming the path given', async () => {
  const cwd = process.cwd();
  process.chdir(dir);
  const rt = await Runtime.start({ workers: 1 });
  try {
    const e = await rt.run('missing.mjs', 'f', []).catch((x: unknown) => x);
    assert.instance(e, TaskLoadError);
    assert.is((e as Error).message, `cannot load task module ${join(dir, 'missing.mjs')}: no such file`);
    const b = await rt.run('broken.mjs', 'x', []).catch((x: unknown) => x);
    assert.instance(b, TaskLoadError);
    assert.match((b as Error).message, `${join(dir, 'broken.mjs')}: it imports`);
    assert.match((b as Error).message, 'gone.mjs');
    const x = await rt.run('tasks.mjs', 'nope', []).catch((x: unknown) => x);
    assert.match((x as Error).message, `task module ${join(dir, 'tasks.mjs')} has no export 'nope'`);
    for (const err of [e, b, x]) assert.not.match((err as Error).message, '/dist/src/');
    const blk = await rt.blocking('missing.mjs', 'f', []).catch((x: unknown) => x);
    assert.is((blk as Error).message, `cannot load task module ${join(dir, 'missing.mjs')}: no such file`);
  } finally {
    process.chdir(cwd);
    await rt.close({ timeout: 1000 });
  }
});

test.run();
