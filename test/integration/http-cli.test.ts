/**
 * `shoal serve <module>` picks HTTP for a module whose default export has fetch (or with
 * --http), TCP otherwise.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { main as serveMain } from '../../src/cli/serve.js';

/** Run serveMain until `use(port)` is done; returns what it printed. */
async function serving(args: string[], use: (port: number) => Promise<void>): Promise<string> {
  const stop = new AbortController();
  const lines: string[] = [];
  const log = console.log;
  let gotPort!: (p: number) => void;
  const port = new Promise<number>((r) => (gotPort = r));
  console.log = (...a: unknown[]) => {
    const line = a.join(' ');
    lines.push(line);
    const m = / on [\d.]+:(\d+) /.exec(line);
    if (m) gotPort(Number(m[1]));
  };
  try {
    const done = serveMain([...args, '--port', '0', '--workers', '1'], stop.signal);
    await use(await Promise.race([port, done.then(() => -1)]));
    stop.abort();
    assert.is(await done, 0);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

test('a module with a fetch default export is served as HTTP', async () => {
  const file = fileURLToPath(new URL('../fixtures/http-app.js', import.meta.url));
  const out = await serving([file], async (port) => {
    assert.is(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'hello');
  });
  assert.match(out, 'HTTP (fetch style)');
  assert.match(out, '1 requests');
});

test('--http serves a node-style function as HTTP; without it a function is a TCP handler', async () => {
  const node = fileURLToPath(new URL('../fixtures/http-node.js', import.meta.url));
  const out = await serving([node, '--http'], async (port) => {
    assert.match(await (await fetch(`http://127.0.0.1:${port}/a`)).text(), 'node GET /a');
  });
  assert.match(out, 'HTTP (node style)');
  const echo = fileURLToPath(new URL('../fixtures/tcp-echo.js', import.meta.url));
  const tcp = await serving([echo], async (port) => {
    const got = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('ping'));
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        resolve(d);
        s.destroy();
      });
    });
    assert.is(got, 'ping');
  });
  assert.match(tcp, '(TCP)');
});

test('--metrics answers GET /metrics beside the handler; on a TCP handler it is a usage error', async () => {
  const file = fileURLToPath(new URL('../fixtures/http-app.js', import.meta.url));
  await serving([file, '--metrics'], async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.is(r.status, 200);
    assert.match(await r.text(), /^shoal_workers 1$/m);
    assert.is(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'hello');
  });
  const echo = fileURLToPath(new URL('../fixtures/tcp-echo.js', import.meta.url));
  const err = console.error;
  const said: string[] = [];
  console.error = (...a: unknown[]) => void said.push(a.join(' '));
  try {
    assert.is(await serveMain([echo, '--metrics', '--port', '0', '--workers', '1']), 2);
  } finally {
    console.error = err;
  }
  assert.match(
    said.join('\n'),
    /--metrics answers GET \/metrics of an HTTP server, and .*tcp-echo\.js is a TCP handler/,
  );
});

test.run();
