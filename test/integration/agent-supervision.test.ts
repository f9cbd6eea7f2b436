/**
 * Agents: supervision when a worker dies (re-creation from the constructor or from a snapshot,
 * restart intensity, in-flight calls rejected). Real workers, both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentFailedError, Runtime, WorkerExitedError } from '../../src/index.js';
import type { Counter, Durable } from '../fixtures/agents.js';

const url = new URL('../fixtures/agents.js', import.meta.url);

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`agent supervision [${transport}]`);
  t.before.each(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  t.after.each(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t('a crashed worker rejects the call in flight and the agent is re-created from its constructor', async ({ rt }) => {
    const c = await rt.agent<typeof Counter>(url, 'Counter', [5]);
    c.send('inc', 10);
    assert.is(await c.call('get'), 15);
    const before = await c.call('thread');
    const e = await failure(c.call('crash'));
    assert.instance(e, WorkerExitedError);
    assert.match((e as Error).message, `Counter#${c.id}`);
    assert.match((e as Error).message, 'crash');
    assert.is(await c.call('get'), 5); // fresh from the constructor: the state was lost
    assert.is.not(await c.call('thread'), before);
    assert.is(c.error, undefined);
    const st = rt.stats();
    assert.is(
      st.workers.reduce((n, w) => n + (w.agents ?? 0), 0),
      1,
    );
  });

  t('a class with snapshot()/restore() is re-created from its last snapshot', async ({ rt }) => {
    const d = await rt.agent<typeof Durable>(url, 'Durable', []);
    for (let i = 0; i < 10; i++) d.send('inc', 1);
    await d.sync(); // the snapshot travels ahead of the answer
    assert.instance(await failure(d.call('crash')), WorkerExitedError);
    assert.equal(await d.call('get'), { n: 10, restored: true });
  });

  t('more crashes than the intensity within the period fail the agent; restart() re-creates it', async ({ rt }) => {
    const c = await rt.agent<typeof Counter>(url, 'Counter', [1], { restart: { intensity: 1, period: 60_000 } });
    const first = await failure(c.call('crash'));
    assert.instance(first, WorkerExitedError);
    assert.match((first as Error).message, /is re-created/);
    assert.is(await c.call('get'), 1); // first crash: re-created
    const second = await failure(c.call('crash'));
    assert.instance(second, WorkerExitedError);
    // the rejection says what supervision decided: not re-created, failed
    assert.match((second as Error).message, /is failed \(restart limit/);
    assert.instance(c.error, AgentFailedError); // second crash within the period: failed
    assert.instance(await failure(c.call('get')), AgentFailedError);
    assert.instance(await failure(c.send('inc')), AgentFailedError);
    await c.restart();
    assert.is(c.error, undefined);
    assert.is(await c.call('get'), 1);
  });

  t('agents on the surviving worker are untouched; other agents on the dead one come back', async ({ rt }) => {
    const a = await rt.agent<typeof Counter>(url, 'Counter', [1], { worker: 0 });
    const b = await rt.agent<typeof Counter>(url, 'Counter', [2], { worker: 0 });
    const c = await rt.agent<typeof Counter>(url, 'Counter', [3], { worker: 1 });
    c.send('inc', 10);
    assert.instance(await failure(a.call('crash')), WorkerExitedError);
    assert.is(await b.call('get'), 2);
    assert.is(await c.call('get'), 13);
    assert.is(await a.call('get'), 1);
  });

  t(
    "a worker's direct call to an agent whose worker dies rejects; later calls reach it where it was re-created",
    async ({ rt }) => {
      const target = await rt.agent<typeof Counter>(url, 'Counter', [5], { worker: 0 });
      const caller = await rt.agent<typeof Counter>(url, 'Counter', [0], { worker: 1 });
      assert.is(await caller.call('callOther', target, 'get'), 5); // worker 1 -> worker 0 directly
      const e = await failure(caller.call('callOther', target, 'crash' as 'get'));
      assert.instance(e, WorkerExitedError);
      assert.is(await caller.call('callOther', target, 'get'), 5); // re-created from its constructor
      assert.is(await caller.call('get'), 0);
    },
  );

  t.run();
}
