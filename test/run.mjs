#!/usr/bin/env node
// The test runner behind `npm test`. Runs every compiled uvu file under dist/test in its own
// process (isolation: a crash, a leaked handle or a hang in one file cannot sink the others),
// two at a time, each with a time limit; sums uvu's per-file summaries and ends with the line
// `N passed, N failed` that CI reads.
//
// usage: node test/run.mjs [substring ...]   only files whose path contains one of the substrings
// env:   SHOAL_TEST_TIMEOUT_MS (per file, default 300000), SHOAL_TEST_JOBS (default 2)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');
const filters = process.argv.slice(2);
const perFileMs = Number(process.env.SHOAL_TEST_TIMEOUT_MS ?? 300_000);
const jobs = Number(process.env.SHOAL_TEST_JOBS ?? 2);

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files;
try {
  files = walk(testRoot);
} catch {
  console.error(`no compiled tests under ${testRoot}: run \`npm run build\` first`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, perFileMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = strip(out);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let p = 0;
      let f = 0;
      if (Number.isFinite(total) && Number.isFinite(passed)) {
        p = passed;
        f = total - passed - skipped;
      }
      // A file that crashed, hung or exited non-zero without reporting a failure counts as one.
      if (timedOut || (code !== 0 && f === 0)) f += 1;
      resolve({ file, passed: p, failed: f, code, signal, timedOut, text, ms: Date.now() - started });
    });
  });
}

let passed = 0;
let failed = 0;
const queue = [...files];
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const r = await runFile(file);
    passed += r.passed;
    failed += r.failed;
    const name = relative(testRoot, file);
    const tag = r.failed ? 'FAIL' : 'ok  ';
    console.log(`${tag} ${name}  (${r.passed} passed, ${r.failed} failed, ${(r.ms / 1000).toFixed(1)}s)`);
    if (r.failed) {
      if (r.timedOut) console.log(`     timed out after ${perFileMs} ms`);
      console.log(
        r.text
          .split('\n')
          .map((l) => '     ' + l)
          .join('\n'),
      );
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
