/**
 * The `shoal` command as a user meets it (issue #17 items 11-18): per-command --help, --version,
 * one-line usage errors with a hint, `shoal run`'s inputs, output encoding, failures and progress,
 * `shoal serve`'s failures, error log and Ctrl-C, and `shoal bench` in an installed package.
 * Every case runs bin/shoal.js in a child process.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLine } from '../../src/cli/jsonl.js';
import { installedCopy, root } from '../fixtures/installed-copy.js';
import { within } from '../fixtures/tcp-harness.js';

const BIN = join(root, 'bin', 'shoal.js');
const TASKS = join(root, 'test', 'fixtures', 'cli-tasks.mjs');
const fixture = (name: string): string => join(root, 'dist', 'test', 'fixtures', `${name}.js`);
const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function shoal(args: string[], opts: { input?: string; bin?: string; cwd?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.stdin.end(opts.input ?? '');
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

const oneLine = (r: Ran): void => {
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.not.match(r.err, 'node:internal');
  assert.not.match(r.err, '    at ');
};

test('--version and every command --help exit 0', async () => {
  const v = await shoal(['--version']);
  assert.is(v.code, 0);
  assert.match(v.out, /^\d+\.\d+\.\d+/);
  for (const cmd of ['demo', 'run', 'serve', 'bench', 'load']) {
    const r = await shoal([cmd, '--help']);
    assert.is(r.code, 0, `${cmd}: ${r.err}`);
    assert.match(r.out, `usage: shoal ${cmd}`);
  }
  const h = await shoal(['--help']);
  assert.is(h.code, 0);
  assert.match(h.out, 'shoal <command> --help');
});

test('usage errors are one line with a hint and exit 2', async () => {
  for (const args of [
    ['run', TASKS, 'echo', '--concurrency', '0'],
    ['run', TASKS, 'echo', '--bogus'],
    ['run', TASKS],
    ['serve', TASKS],
    ['serve', TASKS, '--port', '70000'],
    ['load'],
    ['load', 'http://127.0.0.1:9/', '-c', '0'],
    ['load', 'http://127.0.0.1:9/', '--bogus'],
    ['load', 'http://127.0.0.1:9/', '-H', 'nocolon'],
    ['load', 'http://127.0.0.1:9/', '-m'],
    ['load', 'ftp://127.0.0.1/'],
    ['bench'],
    ['bench', TASKS, '--threshold', 'lots'],
    ['bench', TASKS, '--bogus'],
    ['frobnicate'],
  ]) {
    const r = await shoal(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    oneLine(r);
    assert.match(r.err, '--help');
  }
});

test('run --inputs with a missing file is one clear line', async () => {
  const r = await shoal(['run', TASKS, 'echo', '--inputs', 'missing.txt']);
  assert.is(r.code, 2);
  oneLine(r);
  assert.match(r.err, 'cannot read --inputs missing.txt: no such file');
});

test('load --body-file and bench --baseline with a missing file are one clear line each, exit 2', async () => {
  const l = await shoal(['load', 'http://127.0.0.1:9/', '--body-file', 'missing.bin', '-d', '1s']);
  assert.is(l.code, 2);
  oneLine(l);
  assert.match(l.err, 'cannot read --body-file missing.bin: no such file');
  const b = await shoal(['bench', TASKS, '--baseline', 'missing.json']);
  assert.is(b.code, 2);
  oneLine(b);
  assert.match(b.err, 'cannot read the baseline missing.json');
});

test('run prints results that round-trip: BigInt, undefined, NaN, -0, Infinity, Date, Map, Set', async () => {
  const b = await shoal(['run', TASKS, 'big', '--range', '3', '--quiet']);
  assert.is(b.code, 0, b.err);
  assert.equal(b.out.trim().split('\n').map(decodeLine), [0n, 10n, 20n]);
  const o = await shoal(['run', TASKS, 'odd', '--range', '1', '--quiet']);
  assert.is(o.code, 0, o.err);
  const [v] = o.out.trim().split('\n').map(decodeLine) as unknown[][];
  assert.is(v![0], undefined);
  assert.ok(Number.isNaN(v![1]));
  assert.ok(Object.is(v![2], -0));
  assert.is(v![3], Number.POSITIVE_INFINITY);
  assert.is((v![4] as Date).getTime(), 0);
  assert.equal([...(v![5] as Map<number, bigint>)], [[1, 2n]]);
  assert.equal([...(v![6] as Set<number>)], [0]);
});

test('input lines are strings verbatim; --json parses them, so one run feeds the next', async () => {
  const file = join(dir, 'in.txt');
  writeFileSync(file, '1\n00123\n\nabc\n');
  const s = await shoal(['run', TASKS, 'echo', '--inputs', file, '--quiet']);
  assert.is(s.code, 0, s.err);
  assert.equal(s.out.trim().split('\n').map(decodeLine), ['1', '00123', 'abc']);
  const big = await shoal(['run', TASKS, 'big', '--range', '2', '--quiet']);
  const j = await shoal(['run', TASKS, 'echo', '--json', '--quiet'], { input: big.out });
  assert.is(j.code, 0, j.err);
  assert.equal(j.out.trim().split('\n').map(decodeLine), [0n, 10n]);
  const bad = await shoal(['run', TASKS, 'echo', '--json', '--quiet'], { input: '1\nnot json\n' });
  assert.is(bad.code, 2);
  assert.match(bad.err, 'line 2 of stdin is not JSON');
});

test('a failing input is named by index and value; --keep-going reports each and exits 1', async () => {
  const r = await shoal(['run', TASKS, 'failOn3', '--range', '5', '--quiet']);
  assert.is(r.code, 1);
  assert.match(r.err, 'input #3 (3) failed: Error: no 3');
  const k = await shoal(['run', TASKS, 'failOn3', '--range', '5', '--quiet', '--keep-going']);
  assert.is(k.code, 1);
  const lines = k.out.trim().split('\n').map(decodeLine);
  assert.is(lines.length, 5);
  assert.equal([lines[0], lines[1], lines[2], lines[4]], [0, 1, 2, 4]);
  const e = lines[3] as Error & { index: number; input: unknown };
  assert.is(e.message, 'no 3');
  assert.is(e.index, 3);
  assert.match(k.err, 'input #3 (3) failed');
});

test('with --inputs FILE the progress line has a total and a percentage', async () => {
  const file = join(dir, 'three.txt');
  writeFileSync(file, 'a\nb\nc\n');
  const r = await shoal(['run', TASKS, 'echo', '--inputs', file]);
  assert.is(r.code, 0, r.err);
  assert.match(r.err, '100%');
  assert.match(r.err, '3/3 done');
});

test('run takes a bare file name as a file in the current directory, as node does', async () => {
  writeFileSync(join(dir, 'local-tasks.mjs'), 'export function twice(x) {\n  return Number(x) * 2;\n}\n');
  const r = await shoal(['run', 'local-tasks.mjs', 'twice', '--range', '3', '--quiet']);
  assert.is(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').map(decodeLine), [0, 2, 4]);
  const h = await shoal(['help', 'run']);
  assert.is(h.code, 0);
  assert.match(h.out, 'usage: shoal run');
});

test('run names a module path relative to the cwd and never prints shoal internals', async () => {
  const r = await shoal(['run', 'nope.mjs', 'f', '--range', '1', '--quiet']);
  assert.is(r.code, 1);
  oneLine(r);
  assert.match(r.err, `${join(dir, 'nope.mjs')}: no such file`);
  assert.not.match(r.err, 'dist/src');
});

function serveChild(args: string[]): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  port: Promise<number>;
} {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (b) => {
      out += b;
      const m = /on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('close', () => reject(new Error(`serve ended: ${out} ${err}`)));
  });
  port.catch(() => {});
  child.stderr!.on('data', (b) => (err += b));
  return { child, out: () => out, err: () => err, port };
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', (code) => r(code)));

function waitFor(get: () => string, text: string, c: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (get().includes(text)) {
        c.stdout!.off('data', check);
        c.stderr!.off('data', check);
        resolve();
      }
    };
    c.stdout!.on('data', check);
    c.stderr!.on('data', check);
    c.once('close', () => reject(new Error(`ended before '${text}': ${get()}`)));
    check();
  });
}

test('a TypeScript module given to serve or run says to compile it, in one line', async () => {
  writeFileSync(join(dir, 'app.ts'), 'export default { fetch(): Response { return new Response("ts"); } };\n');
  for (const args of [
    ['serve', 'app.ts', '--port', '0'],
    ['run', 'app.ts', 'fetch', '--range', '1', '--quiet'],
  ]) {
    const r = await shoal(args);
    assert.is(r.code, 1, r.err);
    assert.match(r.err, /Unknown file extension "\.ts".*compile it to JavaScript, then pass the \.js file/);
    assert.not.match(r.err, 'TCP handler module');
  }
});

test('serve: a missing handler and a port in use are one line each, exit 1', async () => {
  const r = await shoal(['serve', 'nope.mjs', '--port', '0']);
  assert.is(r.code, 1);
  oneLine(r);
  assert.match(r.err, 'nope.mjs: no such file');
  const busy = createServer();
  await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
  try {
    const port = (busy.address() as { port: number }).port;
    const u = await shoal(['serve', fixture('tcp-echo'), '--port', String(port)]);
    assert.is(u.code, 1);
    oneLine(u);
    assert.match(u.err, 'already in use (EADDRINUSE)');
  } finally {
    busy.close();
  }
});

test('serve logs each handler error as it happens, with the peer and the stack', async () => {
  const s = serveChild([fixture('tcp-throw'), '--port', '0', '--workers', '1']);
  try {
    const port = await within(s.port, 20_000, 'serve start');
    const c = connect(port, '127.0.0.1', () => c.write('hi'));
    c.on('error', () => {});
    await within(waitFor(s.err, 'boom from the handler', s.child), 20_000, 'handler error logged');
    assert.match(s.err(), `handler error (127.0.0.1:`);
    assert.match(s.err(), 'tcp-throw.js');
    c.destroy();
  } finally {
    s.child.kill('SIGTERM');
    await exited(s.child);
  }
});

test('serve: the first Ctrl-C says a second forces exit; the second exits 130', async () => {
  const s = serveChild([fixture('tcp-stall'), '--port', '0', '--workers', '1', '--grace', '60000']);
  const port = await within(s.port, 20_000, 'serve start');
  const c = connect(port, '127.0.0.1', () => c.write('go'));
  c.on('error', () => {});
  await within(new Promise<void>((r) => c.once('data', () => r())), 20_000, 'handler answered');
  s.child.kill('SIGINT');
  await within(waitFor(s.out, 'press Ctrl-C again', s.child), 20_000, 'first Ctrl-C message');
  s.child.kill('SIGINT');
  assert.is(await within(exited(s.child), 20_000, 'exit after second Ctrl-C'), 130);
  assert.match(s.err(), 'second interrupt');
  c.destroy();
});

test('serve --grace sets the close grace', async () => {
  const s = serveChild([fixture('tcp-stall'), '--port', '0', '--workers', '1', '--grace', '0']);
  const port = await within(s.port, 20_000, 'serve start');
  const c = connect(port, '127.0.0.1', () => c.write('go'));
  c.on('error', () => {});
  await within(new Promise<void>((r) => c.once('data', () => r())), 20_000, 'handler answered');
  s.child.kill('SIGINT');
  assert.is(await within(exited(s.child), 20_000, 'exit after the grace'), 0);
  assert.match(s.out(), 'busy handlers get 0 s');
  c.destroy();
});

test("in an installed package, bench runs user suites and --self says shoal's own need a source checkout", async () => {
  const { project, bin } = installedCopy();
  const h = await shoal(['--help'], { bin, cwd: project });
  assert.is(h.code, 0);
  assert.match(h.out, 'bench');
  const b = await shoal(['bench', '--self'], { bin, cwd: project });
  assert.is(b.code, 1);
  oneLine(b);
  assert.match(b.err, 'source checkout');
});

test.run();
