/**
 * rt.serve against workers that went to their idle park: a pool worker with no task and no
 * connection parks in Atomics.wait (src/pool/shared/worker.ts idle, up to IDLE_PARK_MAX_MS = 5 s),
 * deaf to its ports, so the reactor must wake it when it posts an OPEN (src/net/reactor/reactor.ts
 * flush -> WorkerLink.wake -> Pool.wake). Before that, the connections handed to a parked worker
 * were served only once its park timed out: after a quiet spell, half of a new client's
 * connections waited up to 5 s (and the benchmark's rounds, each started after wrk's connections
 * of the last round had closed, ran on one worker).
 *
 * The bound below is the park's, not a performance figure: an answer that came only after the
 * park timed out fails the test.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime, timeout } from '../../src/index.js';
import { APP } from '../fixtures/http-harness.js';
import { until } from '../fixtures/settle.js';

/** Under IDLE_PARK_MAX_MS (5000): only a park that timed out makes an answer this late. */
const BEFORE_PARK_ENDS_MS = 3000;

function get(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

test('connections handed to parked workers are answered without waiting out the park', async () => {
  const rt = await Runtime.start({ workers: 2, transport: 'shared' });
  try {
    const web = await rt.serve({ port: 0, handler: APP });
    {
      // a worker that has run nothing goes to its idle park at once (no task, no connection), as
      // every worker does between two bursts of clients; the first park lasts IDLE_PARK_MAX_MS
      const parks = (): number => rt.stats().workers.reduce((n, w) => n + w.parks, 0);
      assert.ok(await until(() => parks() > 0, 4000), 'a worker parks once nothing is left to do');
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      try {
        const bodies = await timeout(Promise.all([0, 1, 2, 3].map(() => get(web.url, agent))), BEFORE_PARK_ENDS_MS);
        assert.equal(bodies, ['hello', 'hello', 'hello', 'hello']);
        const conns = rt.stats().net!.connections;
        assert.ok(
          conns.every((n) => n > 0),
          `both workers got connections: ${conns.join(', ')}`,
        );
      } finally {
        agent.destroy();
      }
    }
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

/** One request on a fresh keep-alive connection that the client drops once the answer starts. */
function oneShot(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', (b) => {
      s.destroy();
      resolve(b.toString('latin1').split('\r\n')[0]!);
    });
    s.once('error', reject);
  });
}

test("a client that comes back between a worker's turns is answered without waiting out the park", async () => {
  // The race: the reactor posts an OPEN and rings while the worker is inside a turn (it wakes
  // every 20 ms while node:http's timers are live); that turn's idle() then takes the rung seq as
  // seen, finds no connection (the OPEN is still in its port) and parks for IDLE_PARK_MAX_MS.
  // One client at a time, each dropping its keep-alive connection, hits it within a few dozen tries.
  const rt = await Runtime.start({ workers: 2, transport: 'shared' });
  try {
    const web = await rt.serve({ port: 0, handler: APP });
    for (let i = 0; i < 60; i++) {
      const line = await timeout(oneShot(web.port), BEFORE_PARK_ENDS_MS, { message: `request ${i} waited out a park` });
      assert.equal(line, 'HTTP/1.1 200 OK');
      await new Promise((r) => setTimeout(r, 25)); // a short quiet spell: the worker goes back to its parks
    }
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
