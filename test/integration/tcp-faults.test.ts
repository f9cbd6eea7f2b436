/**
 * Faults and edge states through the reactor: resets mid-read and mid-write, handler errors,
 * worker death mid-connection, half-close both ways, readiness timeouts, maxConnections, a handler
 * that never reads. Handlers report what they saw through connect() to a collector on main.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, dial, rig, within, type Rig } from '../fixtures/tcp-harness.js';

type Report = Record<string, unknown>;

/** A plain node:net server collecting one JSON line per connection. */
async function collector(): Promise<{ port: number; next(mode: string): Promise<Report>; close(): Promise<void> }> {
  const got: Report[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((s) => {
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b));
    s.on('end', () => {
      got.push(JSON.parse(Buffer.concat(parts).toString()) as Report);
      s.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    async next(mode) {
      for (;;) {
        const k = got.findIndex((r) => r.mode === mode);
        if (k >= 0) return got.splice(k, 1)[0]!;
        await within(new Promise<void>((r) => waiters.push(r)), 15_000, `report of ${mode}`);
      }
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Read from the socket until `text` has arrived. */
function until(s: Socket, text: string): Promise<string> {
  return within(
    new Promise((res, rej) => {
      let acc = '';
      const on = (b: Buffer): void => {
        acc += b.toString('latin1');
        if (acc.includes(text)) {
          s.off('data', on);
          res(acc);
        }
      };
      s.on('data', on);
      s.once('error', rej);
    }),
    15_000,
    `waiting for ${JSON.stringify(text)}`,
  );
}

async function withRig(fn: (r: Rig, c: Awaited<ReturnType<typeof collector>>) => Promise<void>): Promise<void> {
  const r = await rig(2);
  const c = await collector();
  try {
    await fn(r, c);
  } finally {
    await r.close();
    await c.close();
  }
}

/** Wait until the reactor holds no connection (slots freed). */
async function drained(r: Rig): Promise<void> {
  await within(
    (async () => {
      while (r.reactor.stats().connections.some((n) => n > 0)) await new Promise((res) => setTimeout(res, 10));
    })(),
    10_000,
    'slots to be freed',
  );
}

test('a peer reset mid-read fails the handler next read, aborts conn.signal and frees the slot', () =>
  withRig(async (r, c) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    s.write(`read-until-error ${c.port}\n`);
    await until(s, 'ready');
    s.write('some bytes');
    await until(s, 'ok'); // the handler read them and is reading again
    s.resetAndDestroy();
    const rep = await c.next('read-until-error');
    assert.is(rep.error, 'ERR_SHOAL_CONN_RESET');
    assert.is(rep.aborted, true);
    await drained(r);
    assert.is(srv.stats().handlerErrors, 0, 'a reset is not a handler error');
  }));

test('a peer reset mid-write fails the handler next write', () =>
  withRig(async (r, c) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    s.write(`write-until-error ${c.port}\n`);
    await until(s, 'xxxx');
    s.resetAndDestroy();
    const rep = await c.next('write-until-error');
    assert.is(rep.error, 'ERR_SHOAL_CONN_RESET');
    await drained(r);
  }));

test('a handler that throws closes its connection, is counted, and the server keeps serving', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    const all = collect(s);
    s.write('throw 0\n');
    assert.ok((await within(all, 10_000, 'thrown handler closes')).toString().includes('about to throw'));
    await within(
      (async () => {
        while (srv.stats().handlerErrors < 1) await new Promise((res) => setTimeout(res, 5));
      })(),
      5000,
      'error counted',
    );
    assert.is(srv.lastHandlerError, 'Error: boom');
    assert.is(r.reactor.stats().handlerErrors, 1);
    const s2 = await dial(srv.port);
    const echoed = collect(s2);
    s2.end('peer-half-close 0\nabc');
    assert.is((await within(echoed, 10_000, 'still serving')).toString(), 'got 3\n');
  }));

test('half-close by the peer: the handler reads to the end, then still writes its reply', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    const all = collect(s);
    s.write('peer-half-close 0\n');
    s.end(Buffer.alloc(100_000, 7));
    assert.is((await within(all, 10_000, 'reply after FIN')).toString(), 'got 100000\n');
  }));

