/**
 * `shoal load`'s response framing (llhttp in wasm, src/harness/load/llhttp.ts) against a raw
 * node:net server that writes HTTP/1.1 responses by hand, split at seeded random points: chunked
 * bodies, Content-Length bodies, responses ended by the connection's close, replies to HEAD, and a
 * server that answers garbage. The loader's count of responses must equal the server's count of
 * responses written in full; nothing is counted twice or lost across splits.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLoad, type LoadReport, type LoadTestOptions } from '../../src/harness/load/main.js';
import { Runtime } from '../../src/runtime/runtime.js';

/** xorshift32: the same splits for the same seed */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function listening(s: Server): Promise<number> {
  return new Promise((res) =>
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      res(typeof a === 'object' && a ? a.port : 0);
    }),
  );
}

/** A server answering each request (one per CRLFCRLF) with `reply(k)`, written in random pieces. */
function rawServer(seed: number, reply: (k: number) => string, closeAfter = false) {
  const rand = rng(seed);
  const counts = { answered: 0 };
  const srv = createServer((s: Socket) => {
    let pending = '';
    s.on('data', (b: Buffer) => {
      pending += b.toString('latin1');
      let at = pending.indexOf('\r\n\r\n');
      while (at >= 0) {
        pending = pending.slice(at + 4);
        const text = reply(counts.answered);
        // split the reply at up to 4 random points, each piece its own write (its own segment)
        const cuts = Array.from({ length: Math.floor(rand() * 5) }, () => Math.floor(rand() * text.length)).sort(
          (a, b) => a - b,
        );
        let from = 0;
        for (const c of [...cuts, text.length]) {
          if (c > from) s.write(text.slice(from, c), 'latin1');
          from = Math.max(from, c);
        }
        counts.answered++;
        if (closeAfter) {
          s.end();
          return;
        }
        at = pending.indexOf('\r\n\r\n');
      }
    });
    s.on('error', () => s.destroy());
  });
  return { srv, counts };
}

/** Load `srv` from a one-worker runtime with `opts`; both are closed after. */
async function loadAgainst(srv: Server, opts: Omit<LoadTestOptions, 'url'>): Promise<LoadReport> {
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 1 });
  try {
    return await runLoad(rt, { url: `http://127.0.0.1:${port}/`, ...opts });
  } finally {
    await rt.close();
    srv.close();
  }
}

function chunked(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i += 7) {
    const part = body.slice(i, i + 7);
    out += `${part.length.toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

for (const seed of [1, 42, 4242]) {
  test(`chunked and Content-Length responses split at random points are each counted once (seed ${seed})`, async () => {
    const { srv, counts } = rawServer(seed, (k) => {
      const body = 'x'.repeat(k % 50);
      return k % 2 === 0
        ? `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body)}`
        : `HTTP/1.1 201 Created\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    });
    const r = await loadAgainst(srv, { connections: 3, durationMs: 400, pipeline: 2 });
    assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
    assert.ok(r.requests > 10, `${r.requests} responses`);
    assert.is(r.requests, counts.answered);
    assert.is((r.statuses['200'] ?? 0) + (r.statuses['201'] ?? 0), r.requests);
    assert.ok(r.statuses['200']! > 0 && r.statuses['201']! > 0);
  });
}

test('a response without a length ends with its connection, and counts', async () => {
  const { srv, counts } = rawServer(7, () => 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end', true);
  const r = await loadAgainst(srv, { connections: 2, durationMs: 300 });
  assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
  assert.ok(r.requests > 0);
  assert.is(r.requests, counts.answered);
});

test('replies to HEAD carry a Content-Length but no body', async () => {
  const { srv, counts } = rawServer(9, () => 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
  const r = await loadAgainst(srv, { method: 'HEAD', connections: 2, durationMs: 300 });
  assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
  assert.ok(r.requests > 0);
  assert.is(r.requests, counts.answered);
});

test('a server that answers garbage: every request is an error of kind "parse", none a response', async () => {
  const { srv } = rawServer(3, () => 'SSH-2.0-OpenSSH_9.2\r\n\r\n');
  const r = await loadAgainst(srv, { connections: 1, durationMs: 300 });
  assert.is(r.requests, 0);
  assert.ok(r.errors > 0);
  assert.ok(r.errorKinds.parse! > 0, JSON.stringify(r.errorKinds));
});

test.run();
