/**
 * `shoal load` against local servers on 127.0.0.1: the counts match the server's own, the
 * constant-rate mode shows a stalling server's stall at p99 where a closed loop hides it, tcp://
 * with a payload, and errors counted when the server resets connections. Bounded: every run lasts
 * under 3 s plus its drain.
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as httpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as httpServer, type Server as HttpServer } from 'node:http';
import { createServer as netServer, type Server as NetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { runLoad } from '../../src/harness/load/main.js';
import { selfSignedCert } from '../fixtures/http-harness.js';
import { runLoader } from '../../src/harness/load/worker.js';
import type { LoaderJob, LoaderResult } from '../../src/harness/load/job.js';

const BIN = fileURLToPath(new URL('../../../bin/shoal.js', import.meta.url));
const STALL = fileURLToPath(new URL('../fixtures/harness-stall-server.js', import.meta.url));

function listening<S extends HttpServer | NetServer>(s: S): Promise<number> {
  return new Promise((res) =>
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      res(typeof a === 'object' && a ? a.port : 0);
    }),
  );
}

/** A node:http server on 127.0.0.1 answering `body`, and how many requests it has served. */
async function countingServer(body: string): Promise<{ srv: HttpServer; port: number; served: () => number }> {
  let n = 0;
  const srv = httpServer((_req, res) => {
    n++;
    res.end(body);
  });
  return { srv, port: await listening(srv), served: () => n };
}

function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, 'load', ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the request count matches the server’s own count (CLI, --json)', async () => {
  const { srv, port, served } = await countingServer('hello');
  try {
    const r = await shoal([`http://127.0.0.1:${port}/x?y=1`, '-c', '4', '-d', '700ms', '--workers', '2', '--json']);
    assert.is(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.type(j.latency[k], 'number', k);
    assert.ok(j.requests > 0);
    assert.is(j.requests, served());
    assert.is(j.errors, 0);
    assert.is(j.statuses['200'], served());
    assert.is(j.loaders, 2);
    assert.type(j.rps, 'number');
    assert.ok(j.latency.p50 <= j.latency.p99 && j.latency.p99 <= j.latency.max);
  } finally {
    srv.close();
  }
});

test('--drain 0: requests in flight at the end are timeouts, and with the answered ones make the server’s count', async () => {
  const { srv, port, served } = await countingServer('hello');
  try {
    const r = await shoal([`http://127.0.0.1:${port}/`, '-c', '4', '-d', '300ms', '--drain', '0', '--json', '--quiet']);
    assert.is(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.requests > 0);
    assert.is(j.errors, j.errorKinds.timeout ?? 0);
    // a request the server answered after the loader gave up is still one it served
    assert.ok(
      j.requests + j.errors >= served() && j.requests <= served(),
      `${j.requests} + ${j.errors} vs ${served()}`,
    );
  } finally {
    srv.close();
  }
});

test('method, headers and body reach the server; pipelined requests are all answered', async () => {
  let served = 0;
  const seen: string[] = [];
  const srv = httpServer((req, res) => {
    served++;
    let body = '';
    req.on('data', (b: Buffer) => (body += b));
    req.on('end', () => {
      if (seen.length < 1) seen.push(`${req.method} ${req.url} ${req.headers['x-test']} ${body}`);
      res.statusCode = req.url === '/teapot' ? 418 : 201;
      res.end();
    });
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 2 });
  try {
    const r = await runLoad(rt, {
      url: `http://127.0.0.1:${port}/teapot`,
      method: 'put',
      headers: { 'X-Test': 'yes' },
      body: 'payload!',
      connections: 3,
      pipeline: 8,
      durationMs: 500,
      loaders: 2,
    });
    assert.equal(seen, ['PUT /teapot yes payload!']);
    assert.is(r.requests, served);
    assert.is(r.statuses['418'], served);
    assert.is(r.non2xx3xx, served);
    assert.is(r.errors, 0);
  } finally {
    await rt.close();
    srv.close();
  }
});