test('half-close by the handler: the peer sees the end and can still send', () =>
  withRig(async (r, c) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    const all = collect(s);
    s.write(`server-half-close ${c.port}\n`);
    assert.is((await within(all, 10_000, 'server FIN')).toString(), 'bye\n');
    s.end(Buffer.alloc(50_000, 1)); // the peer writes after receiving FIN
    const rep = await c.next('server-half-close');
    assert.is(rep.n, 50_000);
    assert.is(rep.writeAfterEnd, 'ERR_SHOAL_CLOSED');
    await drained(r);
  }));

test('readable/writable time out with 0, then report 1 when ready, 0 again when the peer stops reading', () =>
  withRig(async (r, c) => {
    const srv = await r.listen({ handler: 'probe', ringBytes: 4096 });
    const s = await dial(srv.port);
    s.write(`timeouts ${c.port}\n`);
    await until(s, 'go');
    s.pause(); // stop reading: the handler's outbound fills up
    s.write('data');
    const rep = await c.next('timeouts');
    assert.equal(rep, { mode: 'timeouts', idle: 0, data: 1, full: 0 });
    s.destroy();
    await drained(r);
  }));

test('a read honours its signal (aborted before or while it waits) and the next read still gets the bytes', () =>
  withRig(async (r, c) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    s.write(`read-cancel ${c.port}\n`);
    await until(s, 'go');
    s.write('data');
    const rep = await c.next('read-cancel');
    assert.equal(rep, { mode: 'read-cancel', r1: 'ERR_SHOAL_CANCELLED', r2: 'ERR_SHOAL_CANCELLED', data: 'data' });
    s.destroy();
    await drained(r);
  }));

test('a handler that never reads does not stall other connections', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe', ringBytes: 4096 });
    const stuck = await dial(srv.port);
    stuck.write('never-read 0\n');
    await until(stuck, 'not reading');
    stuck.write(Buffer.alloc(4 << 20, 1)); // far more than its ring: the reactor pauses that socket
    for (let k = 0; k < 20; k++) {
      const s = await dial(srv.port);
      const all = collect(s);
      s.end('peer-half-close 0\nhello');
      assert.is((await within(all, 10_000, `connection ${k} beside a stuck one`)).toString(), 'got 5\n');
    }
    stuck.destroy(); // its handler holds the slot until the rig's server close ends it
  }));

test('a worker that dies has its connections reset; new connections go to its replacement', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe' });
    const s = await dial(srv.port);
    const all = collect(s).then(
      (b) => b.toString(),
      (e: NodeJS.ErrnoException) => `error ${e.code}`,
    );
    const exits = r.workers.map((w) => new Promise<number>((res) => w.once('exit', () => res(1))));
    s.write('die 0\n');
    const seen = await within(all, 10_000, 'dead worker closes its connection');
    // a reset, never a clean end: the peer must not take a half-written reply for a whole one
    assert.is(seen, 'error ECONNRESET');
    const dead = await within(Promise.race(exits.map((p, k) => p.then(() => k))), 10_000, 'worker exit');
    await drained(r);
    await r.replace(dead);
    for (let k = 0; k < 6; k++) {
      const s2 = await dial(srv.port);
      const got = collect(s2);
      s2.end('peer-half-close 0\nxy');
      assert.is((await within(got, 10_000, 'served after replacement')).toString(), 'got 2\n');
    }
  }));

test('maxConnections refuses the extra connection cleanly and counts it', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe', maxConnections: 2 });
    const a = await dial(srv.port);
    a.write('never-read 0\n');
    await until(a, 'not reading');
    const b = await dial(srv.port);
    b.write('never-read 0\n');
    await until(b, 'not reading');
    const extra = await dial(srv.port);
    const outcome = await within(
      new Promise<string>((res) => {
        extra.on('data', () => res('data'));
        extra.once('end', () => res('closed'));
        extra.once('error', () => res('closed'));
      }),
      10_000,
      'refused connection closes',
    );
    assert.is(outcome, 'closed');
    assert.is(srv.stats().refused, 1);
    a.destroy();
    b.destroy();
  }));

test('server.close({ timeout }) lets handlers finish, then closes the rest', () =>
  withRig(async (r) => {
    const srv = await r.listen({ handler: 'probe' });
    const a = await dial(srv.port);
    const ended = collect(a).then(
      () => 'ended',
      () => 'reset',
    );
    a.write('never-read 0\n');
    await until(a, 'not reading');
    const t0 = performance.now();
    await within(srv.close({ timeout: 200 }), 10_000, 'server close');
    assert.ok(performance.now() - t0 >= 150, 'waited for the handler');
    assert.ok(['ended', 'reset'].includes(await within(ended, 5000, 'client sees close')));
    await drained(r);
  }));

test.run();
