/**
 * README snippets marked `<!-- example: examples/<file>.ts -->` are real example files: the file
 * exists and every line of the code block that follows the marker is a line of it (the block is
 * the file, or an excerpt of it), so the README cannot drift from code that runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const marked = [...readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];

test('the README marks at least one example', () => {
  assert.ok(marked.length >= 1);
});

for (const [, file, block] of marked) {
  test(`README block for ${file} is from that file`, () => {
    assert.ok(existsSync(`${root}${file}`), `${file} exists`);
    const lines = new Set(readFileSync(`${root}${file}`, 'utf8').split('\n'));
    for (const l of (block ?? '').split('\n')) if (l.trim()) assert.ok(lines.has(l), `${file} lacks: ${l}`);
  });
}

test.run();
