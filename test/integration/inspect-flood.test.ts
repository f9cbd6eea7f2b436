/**
 * A misbehaving REPL client costs its own session, never the service: beside a client that floods
 * lines and never reads, one that floods lines and reads, and one that sends an endless line, an
 * echo server on the same runtime keeps completing its round trips (a bounded count within a
 * generous bound; the medians are printed, not asserted), and the bad sessions are dropped.
 */
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { echoRoundTrips, eventually, median, rawClient } from '../fixtures/inspect-harness.js';
import { fixture, within } from '../fixtures/tcp-harness.js';

const TOKEN = 'flood-test-token-42';
const ECHOES = 300;

/** Write `chunk` over and over (respecting 'drain') until `stop()` or the socket closes. */
function flood(s: Socket, chunk: string): { stop(): void; written(): number } {
  let stopped = false;
  let bytes = 0;
  const pump = (): void => {
    while (!stopped && !s.destroyed) {
      bytes += chunk.length;
      if (!s.write(chunk)) {
        s.once('drain', pump);
        return;
      }
    }
  };
  s.on('error', () => {});
  pump();
  return {
    stop: () => {
      stopped = true;
    },
    written: () => bytes,
  };
}

function authed(port: number, read: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('error', reject);
    s.once('connect', () => {
      s.write(`${TOKEN}\n`);
      if (read) s.on('data', () => {});
      else s.pause(); // never read a byte
      resolve(s);
    });
  });
}

async function setup(): Promise<{
  rt: Runtime;
  echoPort: number;
  replPort: number;
  baseline: number[];
  clients: () => number;
}> {
  const rt = await Runtime.start({ workers: 2 });
  const srv = await rt.listen({ port: 0, handler: fixture('echo') });
  const repl = await rt.repl({ port: 0, token: TOKEN, stallTimeout: 2000 });
  const baseline = await within(echoRoundTrips(srv.port, 100), 30_000, 'baseline echoes');
  return { rt, echoPort: srv.port, replPort: repl.port, baseline, clients: () => repl.stats().clients };
}

test('a client that floods and never reads: echoes keep completing, and the client is dropped', async () => {
  const { rt, echoPort, replPort, baseline, clients } = await setup();
  try {
    const s = await authed(replPort, false);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    // every line prints 2000 characters: the unread output piles up on the server side
    const f = flood(s, `${'"z".repeat(2000)\n'.repeat(512)}`);
    const during = await within(echoRoundTrips(echoPort, ECHOES), 60_000, `${ECHOES} echoes beside the flood`);
    assert.is(during.length, ECHOES);
    await within(closed, 30_000, 'the non-reading client is dropped');
    f.stop();
    await eventually(() => clients() === 0, 5000, 'the session is gone');
    console.log(
      `  echo round trip median: ${median(baseline).toFixed(3)} ms alone, ${median(during).toFixed(3)} ms beside ` +
        `a non-reading flood (${(f.written() / 1024).toFixed(0)} KiB sent before it was dropped)`,
    );
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('a client that floods lines and reads: evaluations are paced, echoes keep completing', async () => {
  const { rt, echoPort, replPort, baseline } = await setup();
  try {
    const s = await authed(replPort, false);
    let answers = 0;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      for (let i = d.indexOf('2\n'); i >= 0; i = d.indexOf('2\n', i + 2)) answers++;
    });
    s.resume();
    const f = flood(s, '1 + 1\n'.repeat(4096));
    const during = await within(echoRoundTrips(echoPort, ECHOES), 60_000, `${ECHOES} echoes beside the flood`);
    assert.is(during.length, ECHOES);
    await eventually(() => answers > 100, 30_000, 'the flooding client gets answers');
    f.stop();
    s.destroy();
    console.log(
      `  echo round trip median: ${median(baseline).toFixed(3)} ms alone, ${median(during).toFixed(3)} ms beside ` +
        `a reading flood (${answers} lines evaluated meanwhile)`,
    );
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('a line longer than 1 MiB ends that session only', async () => {
  const { rt, echoPort, replPort } = await setup();
  try {
    const bad = await authed(replPort, true);
    const closed = new Promise<void>((r) => bad.once('close', () => r()));
    const f = flood(bad, 'x'.repeat(64 * 1024)); // no newline, ever
    await within(closed, 30_000, 'the endless line ends the session');
    f.stop();
    const good = await rawClient(replPort, TOKEN);
    good.send('40 + 2');
    await good.until(/shoal> 42\n/);
    good.socket.destroy();
    assert.is((await within(echoRoundTrips(echoPort, 20), 30_000, 'echoes after')).length, 20);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
