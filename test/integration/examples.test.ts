/**
 * The examples are user stories that must keep running: each compiled example runs in its own
 * process and must exit 0 (and print what its header promises, for the core tour).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
const examples = readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'tasks.js');

function runExample(file: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [dir + file], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}

test('there are examples to run', () => {
  assert.ok(examples.length >= 3, `found ${examples.join(', ')}`);
});

for (const file of examples) {
  test(`example ${file} runs to completion`, async () => {
    const { code, out } = await runExample(file);
    assert.is(code, 0, out);
    if (file === 'core-tour.js') {
      assert.match(out, 'sleeper: ERR_SHOAL_CANCELLED');
      assert.match(out, 'scope: sibling cleaned up before the scope settled\nscope rethrew: download failed');
      assert.match(out, 'channel: consumed sum 210');
      assert.match(out, "select: { index: 0, value: 'c' }");
      assert.match(out, 'select timed out through op 1');
    }
  });
}

test.run();
