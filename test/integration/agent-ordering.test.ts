/**
 * Agents: per-sender FIFO under load, turns without interleaving, handles passed to tasks and
 * agents, and 100k agents. Real workers, both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentFailedError, AgentStoppedError, Runtime, type Agent } from '../../src/index.js';
import type { Counter, Many, Tally } from '../fixtures/agents.js';

const url = new URL('../fixtures/agents.js', import.meta.url);
const tasksUrl = new URL('../fixtures/agent-tasks.js', import.meta.url);
type C = typeof Counter;

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`agent ordering [${transport}]`);
  t.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  t.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t('100k sends from main and from two workers at once keep per-sender FIFO', async ({ rt }) => {
    const N = 100_000;
    const target = await rt.agent<C>(url, 'Counter', [0], { worker: 0 });
    const s1 = await rt.agent<C>(url, 'Counter', [0], { worker: 0 }); // local to the target
    const s2 = await rt.agent<C>(url, 'Counter', [0], { worker: 1 }); // forwarded
    const a = s1.call('sendRecords', target, 1, N);
    const b = s2.call('sendRecords', target, 2, N);
    for (let i = 0; i < N; i++) void target.send('record', 0, i);
    assert.equal(await Promise.all([a, b]), [N, N]);
    await target.sync();
    assert.equal(await target.call('checkOrder'), { ok: true, count: 3 * N });
  });

  t('plain sends without arguments keep their order among other messages, long runs and short', async ({ rt }) => {
    const x = await rt.agent<typeof Tally>(url, 'Tally', [], { worker: 0 });
    const y = await rt.agent<typeof Tally>(url, 'Tally', [], { worker: 0 });
    const want: string[] = [];
    const wantY: string[] = [];
    const got: Promise<string[]>[] = [];
    const names = ['a', 'b', 'c'] as const;
    for (let i = 0; i < 5000; i++) {
      const k = i % 97 < 60 ? i % 3 : i % 11; // stretches of bare sends, then a mix
      if (k < 3) {
        void x.send(names[k]!);
        want.push(names[k]!);
      } else if (k < 6) {
        void y.send(names[k - 3]!);
        wantY.push(names[k - 3]!);
      } else if (k < 9) {
        void x.send('tag', i);
        want.push(`t${i}`);
      } else if (k === 9) got.push(x.call('take'));
      else await x.sync(); // lets the batch go out: the next send opens a new run
    }
    got.push(x.call('take'));
    assert.equal((await Promise.all(got)).flat(), want);
    assert.equal(await y.call('take'), wantY);
  });

  t("plain sends of more method names than a port's table holds keep their order", async ({ rt }) => {
    const m = await rt.agent<typeof Many>(url, 'Many', []);
    const h = m as unknown as { send(method: string): Promise<void> };
    const want: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4500; i++) {
        const k = (i * 7 + round) % 4500;
        void h.send(`m${k}`);
        want.push(k);
      }
    }
    assert.equal(await m.call('take'), want);
  });

  t('send and call share one order per sender, awaited or not', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    const seen: number[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 200; i++) {
      if (i % 3 === 0) calls.push(c.call('get').then((v) => void seen.push(v)));
      else void c.send('inc', 1);
    }
    await Promise.all(calls);
    // the k-th get sees exactly the incs sent before it
    assert.equal(
      seen,
      Array.from({ length: 66 }, (_, k) => 2 * (k + 1)),
    );
  });

  t('a method that awaits is not interleaved: concurrent calls lose no update', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    const r = await Promise.all(Array.from({ length: 20 }, () => c.call('slowInc', 1)));
    assert.equal(
      r,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.is(await c.call('get'), 20);
  });

  t('reentrant: true lets turns interleave (and so loses updates, as documented)', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { reentrant: true });
    await Promise.all(Array.from({ length: 5 }, () => c.call('slowInc', 5)));
    assert.ok((await c.call('get')) < 5);
  });

  t('an interleave method runs while another turn awaits', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { interleave: ['free', 'get'] });
    const held = c.call('hold');
    assert.is(await c.call('get'), 0); // runs while hold() awaits
    assert.is(await c.call('free'), true);
    assert.is(await held, 'released');
  });

  t('handles pass to tasks and to other agents', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    assert.is(await rt.run(tasksUrl, 'bump', [c, 50]), 50);
    const d = await rt.agent<C>(url, 'Counter', [7]);
    assert.is(await c.call('callOther', d, 'get'), 7);
    assert.is(await c.call('pump', d, 100), 107);
    assert.is(await d.call('get'), 107);
    // a handle made on a worker (currentAgent) comes back to main as a working handle
    const self = (await d.call('self')) as Agent<C>;
    assert.is(self.id, d.id);
    assert.is(await self.call('get'), 107);
  });

  t('a handle passes through a channel (asAgent revives it on the other side)', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    const ch = rt.channel<unknown>(4);
    const task = rt.run(tasksUrl, 'viaChannel', [ch, 25]);
    await ch.put(c);
    assert.is(await task, 25);
    const ch2 = rt.channel<Agent<C>>(4);
    const task2 = rt.run(tasksUrl, 'viaChannelDirect', [ch2, 5]);
    await ch2.put(c);
    assert.is(await task2, 30);
    // and back: a handle taken on main from a channel a worker filled is a live handle too
    await ch2.put(c);
    const back = (await ch2.take())!;
    assert.is(await back.call('get'), 30);
  });

  t('sync waits for everything this sender sent', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    for (let i = 0; i < 1000; i++) void c.send('inc', 1);
    await c.sync();
    const st = rt.stats();
    assert.ok(st.workers.some((w) => (w.turns ?? 0) >= 1000));
    assert.is(await c.call('get'), 1000);
  });

  t('rt.tasks() shows agents with their current method; rt.stats() counts them', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { interleave: ['free', 'get'] });
    const held = c.call('hold');
    await c.call('get'); // hold() has started: get ran behind it, interleaved
    const row = (await rt.tasks()).find((x) => x.kind === 'agent' && x.id === c.id);
    assert.ok(row && row.kind === 'agent');
    assert.is(row.name, `Counter#${c.id}`);
    assert.is(row.method, 'hold');
    assert.is(row.state, 'running');
    const st = rt.stats();
    assert.ok((st.agents ?? 0) >= 1);
    assert.ok(st.workers.reduce((n, w) => n + (w.agents ?? 0), 0) >= 1);
    assert.is(await c.call('free'), true);
    assert.is(await held, 'released');
  });

  t('syncs and stops sent in a burst hold per agent: idle, busy with an awaiting turn, failed', async ({ rt }) => {
    // main sends a burst's syncs and stops as int runs, and an idle agent answers a sync at once:
    // an open turn, a queued message or a failure must still hold the sync back
    const N = 200;
    const as = await Promise.all(Array.from({ length: N }, () => rt.agent<C>(url, 'Counter', [0])));
    const order: string[][] = as.map(() => []);
    for (let i = 0; i < N; i++) {
      if (i % 2 === 1) void as[i]!.call('slowInc', 2).then(() => order[i]!.push('call'));
      void as[i]!.send('inc', 1);
    }
    void as[0]!.send('boom'); // errorMode 'fail': the agent holds its mailbox
    const synced = await Promise.allSettled(as.map((a, i) => a.sync().then(() => order[i]!.push('sync'))));
    assert.ok(synced[0]!.status === 'rejected' && synced[0]!.reason instanceof AgentFailedError);
    for (let i = 1; i < N; i++) {
      assert.is(synced[i]!.status, 'fulfilled', `agent ${i}`);
      assert.equal(order[i], i % 2 === 1 ? ['call', 'sync'] : ['sync'], `agent ${i}`);
    }
    const got = await Promise.all(as.slice(1).map((a) => a.call('get')));
    assert.equal(
      got,
      as.slice(1).map((_, j) => ((j + 1) % 2 === 1 ? 2 : 1)),
    );
    // a burst of stops: each after what was sent before it; stop({ drain: false }) drops the queue
    const held = as.slice(1, 11).map((a) => a.call('slowInc', 2).catch(() => 'stopped'));
    const dropped = as.slice(1, 11).map((a) =>
      a.call('get').then(
        () => 'ran',
        (e: unknown) => e,
      ),
    );
    await Promise.all([...as.slice(1, 11).map((a) => a.stop({ drain: false })), ...as.slice(11).map((a) => a.stop())]);
    for (const d of await Promise.all(dropped)) assert.instance(d, AgentStoppedError);
    await Promise.all(held); // ran or rejected: settled either way
    for (const a of as.slice(1)) await rejects(a.call('get'), AgentStoppedError);
    await as[0]!.stop();
  });

  t('100k agents are created and each gets a message', async ({ rt }) => {
    const N = 100_000;
    const made = await Promise.all(Array.from({ length: N }, (_, i) => rt.agent<C>(url, 'Counter', [i])));
    for (const a of made) void a.send('inc', 1);
    const some = await Promise.all([made[0]!, made[N / 2]!, made[N - 1]!].map((a) => a.call('get')));
    assert.equal(some, [1, N / 2 + 1, N]);
    const st = rt.stats();
    assert.ok((st.agents ?? 0) >= N);
    await Promise.all(made.map((a) => a.sync()));
    await Promise.all(made.map((a) => a.stop({ drain: false })));
  });

  t.run();
}

async function rejects(p: Promise<unknown>, E: new (...a: never[]) => Error): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, E);
    return;
  }
  assert.unreachable('expected a rejection');
}
