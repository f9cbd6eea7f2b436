/**
 * rt.repl(): node:repl over TCP with `rt` in scope and top-level await, the views (.tasks with spawn
 * stacks under tracing, .agents, .channels, .conns, .stats, .json), the token check, loopback by
 * default, bounded output, client limits, cleanup on disconnect and on rt.close(), and the
 * `shoal repl` client.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { eventually, rawClient } from '../fixtures/inspect-harness.js';
import { APP } from '../fixtures/http-harness.js';
import { fixture } from '../fixtures/tcp-harness.js';

const GREEN = new URL('../fixtures/tasks-green.js', import.meta.url);
const BIN = fileURLToPath(new URL('../../../bin/shoal.js', import.meta.url));
const TOKEN = 'test-token-0123456789';

async function withRuntime(fn: (rt: Runtime) => Promise<void>, tracing = false): Promise<void> {
  const rt = await Runtime.start({ workers: 2, tracing });
  try {
    await fn(rt);
  } finally {
    await rt.close({ timeout: 1000 });
  }
}

test('evaluates with rt in scope', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal repl: connected to pid \d+ .*\nshoal> $/);
    c.send('rt.stats().workers.length * 10');
    await c.until(/^shoal> 20$/m);
    c.send('typeof rt.run');
    await c.until(/'function'/);
    c.socket.destroy();
  }));

test('top-level await works, and lines run in order after an await settles', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('const v = await new Promise((r) => setTimeout(() => r(6 * 7), 20))');
    c.send('v + 1');
    c.send('await rt.run(new URL("' + GREEN.href + '"), "pipeline", [10])');
    await c.until(/shoal> 43\nshoal> 55\n/);
    c.socket.destroy();
  }));

test('a wrong token is refused and the socket closed; nothing is evaluated', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, 'not-the-token');
    c.send('globalThis.__shoalPwned = 1');
    await c.until(/^shoal repl: refused: wrong token\n$/);
    await c.closed();
    assert.not.ok(c.text().includes('shoal>'));
    assert.is((globalThis as { __shoalPwned?: number }).__shoalPwned, undefined);
    assert.is(repl.stats().refused, 1);
    await eventually(() => repl.stats().clients === 0, 5000, 'refused client forgotten');
  }));

test('a missing token is refused: empty first line, end without a line, or silence past authTimeout', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN, authTimeout: 300 });
    const empty = await rawClient(repl.port, '');
    await empty.until(/^shoal repl: refused: missing token/);
    await empty.closed();
    const ended = await rawClient(repl.port);
    ended.socket.end();
    await ended.until(/^shoal repl: refused: missing token/);
    await ended.closed();
    const silent = await rawClient(repl.port);
    await silent.until(/^shoal repl: refused: missing token/, 5000);
    await silent.closed();
    assert.is(repl.stats().refused, 3);
  }));

test('listens on loopback only by default', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, quiet: true });
    assert.is(repl.host, '127.0.0.1');
    assert.match(repl.token, /^[A-Za-z0-9_-]{24}$/);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!external) {
      console.log('  (no non-loopback IPv4 address on this machine: only the bound address is checked)');
      return;
    }
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = connect({ port: repl.port, host: external });
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', resolve);
    });
    assert.is(err?.code, 'ECONNREFUSED', `connected through ${external}`);
  }));

test('bad options are refused at the call site', () =>
  withRuntime(async (rt) => {
    for (const [o, code] of [
      [{ token: 'short' }, 'ERR_INVALID_ARG_TYPE'],
      [{ token: 'has space in it' }, 'ERR_INVALID_ARG_TYPE'],
      [{ port: -1 }, 'ERR_OUT_OF_RANGE'],
      [{ maxClients: 0 }, 'ERR_OUT_OF_RANGE'],
    ] as const) {
      try {
        await rt.repl({ quiet: true, ...o });
        assert.unreachable(`accepted ${JSON.stringify(o)}`);
      } catch (e) {
        assert.is((e as { code?: string }).code, code, JSON.stringify(o));
      }
    }
  }));

test('.tasks lists tasks on every worker with spawn stacks under tracing; .json tasks parses', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const ac = new AbortController();
    const running = rt.run(GREEN, 'sleepyParent', [flag], { signal: ac.signal }).catch(() => {});
    await eventually(() => Atomics.load(flag, 0) === 1, 10_000, 'task started');
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('.tasks');
    const m = await c.until(/(\d+) live tasks?[\s\S]*?shoal> $/);
    assert.match(m[0], /child-sleeper/);
    assert.match(m[0], /tasks-green\.js#sleepyParent/);
    assert.match(m[0], /#\d+ child-sleeper \(worker \d\) spawned at:\n\s+at .*tasks-green\.js/);
    assert.match(
      m[0],
      /#\d+ \S+tasks-green\.js#sleepyParent \(worker \d\) submitted at:\n\s+at .*inspect-repl\.test\.js/,
    );
    const from = c.text().length;
    c.send('.json tasks');
    const j = await c.until(/@json (.*)\n/, 10_000, from);
    const data = JSON.parse(j[1] ?? '') as { count: number; tasks: { name: string; stack?: string }[] };
    assert.ok(data.tasks.some((t) => t.name === 'child-sleeper' && t.stack?.includes('tasks-green.js')));
    ac.abort();
    await running;
    c.socket.destroy();
  }, true));

test('.agents, .channels, .conns, .stats and .json top', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const ch = rt.channel<number>(8);
    await ch.put(1);
    await ch.put(2);
    const srv = await rt.listen({ port: 0, handler: fixture('echo') });
    const peer = connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => peer.once('connect', r));
    await eventually(() => srv.stats().open === 1, 5000, 'connection open');
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('.agents');
    await c.until(/^shoal> no agents\n/m);
    c.send('.channels');
    await c.until(/1 channel\nid +transport +buffered.*\n +1 +shared +2\/8 +0 +0 +open\n/);
    c.send('.conns');
    await c.until(
      new RegExp(
        `server \\d+ \\(tcp\\) 127\\.0\\.0\\.1:${srv.port}[\\s\\S]*open 1, accepted 1[\\s\\S]*127\\.0\\.0\\.1:${peer.localPort}`,
      ),
    );
    c.send('.stats');
    await c.until(/worker +thread +running[\s\S]*net: accepted 1/);
    let from = c.text().length;
    c.send('.json top');
    const j = await c.until(/@json (.*)\n/, 10_000, from);
    const top = JSON.parse(j[1] ?? '') as {
      stats: { workers: unknown[] };
      servers: { open: number }[];
      channels: number;
      agents: { count: number };
    };
    assert.is(top.stats.workers.length, 2);
    assert.is(top.servers[0]?.open, 1);
    assert.is(top.channels, 1);
    assert.is(top.agents.count, 0);
    from = c.text().length;
    c.send('.json nope');
    await c.until(/unknown view 'nope'/, 10_000, from);
    peer.destroy();
    c.socket.destroy();
  }));

test('.conns and .json top show an rt.serve server as http, with its handler module and requests', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const web = await rt.serve({ handler: APP });
    for (let i = 0; i < 3; i++) assert.is(await (await fetch(web.url)).text(), 'hello');
    await eventually(() => web.stats().requests === 3, 5000, 'requests counted');
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('.conns');
    const m = await c.until(
      new RegExp(`server \\d+ \\(http\\) 127\\.0\\.0\\.1:${web.port} +handler (\\S+)\n.*requests 3`),
    );
    assert.is(m[1], APP.href); // the user's module, not shoal's HTTP host
    const from = c.text().length;
    c.send('.json top');
    const j = await c.until(/@json (.*)\n/, 10_000, from);
    const top = JSON.parse(j[1] ?? '') as { servers: { kind: string; handler: string; requests?: number }[] };
    assert.equal(
      top.servers.map((s) => [s.kind, s.handler, s.requests]),
      [['http', APP.href, 3]],
    );
    assert.match(await rt.metrics(), /shoal_server_requests_total\{server="\d+",kind="http"\} 3/);
    c.socket.destroy();
  }));

test('output is bounded: a huge result is cut, long arrays are summarised', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    let from = c.text().length;
    c.send('"x".repeat(5_000_000)');
    await c.until(/more characters\n/, 10_000, from);
    await c.until(/shoal> $/, 10_000, from);
    assert.ok(c.text().length - from < 300_000, `${c.text().length - from} characters for one result`);
    from = c.text().length;
    c.send('new Array(1e6).fill(7)');
    await c.until(/999900 more items/, 10_000, from);
    c.socket.destroy();
  }));

test('clients beyond maxClients are refused; a disconnect frees the place and the session', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN, maxClients: 2 });
    const a = await rawClient(repl.port, TOKEN);
    const b = await rawClient(repl.port, TOKEN);
    await a.until(/shoal> $/);
    await b.until(/shoal> $/);
    const extra = await rawClient(repl.port, TOKEN);
    await extra.until(/^shoal repl: refused: too many clients \(2\)\n/);
    await extra.closed();
    assert.is(repl.stats().clients, 2);
    a.socket.destroy();
    b.send('.exit');
    await b.closed();
    await eventually(() => repl.stats().clients === 0, 5000, 'sessions cleaned up');
    const d = await rawClient(repl.port, TOKEN);
    d.send('1 + 1');
    await d.until(/^shoal> 2\n/m);
    d.socket.end();
    await d.closed();
    await eventually(() => repl.stats().clients === 0, 5000, 'ended session cleaned up');
  }));

test('Ctrl-C (a "\\x03" line) interrupts a pending await', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('await new Promise(() => {})');
    c.send('"queued behind the await"');
    c.send('\x03');
    await c.until(/ERR_SCRIPT_EXECUTION_INTERRUPTED[\s\S]*shoal> $/);
    c.send('"after"');
    await c.until(/'after'\n/);
    assert.not.ok(c.text().includes('queued behind the await'));
    c.socket.destroy();
  }));

test('repl.close() and rt.close() end sessions and stop listening', async () => {
  const rt = await Runtime.start({ workers: 1 });
  const repl = await rt.repl({ port: 0, token: TOKEN });
  const c = await rawClient(repl.port, TOKEN);
  await c.until(/shoal> $/);
  await rt.close({ timeout: 1000 });
  await c.until(/shoal repl: the REPL server is closing/);
  await c.closed();
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = connect({ port: repl.port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', resolve);
  });
  assert.is(err?.code, 'ECONNREFUSED');
  await repl.close(); // idempotent
  const late = await rt.repl({ port: 0, quiet: true }).then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );
  assert.is(late, 'ERR_SHOAL_CLOSED');
});

test('errors thrown later by typed code are reported to the session, not thrown into the service', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    await c.until(/shoal> $/);
    c.send('setTimeout(() => { throw new Error("timer boom") }, 5); 1');
    await c.until(/Uncaught \(in a callback\): Error: timer boom/);
    c.send('Promise.reject(new Error("nobody awaits me"))');
    await c.until(/Uncaught \(in promise\): Error: nobody awaits me/);
    c.send('queueMicrotask(() => null.x)');
    await c.until(/Uncaught \(in a callback\): TypeError/);
    c.send('"still here"');
    await c.until(/'still here'/);
    c.socket.destroy();
  }));

test('a session leaves no async hook behind (node:repl gets no domain): promises stay untracked', () =>
  withRuntime(async (rt) => {
    const tracked = (): number => Object.getOwnPropertySymbols(Promise.resolve()).length;
    assert.is(tracked(), 0);
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const c = await rawClient(repl.port, TOKEN);
    c.send('await Promise.resolve(1)');
    await c.until(/shoal> 1\n/);
    assert.is(tracked(), 0, 'a promise created after a session carries async-hook ids');
    c.socket.destroy();
  }));

function runCli(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

test('shoal repl (piped): answers each line without prompts; a wrong token exits 1 saying refused', () =>
  withRuntime(async (rt) => {
    const repl = await rt.repl({ port: 0, token: TOKEN });
    const target = `127.0.0.1:${repl.port}`;
    const ok = await runCli(
      ['repl', target, '--token', TOKEN],
      'rt.stats().workers.length\nawait Promise.resolve(9)\n.agents\n',
    );
    assert.is(ok.code, 0, ok.stderr);
    assert.is(ok.stdout, '2\n9\nno agents\n');
    const bad = await runCli(['repl', target, '--token', 'wrong-token-here'], '1\n');
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /shoal repl: refused: wrong token/);
    const none = await runCli(['repl', target], '1\n');
    assert.is(none.code, 2);
    assert.match(none.stderr, /a token is required/);
  }));

test.run();