test('a server that closes after each response (Connection: close) costs no errors: each request gets a new connection', async () => {
  let served = 0;
  const srv = httpServer((_req, res) => {
    served++;
    res.setHeader('Connection', 'close');
    res.end('bye');
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 1 });
  try {
    const r = await runLoad(rt, { url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 400 });
    assert.ok(r.requests > 0);
    assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
    assert.is(r.requests, served);
    assert.ok(r.connects >= r.requests && r.connects <= r.requests + 2, `${r.connects} connects`);
  } finally {
    await rt.close();
    srv.close();
  }
});

test('tcp:// with a payload: one response per payload echoed back', async () => {
  let received = 0;
  const srv = netServer((s: Socket) => {
    s.on('data', (b: Buffer) => {
      received += b.length;
      s.write(b);
    });
    s.on('error', () => s.destroy());
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 2 });
  try {
    const r = await runLoad(rt, {
      url: `tcp://127.0.0.1:${port}`,
      payload: 'ping\n',
      connections: 4,
      pipeline: 2,
      durationMs: 500,
      loaders: 2,
    });
    assert.ok(r.requests > 0);
    assert.is(r.errors, 0);
    assert.is(received, r.requests * 5);
    assert.is(r.bytes.read, r.requests * 5);
    assert.equal(r.statuses, {});
  } finally {
    await rt.close();
    srv.close();
  }
});

test('a tcp:// target without a payload is refused, naming what is missing', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const e = await rejection(runLoad(rt, { url: 'tcp://127.0.0.1:9' }));
    assert.is(e.code, 'ERR_SHOAL_HARNESS_OPTION');
    assert.match(e.message, /payload/);
    const f = await rejection(runLoad(rt, { url: 'ftp://example.com/' }));
    assert.match(f.message, /unsupported scheme 'ftp:'/);
  } finally {
    await rt.close();
  }
});

test('the CLI refuses a bad target before it starts: exit 2, the reason, no progress line', async () => {
  for (const [url, why] of [
    ['ftp://127.0.0.1/', /unsupported scheme 'ftp:' in 'ftp:\/\/127.0.0.1\/'/],
    ['tcp://127.0.0.1:9', /needs a payload/],
  ] as const) {
    const r = await shoal([url, '-d', '1s']);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.not.match(r.stderr, /done|stopped/, r.stderr);
    assert.is(r.stdout, '');
  }
});

test('https:// with -k against a self-signed server: counts match; without -k every attempt is a certificate error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-load-tls-'));
  try {
    const tls = selfSignedCert(dir);
    if (tls === undefined) return; // no openssl CLI (Debian package openssl, installed by .ci/run)
    let served = 0;
    const srv = httpsServer({ key: tls.key, cert: tls.cert }, (_q, res) => {
      served++;
      res.end('secret');
    });
    const port = await listening(srv as unknown as HttpServer);
    try {
      const ok = await shoal([`https://localhost:${port}/`, '-k', '-c', '4', '-d', '500ms', '--json', '--quiet']);
      assert.is(ok.code, 0, ok.stderr);
      const j = JSON.parse(ok.stdout);
      assert.ok(j.requests > 0);
      assert.is(j.requests, served);
      assert.is(j.errors, 0, JSON.stringify(j.errorKinds));
      const before = served;
      const bad = await shoal([`https://localhost:${port}/`, '-c', '2', '-d', '300ms', '--json', '--quiet']);
      assert.is(bad.code, 1, bad.stderr); // no request completed
      const b = JSON.parse(bad.stdout);
      assert.is(b.requests, 0);
      assert.ok(b.errors > 0);
      assert.ok(
        Object.keys(b.errorKinds).some((k) => /CERT|SELF_SIGNED/.test(k)),
        JSON.stringify(b.errorKinds),
      );
      assert.is(served, before);
    } finally {
      srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors are counted when the server resets connections', async () => {
  let resets = 0;
  const srv = netServer((s: Socket) => {
    s.on('error', () => {});
    s.once('data', () => {
      resets++;
      s.resetAndDestroy();
    });
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 2 });
  try {
    const r = await runLoad(rt, { url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 400, loaders: 2 });
    assert.is(r.requests, 0);
    assert.ok(r.errors > 0);
    assert.is(r.errors, resets);
    assert.ok((r.errorKinds.ECONNRESET ?? 0) > 0, JSON.stringify(r.errorKinds));
    assert.ok(r.connects > 2, 'the loader reconnects after a reset');
  } finally {
    await rt.close();
    srv.close();
  }
});

