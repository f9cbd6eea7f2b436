/**
 * The examples are user stories that must keep running: every program in examples/ (compiled .ts
 * from dist/examples, plain .mjs/.js straight from examples/) runs in its own process and must exit
 * 0. A file with an `export` is a module that programs load (a task module, a handler), not a
 * program, and is not run by itself. Examples import 'shoal' (the package's self-reference), never
 * ../src. See examples/README.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const compiled = root + 'dist/examples/';
const source = root + 'examples/';

const isProgram = (path: string): boolean => !/^export\s/m.test(readFileSync(path, 'utf8'));
const programs = [
  ...readdirSync(compiled)
    .filter((f) => f.endsWith('.js'))
    .map((f) => compiled + f),
  ...readdirSync(source)
    .filter((f) => f.endsWith('.mjs') || f.endsWith('.js'))
    .map((f) => source + f),
].filter(isProgram);

function runExample(file: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}

const name = (f: string): string => f.slice(root.length);

test('there are examples to run, and none imports shoal from ../src', () => {
  assert.ok(programs.length >= 6, `found ${programs.map(name).join(', ')}`);
  for (const f of readdirSync(source).filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.d.ts'))) {
    const text = readFileSync(source + f, 'utf8');
    assert.not.match(text, /from '\.\.\/src/, `examples/${f} imports ../src: import from 'shoal' instead`);
  }
});

for (const file of programs) {
  test(`example ${name(file)} runs to completion`, async () => {
    const { code, out } = await runExample(file);
    assert.is(code, 0, out);
    if (file.endsWith('core-tour.js')) {
      assert.match(out, 'sleeper: ERR_SHOAL_CANCELLED');
      assert.match(out, 'scope: sibling cleaned up before the scope settled\nscope rethrew: download failed');
      assert.match(out, 'channel: consumed sum 210');
      assert.match(out, "select: { index: 0, value: 'c' }");
      assert.match(out, 'select timed out through op 1');
    }
    if (file.endsWith('quickstart.mjs')) assert.match(out, 'fib(30) = 832040');
    if (file.endsWith('tcp-echo.js')) assert.match(out, 'HELLO');
    if (file.endsWith('shared-channel.js')) assert.match(out, 'sum: 49995000');
    if (file.endsWith('load-serve.js')) {
      const m = /answered (\d+) requests; the loader counted (\d+)/.exec(out);
      assert.ok(m && Number(m[1]) > 0 && m[1] === m[2], out);
    }
  });
}

test.run();
