/**
 * `shoal bench <suite>` as a user runs it: a case that throws is reported while the others run,
 * a regression against a baseline exits 1 (and a faster run exits 0), and each case runs in a
 * fresh worker (a global set by one case is not seen by the next).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../../src/harness/bench/main.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const BIN = fileURLToPath(new URL('../../../bin/shoal.js', import.meta.url));
const SUITE = fileURLToPath(new URL('../fixtures/harness-suite-mixed.js', import.meta.url));

function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, 'bench', ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Report {
  cases: Array<{ name: string; stats?: { median: number; samples: number }; error?: { message: string } }>;
  regressions: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
let first: Report;

test('a case that throws is reported and the others still run', async () => {
  const out = join(dir, 'first.json');
  const r = await shoal([SUITE, '--time', '60', '--json', out, '--quiet']);
  assert.is(r.code, 1, 'a failed case fails the run');
  first = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const by = new Map(first.cases.map((c) => [c.name, c]));
  assert.equal([...by.keys()].sort(), ['a_pollutes', 'asyncCase', 'b_checksIsolation', 'sumLoop', 'throws']);
  assert.match(by.get('throws')!.error!.message, 'this case always throws');
  for (const n of ['sumLoop', 'asyncCase', 'a_pollutes']) assert.ok(by.get(n)!.stats!.samples >= 10, n);
  assert.match(r.stdout, /throws\s+FAILED/);
  // the ratios between every pair of cases that ran (row / column), the failed one left out
  assert.match(r.stdout, /time ratio \(row \/ column\)\s+a_pollutes\s+asyncCase\s+b_checksIsolation\s+sumLoop\n/);
  assert.match(r.stdout, /\nsumLoop\s+[\d.]+x\s+[\d.]+x\s+[\d.]+x\s+1\n/);
  assert.ok(readFileSync(out.replace(/json$/, 'svg'), 'utf8').startsWith('<svg'));
});

test('each case runs in a fresh worker: a global polluted by one case is not seen by the next', () => {
  const c = first.cases.find((x) => x.name === 'b_checksIsolation')!;
  assert.is(c.error, undefined, c.error?.message);
  assert.ok(c.stats!.samples > 0);
});

test('a regression past the threshold against a baseline exits 1; a faster run exits 0', async () => {
  const scaled = (k: number): string => {
    const p = join(dir, `base-${k}.json`);
    const b = structuredClone(first);
    for (const c of b.cases) if (c.stats) c.stats.median *= k;
    writeFileSync(p, JSON.stringify(b));
    return p;
  };
  const slow = await shoal([
    SUITE,
    '--time',
    '60',
    '--only',
    'sumLoop',
    '--baseline',
    scaled(0.01),
    '--threshold',
    '5%',
  ]);
  assert.is(slow.code, 1);
  assert.match(slow.stdout, /REGRESSED/);
  assert.match(slow.stdout, /regressed past 5\.0% against the baseline: sumLoop/);
  const fast = await shoal([SUITE, '--time', '60', '--only', 'sumLoop', '--baseline', scaled(100)]);
  assert.is(fast.code, 0, fast.stdout + fast.stderr);
});

test('--parallel warns that parallel figures disturb each other', async () => {
  const r = await shoal([SUITE, '--time', '30', '--only', 'sum', '--only', 'async', '--parallel', '--quiet']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /disturb each other/);
});

test('a baseline measured in the other mode (parallel or not) is flagged: its figures do not compare', async () => {
  const base = join(dir, 'first.json');
  const r = await shoal([
    SUITE,
    '--time',
    '30',
    '--only',
    'sum',
    '--baseline',
    base,
    '--threshold',
    '10000%',
    '--parallel',
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /was measured one case at a time and this run is with --parallel/);
  const same = await shoal([SUITE, '--time', '30', '--only', 'sum', '--baseline', base, '--threshold', '10000%']);
  assert.is(same.code, 0, same.stderr);
  assert.not.match(same.stderr, /do not compare/);
});

test('bad usage exits 2 naming the problem', async () => {
  const r = await shoal([SUITE, '--threshold', 'lots']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--threshold must look like 5%/);
  const m = await shoal([join(dir, 'missing.js')]);
  assert.is(m.code, 2);
  assert.match(m.stderr, /cannot load the suite/);
  const ts = join(dir, 'suite.ts');
  writeFileSync(ts, 'export function a(): number { return 1; }\n');
  const t = await shoal([ts]);
  assert.is(t.code, 2);
  assert.match(t.stderr, /compile the suite, then pass the \.js file/);
});

test('--self with an --only that matches no suite is a usage error naming the suites, and writes nothing', async () => {
  const r = await shoal(['--self', '--only', 'nosuchsuite']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /no suite matches --only 'nosuchsuite' \(suites: .*http-serve/);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.not.match(r.stdout, /wrote/);
});

test('--only that matches no case and a --json folder that does not exist fail at once, one line each', async () => {
  const o = await shoal([SUITE, '--only', 'zzz']);
  assert.is(o.code, 2, o.stderr);
  assert.match(o.stderr, /no case of the suite .* matches only 'zzz' \(cases: a_pollutes, /);
  const j = await shoal([SUITE, '--time', '20', '--json', join(dir, 'missing-folder', 'out.json')]);
  assert.is(j.code, 2, j.stderr);
  assert.match(j.stderr, /cannot write --json .*out\.json: no folder/);
  assert.is(j.stderr.trim().split('\n').length, 1, j.stderr);
});

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

test('runSuite refuses bad options at the call with a code, naming what was given', async () => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object, got undefined/],
    [{ module: SUITE, tiemMs: 50 }, /'tiemMs' is not a runSuite option/],
    [{ module: 42 }, /module must be a file: URL or a file path, got 42/],
    [{ module: SUITE, signal: 'x' }, /signal must be an AbortSignal, got 'x'/],
  ];
  for (const [o, why] of bad) {
    const e = await rejection(runSuite(o as never));
    assert.is(e.code, 'ERR_SHOAL_HARNESS_OPTION', e.message);
    assert.match(e.message, why);
  }
});

test('runSuite takes a file path as well as a file: URL', async () => {
  const r = await runSuite({ module: SUITE, timeMs: 20, only: ['sumLoop'] });
  assert.equal(
    r.cases.map((c) => c.name),
    ['sumLoop'],
  );
});

test('runSuite stops at an abort: it rejects with CancelledError and leaves no case running', async () => {
  const ac = new AbortController();
  const started = performance.now();
  const run = runSuite({ module: SUITE, timeMs: 20_000, signal: ac.signal, onCase: () => {} });
  setImmediate(() => ac.abort());
  const e = await rejection(run);
  assert.is(e.code, 'ERR_SHOAL_CANCELLED', e.message);
  assert.ok(performance.now() - started < 20_000, 'the abort ended the run');
  const pre = await rejection(runSuite({ module: SUITE, timeMs: 20_000, signal: AbortSignal.abort() }));
  assert.is(pre.code, 'ERR_SHOAL_CANCELLED', pre.message);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
