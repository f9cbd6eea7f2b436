/**
 * Agents: error modes and restart, call timeouts and cycles, stop with messages queued,
 * mailbox policies. Real workers, both transports.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AgentFailedError,
  AgentStoppedError,
  MailboxFullError,
  Runtime,
  TaskLoadError,
  TimeoutError,
} from '../../src/index.js';
import type { Counter } from '../fixtures/agents.js';

const url = new URL('../fixtures/agents.js', import.meta.url);
const tasksUrl = new URL('../fixtures/agent-tasks.js', import.meta.url);

/** Assert that `p` rejects with an error that `check` accepts (a predicate or a message pattern). */
async function rejects(p: Promise<unknown>, check: RegExp | ((e: unknown) => boolean)): Promise<void> {
  let e: unknown;
  let ok = false;
  try {
    await p;
  } catch (x) {
    ok = true;
    e = x;
  }
  assert.ok(ok, 'expected a rejection');
  if (check instanceof RegExp) assert.match(String((e as Error)?.message ?? e), check);
  else assert.ok(check(e), `unexpected rejection: ${(e as Error)?.stack ?? String(e)}`);
}
type C = typeof Counter;

for (const transport of ['message', 'shared'] as const) {
  const t = suite<{ rt: Runtime }>(`agent errors [${transport}]`);
  t.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  t.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  t('a failing call rejects that call and the agent goes on', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [1]);
    const e = await c.call('boom', 'nope').catch((x: unknown) => x);
    assert.instance(e, RangeError);
    assert.is((e as Error).message, 'nope');
    const e2 = await c.call('boomLater', 'late').catch((x: unknown) => x);
    assert.instance(e2, TypeError);
    assert.is(await c.call('get'), 1);
    assert.is(c.error, undefined);
  });

  t("errorMode 'fail': a failing send holds the mailbox until restart", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    void c.send('boom', 'bad send');
    void c.send('inc', 5); // held
    const e = await c.call('get').catch((x: unknown) => x);
    assert.instance(e, AgentFailedError);
    assert.is((e as AgentFailedError).code, 'ERR_SHOAL_AGENT_FAILED');
    assert.instance(c.error, RangeError);
    assert.is(c.error!.message, 'bad send');
    await rejects(c.send('inc', 1), (x: unknown) => x instanceof AgentFailedError);
    await c.restart();
    assert.is(c.error, undefined);
    assert.is(await c.call('get'), 5); // the held send ran after restart
  });

  t('restart with clearActions drops the held messages; newState goes to the object', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0]);
    void c.send('boom');
    void c.send('inc', 5);
    await c.sync().catch(() => {});
    assert.ok(c.error);
    await c.restart({ n: 100 }, { clearActions: true });
    assert.is(await c.call('get'), 100);
  });

  t("errorMode 'continue' calls the class's onError and the main-side onError, and goes on", async ({ rt }) => {
    const seen: string[] = [];
    const c = await rt.agent<C>(url, 'Counter', [0], {
      errorMode: 'continue',
      onError: (e, method) => seen.push(`${method}:${e.message}`),
    });
    void c.send('boom', 'x1');
    void c.send('inc', 2);
    void c.send('boomLater', 'x2');
    assert.is(await c.call('get'), 2);
    await c.sync();
    assert.equal(await c.call('getErrors'), ['boom:x1', 'boomLater:x2']);
    assert.equal(seen, ['boom:x1', 'boomLater:x2']);
    assert.is(c.error, undefined);
  });

  t('a call times out with a TimeoutError naming the agent and the method', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { callTimeout: 100, interleave: ['free'] });
    const e = (await c.call('hold').catch((x: unknown) => x)) as TimeoutError;
    assert.instance(e, TimeoutError);
    assert.match(e.message, `Counter#${c.id}`);
    assert.match(e.message, 'hold');
    await c.call('free');
    assert.is(await c.call('get'), 0);
    const d = await rt.agent<C>(url, 'Counter', [0]);
    const held = d.call('hold');
    const e2 = (await d.callWith({ timeout: 20 }, 'get').catch((x: unknown) => x)) as TimeoutError;
    assert.instance(e2, TimeoutError); // queued behind hold(): the caller stops waiting
    assert.match(e2.message, `Counter#${d.id}`);
    await d.stop({ drain: false });
    await rejects(held, () => true).catch(() => {});
  });

  t('an A -> B -> A call cycle fails with a TimeoutError instead of hanging', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [1], { callTimeout: 200 });
    const b = await rt.agent<C>(url, 'Counter', [2], { callTimeout: 200 });
    const e = (await a.call('cycle', b).catch((x: unknown) => x)) as TimeoutError;
    assert.instance(e, TimeoutError);
    assert.match(e.message, /Counter#\d+/);
    // both agents are usable again once the cycle has unwound
    assert.is(await b.callWith({ timeout: 2000 }, 'get'), 2);
    assert.is(await a.callWith({ timeout: 2000 }, 'get'), 1);
  });

  t('stop with messages queued: drain runs them first; drain: false rejects the queued calls', async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { interleave: ['free'] });
    for (let i = 0; i < 100; i++) void c.send('inc', 1);
    const last = c.call('get');
    await c.stop();
    assert.is(await last, 100);
    await rejects(c.call('get'), (x: unknown) => x instanceof AgentStoppedError);
    await rejects(c.send('inc'), (x: unknown) => x instanceof AgentStoppedError);
    await c.stop(); // idempotent

    const d = await rt.agent<C>(url, 'Counter', [0], { interleave: ['free'] });
    const held = d.call('hold');
    const queued = [d.call('get'), d.call('get')];
    void d.send('inc', 1);
    await d.stop({ drain: false });
    for (const q of queued) await rejects(q, (x: unknown) => x instanceof AgentStoppedError);
    void held.catch(() => {});
  });

  t('creation errors reject rt.agent: missing export, not a class, constructor throws, bad options', async ({ rt }) => {
    await rejects(rt.agent(url, 'Nope'), (x: unknown) => x instanceof TaskLoadError && /Nope/.test(String(x)));
    await rejects(rt.agent(url, 'notAClass'), (x: unknown) => x instanceof TaskLoadError);
    await rejects(rt.agent(url, 'Broken'), /cannot build/);
    await rejects(rt.agent(new URL('./missing-agents.js', url), 'X'), (x: unknown) => x instanceof TaskLoadError);
    assert.throws(() => rt.agent(url, 'Counter', [], { mailbox: { size: 0 } }), /options.mailbox.size/);
    assert.throws(
      () => rt.agent(url, 'Counter', [], { mailbox: { size: 1, policy: 'bogus' as 'drop' } }),
      /options.mailbox.policy/,
    );
    assert.throws(() => rt.agent(url, 'Counter', [], { worker: 9 }), /options.worker/);
    assert.throws(() => rt.agent(url, 'Counter', [() => 1]), /cannot be sent/);
    const c = await rt.agent<C>(url, 'Counter', [0]);
    await rejects(c.call('nothing' as 'get'), /no method 'nothing'/);
  });

  t('an argument that cannot be copied: a call rejects and a send throws, wherever the agent lives', async ({ rt }) => {
    const a = await rt.agent<C>(url, 'Counter', [0], { worker: 0 });
    const b = await rt.agent<C>(url, 'Counter', [0], { worker: 1 });
    const fn = (): number => 1;
    await rejects(
      a.call('inc', fn as never),
      (x: unknown) => (x as { code?: string }).code === 'ERR_SHOAL_UNCLONEABLE',
    );
    assert.throws(() => a.send('inc', fn as never), /cannot be sent/);
    // from a task: one agent is on the task's own worker (a local mailbox), the other is not
    const seen = await rt.run(tasksUrl, 'uncopyable', [[a, b]]);
    const want = ['call rejected ERR_SHOAL_UNCLONEABLE', 'send threw ERR_SHOAL_UNCLONEABLE'];
    assert.equal(seen, [...want, ...want]);
    assert.is(await a.call('get'), 0);
    assert.is(await b.call('get'), 0);
  });

  t(
    'through main (SHOAL_AGENT_DIRECT=0) an argument that cannot be copied is refused at the call site too',
    async () => {
      const child = new URL('../fixtures/agent-indirect-child.js', import.meta.url);
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [fileURLToPath(child), transport],
          { env: { ...process.env, SHOAL_AGENT_DIRECT: '0' }, timeout: 60_000 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
      const want = ['call rejected ERR_SHOAL_UNCLONEABLE', 'send threw ERR_SHOAL_UNCLONEABLE'];
      assert.equal(JSON.parse(out.trim().split('\n').pop()!), [...want, ...want]);
    },
  );

  t.run();

  const m = suite<{ rt: Runtime }>(`agent mailbox policies [${transport}]`);
  m.before(async (ctx) => {
    ctx.rt = await Runtime.start({ workers: 2, transport });
  });
  m.after(async (ctx) => {
    await ctx.rt.close({ timeout: 1000 });
  });

  // Each case sends its messages in one synchronous burst: main posts them as one batch and the
  // agent's worker offers every message of a batch to the mailbox before any turn runs, so what
  // fits is decided by the order alone (no timing). The first message, nap(), takes one place.

  m("'drop' drops new messages while full; their calls reject with MailboxFullError", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 3, policy: 'drop' } });
    void c.send('nap', 10);
    for (let i = 1; i <= 10; i++) void c.send('inc', i); // 1 and 2 fit
    const dropped = c.call('get');
    await rejects(dropped, (x: unknown) => x instanceof MailboxFullError);
    await c.sync();
    assert.is(await c.call('get'), 3);
  });

  m("'slide' keeps the newest messages", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 3, policy: 'slide' } });
    void c.send('nap', 10);
    for (let i = 1; i <= 10; i++) void c.send('inc', i); // 8, 9 and 10 stay
    await c.sync();
    assert.is(await c.call('get'), 27);
  });

  m("'slide' never pushes out a queued stop(): the agent stops", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 1, policy: 'slide' }, worker: 0 });
    void c.send('nap', 10);
    const stopped = c.stop();
    for (let i = 1; i <= 3; i++) void c.send('inc', i);
    await stopped;
    // a task on a worker reaches the agent's worker directly, not through main: it must be gone there
    await rejects(rt.run(tasksUrl, 'bump', [c, 1]), (x: unknown) => x instanceof AgentStoppedError);
  });

  m("'error' rejects sends and calls while full", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 2, policy: 'error' } });
    const nap = c.send('nap', 10);
    const one = c.send('inc', 1);
    const two = c.send('inc', 100);
    const get = c.call('get');
    await nap;
    await one;
    await rejects(two, (x: unknown) => x instanceof MailboxFullError && /mailbox full/.test((x as Error).message));
    await rejects(get, (x: unknown) => x instanceof MailboxFullError);
    await c.sync();
    assert.is(await c.call('get'), 1);
  });

  m("'wait' makes the send's promise wait for room (backpressure), in order", async ({ rt }) => {
    const c = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 2, policy: 'wait' } });
    const acks: number[] = [];
    void c.send('nap', 100);
    const sends = [1, 2, 3, 4].map((k) => c.send('inc', k).then(() => acks.push(k)));
    await sends[1];
    assert.equal(acks, [1, 2]); // 3 and 4 wait until nap() ends and makes room
    await Promise.all(sends);
    assert.equal(acks, [1, 2, 3, 4]);
    assert.is(await c.call('get'), 10);
  });

  m('a bounded mailbox under load from a worker keeps its bound and loses nothing with wait', async ({ rt }) => {
    const target = await rt.agent<C>(url, 'Counter', [0], { mailbox: { size: 16, policy: 'wait' }, worker: 0 });
    const s1 = await rt.agent<C>(url, 'Counter', [0], { worker: 1 });
    assert.is(await s1.call('pump', target, 5000), 5000);
  });

  m.run();
}
