/**
 * Fault suite, TCP: connections that send nothing are closed by `idleTimeout` (and only those),
 * and accepts that fail for want of file descriptors (EMFILE) are counted in `refused` instead of
 * crashing the process. Rows "idle connections" and "EMFILE" of docs/design.md "Faults".
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { errorOf } from '../fixtures/settle.js';

const echo = new URL('../fixtures/tcp-echo.js', import.meta.url);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when `s` closes; rejects (does not hang) after `ms`. */
function closed(s: Socket, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.destroyed) return resolve();
    const t = setTimeout(() => reject(new Error('socket still open')), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    s.on('error', () => {});
  });
}

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`tcp faults [${transport}]`);

  t('idleTimeout closes connections that send nothing, and not one that keeps talking', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const srv = await rt.listen({ port: 0, host: '127.0.0.1', handler: echo, idleTimeout: 2000 });
      const idle = await Promise.all(Array.from({ length: 50 }, () => open(srv.port)));
      const talker = await open(srv.port);
      let echoed = 0;
      talker.on('data', (d) => (echoed += d.length));
      let talkerClosed = false;
      talker.on('close', () => (talkerClosed = true));
      // keep talking every 50 ms (40x inside the idle limit) until every idle one is closed
      const ping = setInterval(() => talker.write('x'), 50);
      try {
        await Promise.all(idle.map((s) => closed(s)));
      } finally {
        clearInterval(ping);
      }
      assert.is(talkerClosed, false, 'a connection with traffic stays open');
      assert.ok(echoed > 0);
      assert.is(srv.stats().idleClosed, 50);
      talker.end();
      await closed(talker);
      await srv.close({ timeout: 1000 });
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('conn.readable(2 ** 31) is refused with the core timeout error, not fired after 1 ms', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const srv = await rt.listen({
        port: 0,
        host: '127.0.0.1',
        handler: new URL('../fixtures/tcp-timeout-check.js', import.meta.url),
      });
      const s = await open(srv.port);
      let got = '';
      s.on('data', (d) => (got += d));
      await closed(s);
      assert.is(got, 'ERR_OUT_OF_RANGE');
      await srv.close({ timeout: 1000 });
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t('idleTimeout is checked like every timeout', async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      for (const idleTimeout of [-1, 2 ** 31, Number.NaN]) {
        const e = await errorOf(() => rt.listen({ port: 0, handler: echo, idleTimeout }));
        assert.is(e?.code, 'ERR_OUT_OF_RANGE');
      }
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t.run();
}

const emfile = suite('tcp EMFILE');

emfile('running out of file descriptors does not crash the server; it serves again once they are freed', async () => {
  const child = spawn(
    'bash',
    [
      '-c',
      `ulimit -n 120 && exec "${process.execPath}" "${new URL('../fixtures/emfile-child.js', import.meta.url).pathname}"`,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    const first = await lines.next();
    const { port } = JSON.parse(String(first.value)) as { port: number };
    const socks: Socket[] = [];
    // more connections than the child has descriptors for: some accepts fail with EMFILE
    const settled = await Promise.allSettled(Array.from({ length: 200 }, () => open(port)));
    for (const s of settled) if (s.status === 'fulfilled') socks.push(s.value);
    // the connections libuv dropped are closed by the server: wait until they are gone
    await new Promise((r) => setTimeout(r, 500));
    child.stdin!.write('stats\n');
    const stats = JSON.parse(String((await lines.next()).value)) as { accepted: number; refused: number };
    assert.ok(stats.accepted < 200, `accepted ${stats.accepted}: the descriptor limit was not reached`);
    for (const s of socks) s.destroy();
    // descriptors freed (the server learns of each close asynchronously): within a bounded number
    // of attempts the same server serves a new connection again (echo)
    const deadline = Date.now() + 30_000;
    for (;;) {
      child.stdin!.write('stats\n');
      const st = JSON.parse(String((await lines.next()).value)) as { open: number };
      if (st.open === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    let answer = '';
    for (let attempt = 0; attempt < 100 && answer !== 'ping'; attempt++) {
      const s = await open(port).catch(() => undefined);
      if (!s) continue;
      answer = await new Promise<string>((r) => {
        s.once('data', (d) => r(String(d)));
        s.once('close', () => r(''));
        s.on('error', () => {});
        s.write('ping');
      });
      s.destroy();
      if (answer !== 'ping') await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(answer, 'ping');
    child.stdin!.write('stats\n');
    assert.ok((await lines.next()).value, 'the server still answers');
  } finally {
    child.stdin!.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }
});

emfile.run();
