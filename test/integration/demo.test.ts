/**
 * `shoal demo --quick` (what `npm start` runs, shortened) prints one verdict per measured case and
 * a summary table with a row per case and a ratio on each, for every scene. The figures are not
 * checked (they depend on the machine); the shape is.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const BIN = fileURLToPath(new URL('../../../bin/shoal.js', import.meta.url));

function demo(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'demo', ...args], { timeout: 180_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

/** The summary table's data rows: lines after the dashed rule, up to the first blank line. */
function tableRows(out: string): string[][] {
  const lines = out.split('\n');
  const rule = lines.findIndex((l) => /^\s+-{5,}\s+-{4,}/.test(l));
  assert.ok(rule > 0, `no summary table in:\n${out}`);
  const header = lines[rule - 1]!.trim().split(/\s{2,}/);
  assert.equal(header, ['scene', 'case', 'shoal', 'other', 'vs', 'shoal advantage']);
  const rows: string[][] = [];
  for (const l of lines.slice(rule + 1)) {
    if (!l.trim()) break;
    rows.push(l.trim().split(/\s{2,}/));
  }
  return rows;
}

test('the quick demo prints a verdict per case and a summary row with a ratio for each', async () => {
  const { code, out } = await demo(['--quick']);
  assert.is(code, 0, out);
  const rows = tableRows(out);
  const scenes = new Set(rows.map((r) => r[0]));
  assert.equal([...scenes], ['tasks', 'http', 'agents'], out);
  for (const r of rows) {
    assert.is(r.length, 6, `row ${JSON.stringify(r)}`);
    assert.match(r[5]!, /^\d+\.\d\dx$/, `ratio of ${r[1]}`);
  }
  const verdicts = out.split('\n').filter((l) => l.trim().startsWith('=> '));
  assert.is(verdicts.length, rows.length, out);
  for (const v of verdicts) assert.match(v, /shoal (\d+\.\d\dx|level with|slower than)/);
  assert.match(out, /0 threads replaced \(cooperative\)/, 'shoal cancels without killing threads');
});

test('--only runs one scene, and an unknown scene is a one-line usage error', async () => {
  const one = await demo(['--quick', '--only', 'tasks']);
  assert.is(one.code, 0, one.out);
  assert.equal([...new Set(tableRows(one.out).map((r) => r[0]))], ['tasks']);
  const bad = await demo(['--only', 'nope']);
  assert.is.not(bad.code, 0);
  assert.match(bad.out, "unknown scene 'nope'");
});

test.run();
