/**
 * `shoal top` in a real terminal: tmux runs the command against a live runtime's REPL, the test
 * reads the screen (capture-pane) until it shows the workers, a long-running task, "no agents" and
 * the echo server with its open connection, sees it refresh, sends `q`, and checks it exited 0 and
 * left the alternate screen. Skips with a note when tmux is absent (CI installs it: .ci/apt-packages).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { eventually } from '../fixtures/inspect-harness.js';
import { fixture } from '../fixtures/tcp-harness.js';

const BIN = fileURLToPath(new URL('../../../bin/shoal.js', import.meta.url));
const GREEN = new URL('../fixtures/tasks-green.js', import.meta.url);
const TOKEN = 'top-test-token-123';
const SOCK = `shoal-top-test-${process.pid}`;

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8' });
}

function screen(): string {
  return tmux('capture-pane', '-p', '-t', 'top');
}

test('shoal top renders workers, tasks, agents and servers in tmux, refreshes, and exits on q', async () => {
  if (!hasTmux()) {
    console.log('  (tmux is not installed here: skipped; CI installs it from .ci/apt-packages)');
    return;
  }
  const rt = await Runtime.start({ workers: 2 });
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const ac = new AbortController();
  const task = rt.run(GREEN, 'sleepyParent', [flag], { signal: ac.signal }).catch(() => {});
  try {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const srv = await rt.listen({ port: 0, handler: fixture('echo') });
    const peer = connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => peer.once('connect', r));
    await eventually(() => Atomics.load(flag, 0) === 1 && srv.stats().open === 1, 10_000, 'task and connection');
    const cmd = `'${process.execPath}' '${BIN}' top 127.0.0.1:${repl.port} --token ${TOKEN}; echo "TOP EXITED $?"; sleep 60`;
    tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '45', cmd);
    // green threads come from the workers' answers (a busy worker may miss one refresh's deadline)
    await eventually(
      () => /child-sleeper[\s\S]*SERVERS[\s\S]*127\.0\.0\.1:\d+ +1 /.test(screen()),
      30_000,
      'top draws a frame with the task, its green thread and the server',
    );
    const first = screen();
    assert.match(first, /^shoal top {2}127\.0\.0\.1:\d+ {2}pid \d+/m);
    assert.match(first, /WORKERS\nworker +running +queued +done\/s/);
    assert.match(first, /^ +0 +\d+ /m);
    assert.match(first, /^ +1 +\d+ /m);
    assert.match(first, /TASKS \(longest-running first\)[\s\S]*tasks-green\.js#sleepyParent/);
    assert.match(first, /child-sleeper/);
    assert.match(first, /AGENTS \(deepest mailboxes first\)\n +no agents/);
    assert.match(first, new RegExp(`127\\.0\\.0\\.1:${srv.port} +1 `));
    const clock = /(\d\d:\d\d:\d\d) UTC/.exec(first)?.[1];
    await eventually(() => /(\d\d:\d\d:\d\d) UTC/.exec(screen())?.[1] !== clock, 10_000, 'top refreshes');
    tmux('send-keys', '-t', 'top', 'q');
    await eventually(() => screen().includes('TOP EXITED'), 10_000, 'top exits on q');
    const after = screen();
    assert.match(after, /TOP EXITED 0/);
    assert.not.match(after, /WORKERS/, 'the alternate screen is gone');
    peer.destroy();
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    ac.abort();
    await task;
    await rt.close({ timeout: 1000 });
  }
});

test('shoal repl in tmux: evaluates, recalls history with Up, edits the line, exits on Ctrl-D', async () => {
  if (!hasTmux()) {
    console.log('  (tmux is not installed here: skipped; CI installs it from .ci/apt-packages)');
    return;
  }
  const rt = await Runtime.start({ workers: 1 });
  try {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const hist = `/tmp/shoal-repl-history-${process.pid}`;
    const cmd = `SHOAL_REPL_HISTORY=${hist} '${process.execPath}' '${BIN}' repl 127.0.0.1:${repl.port} --token ${TOKEN}; echo "REPL EXITED $?"; sleep 60`;
    tmux('new-session', '-d', '-s', 'top', '-x', '120', '-y', '30', cmd);
    await eventually(() => /^shoal>\s*$/m.test(screen()), 20_000, 'the prompt');
    tmux('send-keys', '-t', 'top', 'rt.stats().workers.length * 21', 'Enter');
    await eventually(() => /^21$/m.test(screen()), 10_000, 'the answer');
    // Up recalls the line; Backspace and typing edit it before it is sent
    tmux('send-keys', '-t', 'top', 'Up', 'BSpace', 'BSpace', '42', 'Enter');
    await eventually(() => /^42$/m.test(screen()), 10_000, 'the edited line answered');
    tmux('send-keys', '-t', 'top', 'C-d');
    await eventually(() => screen().includes('REPL EXITED 0'), 10_000, 'exit on Ctrl-D');
    await eventually(() => repl.stats().clients === 0, 5000, 'the session is gone');
    assert.equal(readFileSync(hist, 'utf8').split('\n').filter(Boolean), [
      'rt.stats().workers.length * 21',
      'rt.stats().workers.length * 42',
    ]);
    rmSync(hist, { force: true });
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await rt.close({ timeout: 1000 });
  }
});

test('shoal top with a wrong token exits 1 saying refused', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    // async: this process serves the REPL, so it must not block while the client runs
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, 'top', `127.0.0.1:${repl.port}`, '--token', 'nope-nope-nope'],
        { timeout: 20_000 },
        (err, _out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr }),
      );
    });
    assert.is(code, 1);
    assert.match(stderr, /shoal top: refused: wrong token/);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