test('constant rate against a refused port: each request due is one error, under the connection’s error', async () => {
  const srv = netServer();
  const port = await listening(srv);
  srv.close(); // nothing listens there now
  const rt = await Runtime.start({ workers: 2 });
  try {
    const r = await runLoad(rt, {
      url: `http://127.0.0.1:${port}/`,
      connections: 2,
      rate: 100,
      durationMs: 500,
      drainMs: 100,
      loaders: 2,
    });
    // 100/s over 0.5 s: 50 requests were due; failed attempts to connect are not counted on top
    assert.is(r.requests, 0);
    assert.is(r.errors, 50, JSON.stringify(r.errorKinds));
    assert.equal(r.errorKinds, { ECONNREFUSED: 50 });
  } finally {
    await rt.close();
  }
});

test('a server that closes a pipelined connection (Connection: close) costs closed errors, not parse errors', async () => {
  let served = 0;
  const srv = httpServer((_req, res) => {
    served++;
    res.end('ok');
  });
  srv.maxRequestsPerSocket = 5; // node answers the 5th with Connection: close, then 503s after it
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 1 });
  try {
    const r = await runLoad(rt, { url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 300, pipeline: 8 });
    assert.ok(r.requests > 0);
    assert.is(r.requests, served);
    assert.is(r.errorKinds.parse, undefined, JSON.stringify(r.errorKinds));
    assert.ok(r.errorKinds.closed! > 0, JSON.stringify(r.errorKinds));
  } finally {
    await rt.close();
    srv.close();
    srv.closeAllConnections();
  }
});

test('an interim 100 Continue (a request sent with Expect: 100-continue) is not a response', async () => {
  const { srv, port, served } = await countingServer('ok');
  const rt = await Runtime.start({ workers: 1 });
  try {
    for (const pipeline of [1, 4]) {
      const before = served();
      const r = await runLoad(rt, {
        url: `http://127.0.0.1:${port}/`,
        method: 'POST',
        body: 'hello',
        headers: { expect: '100-continue' },
        connections: 2,
        durationMs: 300,
        pipeline,
      });
      assert.ok(r.requests > 0);
      assert.is(r.requests, served() - before);
      assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
      assert.equal(Object.keys(r.statuses), ['200']);
    }
  } finally {
    await rt.close();
    srv.close();
  }
});

test('a server that answers one request twice is an unexpected-response error, not a crashed loader', async () => {
  const twice = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const srv = netServer((s: Socket) => {
    s.on('data', () => s.write(twice + twice));
    s.on('error', () => {});
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 1 });
  try {
    const r = await runLoad(rt, { url: `http://127.0.0.1:${port}/`, connections: 1, durationMs: 200 });
    assert.ok(r.requests > 0);
    assert.ok(r.errorKinds['unexpected-response']! > 0, JSON.stringify(r.errorKinds));
  } finally {
    await rt.close();
    srv.close();
  }
});

test('request headers may be given as an object, pairs, a Headers or a Map', async () => {
  let seen: Array<string | undefined> = [];
  const srv = httpServer((req, res) => {
    seen.push(req.headers['x-k'] as string | undefined);
    res.end('ok');
  });
  const port = await listening(srv);
  const rt = await Runtime.start({ workers: 1 });
  try {
    for (const [headers, want] of [
      [{ 'x-k': 'obj' }, 'obj'],
      [[['x-k', 'arr']], 'arr'],
      [new Headers({ 'x-k': 'hdrs' }), 'hdrs'],
      [new Map([['x-k', 'map']]), 'map'],
    ] as const) {
      seen = [];
      const r = await runLoad(rt, {
        url: `http://127.0.0.1:${port}/`,
        headers: headers as never,
        connections: 1,
        durationMs: 100,
      });
      assert.ok(r.requests > 0);
      assert.equal([...new Set(seen)], [want]);
    }
  } finally {
    await rt.close();
    srv.close();
  }
});

