/**
 * Agents on two workers talking straight to each other over the shared-memory peer rings
 * (src/agent/peer.ts): order through rings that fill up, refusals at the call site, and calls in
 * both directions. Real workers, both transports (the peer rings do not depend on the task
 * transport).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import type { Counter } from '../fixtures/agents.js';

const url = new URL('../fixtures/agents.js', import.meta.url);
type C = typeof Counter;

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`agent peer rings [${transport}]`);
  t.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  t.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t('messages larger in all than a peer ring arrive complete and in order', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [], { worker: 0 });
    const b = await rt.agent<C>(url, 'Counter', [], { worker: 1 });
    // 600 x 8 KiB: several times the 1 MiB ring, so the sender's backlog and the reader's
    // release-rings-the-writer path both run
    assert.is(await a.call('sendBig', b, 600, 8192), 600);
    assert.equal(await b.call('checkOrder'), { ok: true, count: 600 });
    await Promise.all([a.stop(), b.stop()]);
  });

  t('a send to an agent on another worker refuses an uncodable argument at the call site', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [], { worker: 0 });
    const b = await rt.agent<C>(url, 'Counter', [], { worker: 1 });
    assert.is(await a.call('sendUncodable', b), 'ERR_SHOAL_UNCLONEABLE');
    assert.is(await a.call('callUncodable', b), 'ERR_SHOAL_UNCLONEABLE');
    // nothing half-sent: the link still carries what follows
    assert.is(await a.call('pump', b, 10), 10);
    await Promise.all([a.stop(), b.stop()]);
  });

  t('plain sends from another worker to an interleave method run in order while a turn awaits', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [0], { worker: 0, interleave: ['free', 'get', 'inc'] });
    const b = await rt.agent<C>(url, 'Counter', [], { worker: 1 });
    const held = a.call('holdCount');
    assert.is(await a.call('get'), 0); // holdCount's turn is open
    // inc, inc, free over the peer ring: all three may join the open turn, in the order sent
    assert.is(await b.call('sendPlain', a, ['inc', 'inc', 'free']), 3);
    assert.is(await held, 2);
    await Promise.all([a.stop(), b.stop()]);
  });

  t('plain sends from another worker to a method that awaits do not interleave: no lost update', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [0], { worker: 0 });
    const b = await rt.agent<C>(url, 'Counter', [], { worker: 1 });
    // slowInc reads, awaits, writes: a second one started while the first awaits would lose it
    const sends = Array.from({ length: 20 }, () => 'slowInc');
    assert.is(await b.call('sendPlain', a, sends, 'get'), 20);
    await Promise.all([a.stop(), b.stop()]);
  });

  t('calls cross between the workers in both directions at once, each with its own answer', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [5], { worker: 0 });
    const b = await rt.agent<C>(url, 'Counter', [9], { worker: 1 });
    const c = await rt.agent<C>(url, 'Counter', [3], { worker: 1 });
    const d = await rt.agent<C>(url, 'Counter', [7], { worker: 0 });
    // a (worker 0) asks b (worker 1) while c (worker 1) asks d (worker 0): no agent waits on itself
    const got = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0 ? a.call('callOther', b, 'get') : c.call('callOther', d, 'get'),
      ),
    );
    assert.equal(
      got,
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 9 : 7)),
    );
    await Promise.all([a, b, c, d].map((x) => x.stop()));
  });

  t.run();
}