test('bad runLoad input is refused at the call with a code, naming what was given', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const bad: Array<[() => Promise<unknown>, RegExp]> = [
      [() => runLoad(rt, undefined as never), /options must be an object, got undefined/],
      [() => runLoad({} as never, { url: 'http://127.0.0.1:9/' }), /host must have a run\(url, name, args\) method/],
      [
        () => runLoad(rt, { url: 'http://127.0.0.1:9/', conections: 5 } as never),
        /'conections' is not a runLoad option/,
      ],
      [
        () => runLoad(rt, { url: 'http://127.0.0.1:9/', connections: '5' as never }),
        /connections must be a positive integer, got '5' \(a string\)/,
      ],
      [() => runLoad(rt, { url: 'http://127.0.0.1:9/', signal: 5 as never }), /signal must be an AbortSignal, got 5/],
    ];
    for (const [call, why] of bad) {
      const e = await rejection(call());
      assert.is(e.code, 'ERR_SHOAL_HARNESS_OPTION', e.message);
      assert.match(e.message, why);
    }
  } finally {
    await rt.close();
  }
});

test('an already aborted signal sends nothing; an abort counts no error for the requests it cut', async () => {
  const { srv, port, served } = await countingServer('x');
  const rt = await Runtime.start({ workers: 2 });
  try {
    const r = await runLoad(rt, {
      url: `http://127.0.0.1:${port}/`,
      connections: 4,
      durationMs: 60_000,
      loaders: 2,
      signal: AbortSignal.abort(),
    });
    assert.is(r.requests, 0);
    assert.is(r.sent, 0);
    assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
    assert.is(served(), 0);
    const ac = new AbortController();
    const run = runLoad(rt, {
      url: `http://127.0.0.1:${port}/`,
      connections: 8,
      durationMs: 60_000,
      loaders: 2,
      signal: ac.signal,
    });
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (served() >= 200) {
          clearInterval(poll);
          res();
        }
      }, 5);
    });
    ac.abort();
    const cut = await run;
    assert.ok(cut.requests >= 200);
    assert.is(cut.errors, 0, JSON.stringify(cut.errorKinds));
    // at a constant rate, the requests still due (sent or not) when the abort comes are not errors
    for (let round = 0; round < 3; round++) {
      const at = served();
      const rc = new AbortController();
      const steady = runLoad(rt, {
        url: `http://127.0.0.1:${port}/`,
        connections: 8,
        rate: 2000,
        durationMs: 60_000,
        loaders: 2,
        signal: rc.signal,
      });
      await new Promise<void>((res) => {
        const poll = setInterval(() => {
          if (served() >= at + 100) {
            clearInterval(poll);
            res();
          }
        }, 1);
      });
      rc.abort();
      const r = await steady;
      assert.is(r.errors, 0, JSON.stringify(r.errorKinds));
    }
  } finally {
    await rt.close();
    srv.close();
  }
});

test('an abort ends a long run early with the figures so far; SIGINT does the same for the CLI', async () => {
  const { srv, port, served } = await countingServer('x');
  const rt = await Runtime.start({ workers: 2 });
  try {
    const ac = new AbortController();
    const seen = new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (served() >= 50) {
          clearInterval(poll);
          res();
        }
      }, 5);
    });
    const run = runLoad(rt, {
      url: `http://127.0.0.1:${port}/`,
      connections: 2,
      durationMs: 60_000,
      loaders: 2,
      signal: ac.signal,
    });
    await seen;
    ac.abort();
    const r = await run;
    assert.ok(r.requests >= 50);
    assert.ok(r.durationSeconds < 30, `ended after ${r.durationSeconds} s`);
    assert.ok(r.requests <= served());

    const child = spawn(
      process.execPath,
      [BIN, 'load', `http://127.0.0.1:${port}/`, '-d', '60s', '-c', '2', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b));
    const before = served();
    await new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (served() >= before + 50) {
          clearInterval(poll);
          res();
        }
      }, 5);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    assert.is(code, 0);
    assert.ok(JSON.parse(out).requests >= 50);
  } finally {
    await rt.close();
    srv.close();
  }
});

test('a loader that lands on a thread already running a loader of the run is given back and runs elsewhere', async () => {
  const { srv, port, served } = await countingServer('x');
  // a host that runs loaders on this very thread, as a pool that gave every loader to one worker
  // would; it takes a moved loader back twice, then runs it as main asks (no spread)
  const calls: Array<{ slot: number; spread: boolean; moved: boolean }> = [];
  const host = {
    stats: () => ({ workers: [1, 2] }),
    async run<R>(_url: URL | string, name: string, args: readonly unknown[]): Promise<R> {
      assert.is(name, 'runLoader');
      const job = args[0] as LoaderJob;
      const r = (await runLoader.call(undefined, job)) as LoaderResult | { moved: true };
      calls.push({ slot: job.slot, spread: job.spread, moved: 'moved' in r });
      return r as R;
    },
  };
  try {
    const r = await runLoad(host, { url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 300, loaders: 2 });
    assert.is(r.requests, served());
    assert.ok(r.requests > 0);
    // the first loader ran at once; the second, on the same thread, was moved until the budget ran out
    assert.equal(
      calls.filter((c) => c.slot === 0),
      [{ slot: 0, spread: true, moved: false }],
    );
    const second = calls.filter((c) => c.slot === 1);
    assert.ok(second.length >= 2, JSON.stringify(second));
    assert.ok(
      second.slice(0, -1).every((c) => c.moved && c.spread),
      JSON.stringify(second),
    );
    assert.equal(second.at(-1), { slot: 1, spread: false, moved: false });
    // the run spans both loaders: the second started after the first one ended
    assert.ok(r.durationSeconds >= 0.6, `${r.durationSeconds} s`);
  } finally {
    srv.close();
  }
});

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

async function stallServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(STALL, ['200', '1000'], { stdio: 'ignore' });
  const port = await new Promise<number>((res, rej) => {
    child.once('message', (m: { port: number }) => res(m.port));
    child.once('exit', (code) => rej(new Error(`stall server exited ${code}`)));
  });
  return { child, port };
}

test('constant rate shows a 200 ms stall every second at p99; a closed loop hides it', async () => {
  const { child, port } = await stallServer();
  const rt = await Runtime.start({ workers: 2 });
  try {
    const url = `http://127.0.0.1:${port}/`;
    const rate = await runLoad(rt, { url, connections: 4, rate: 200, durationMs: 3000, loaders: 2 });
    const closed = await runLoad(rt, { url, connections: 4, durationMs: 3000, loaders: 2 });
    // 20% of the time is stalled: requests due then wait up to 200 ms (true p99 ≈ 190 ms)
    assert.ok(rate.latency.p99 >= 120, `constant-rate p99 ${rate.latency.p99} ms should show the stall`);
    assert.ok(rate.latency.max >= 150, `max ${rate.latency.max}`);
    assert.is(rate.errors, 0);
    // a closed loop sends nothing while the server stalls: only one request per connection waits
    assert.ok(
      closed.latency.p99 < rate.latency.p99 / 2,
      `closed-loop p99 ${closed.latency.p99} ms vs constant-rate ${rate.latency.p99} ms`,
    );
    assert.ok(closed.latency.max >= 150, 'the closed loop did meet the stall, in its max only');
  } finally {
    await rt.close();
    child.send('exit');
  }
});

test.run();
