/**
 * The inspection views on a fake source (no threads): agents appear once a source provides them,
 * deepest mailbox first, and "no agents" until then; listings are bounded by their row limit; the
 * `top` frame and its rendering fit the terminal and show rates between two frames.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LiveTask } from '../../src/pool/pool.js';
import type { AgentInfo, InspectSource, StatsLike } from '../../src/inspect/source.js';
import { renderTop } from '../../src/inspect/top-view.js';
import { DEFAULT_ROWS, VIEWS, type TopFrame } from '../../src/inspect/views.js';
import { clip, fmtAge, table } from '../../src/inspect/format.js';

function worker(slot: number, completed: number) {
  return {
    slot,
    threadId: slot + 1,
    running: 1,
    queued: 0,
    completed,
    failed: 0,
    restarts: 0,
    loopDelayP99Ms: 1.5,
    loopDelayMaxMs: 3,
    ringUse: 0,
    parks: 10,
    parkedWhileLive: 0,
    siblingWakes: 0,
  };
}

function source(opts: { agents?: AgentInfo[]; tasks?: number; completed?: number } = {}): InspectSource {
  const stats: StatsLike = {
    transport: 'shared',
    inFlight: 2,
    queued: 0,
    workers: [worker(0, opts.completed ?? 0), worker(1, opts.completed ?? 0)],
    blockingThreads: 0,
  };
  const tasks: LiveTask[] = Array.from({ length: opts.tasks ?? 3 }, (_, i) => ({
    kind: 'task',
    id: i + 1,
    name: `file:///m.js#job${i}`,
    worker: i % 2,
    state: 'running',
    ageMs: (i + 1) * 1000,
    abandoned: false,
  }));
  const src: InspectSource = {
    rt: {},
    stats: () => stats,
    tasks: async () => tasks,
    servers: () => [],
    channels: () => [],
  };
  if (opts.agents) {
    const agents = opts.agents;
    return { ...src, agents: () => agents };
  }
  return src;
}

test('.agents says "no agents" until the source provides them', async () => {
  const v = VIEWS.agents!;
  assert.is(v.text(await v.collect(source(), '')), 'no agents');
  assert.is(v.text(await v.collect(source({ agents: [] }), '')), 'no agents');
});

test('.agents lists agents deepest mailbox first', async () => {
  const v = VIEWS.agents!;
  const agents: AgentInfo[] = [
    { id: 1, name: 'Counter', worker: 0, mailbox: 3 },
    { id: 2, name: 'Cache', worker: 1, mailbox: 900, capacity: 1000, state: 'running' },
    { id: 3, name: 'Broken', worker: 1, mailbox: 0, state: 'failed', error: 'boom' },
  ];
  const text = v.text(await v.collect(source({ agents }), ''));
  const lines = text.split('\n');
  assert.is(lines[0], '3 agents');
  assert.match(lines[2] ?? '', /900\/1000 +running +Cache/);
  assert.match(lines[3] ?? '', /3 +Counter/);
  assert.match(lines[4] ?? '', /Broken {2}\(error: boom\)/);
});

test('.tasks is bounded by its row limit, longest-running first', async () => {
  const v = VIEWS.tasks!;
  const data = (await v.collect(source({ tasks: 120 }), '')) as { count: number; tasks: LiveTask[] };
  assert.is(data.count, 120);
  assert.is(data.tasks.length, DEFAULT_ROWS);
  assert.is(data.tasks[0]?.id, 120);
  assert.match(v.text(data), /… 70 more \(give a larger limit: \.<view> 120\)/);
  const ten = (await v.collect(source({ tasks: 120 }), '10')) as { tasks: LiveTask[] };
  assert.is(ten.tasks.length, 10);
});

test('renderTop fits the terminal and shows rates between two frames', async () => {
  const top = VIEWS.top!;
  const a = (await top.collect(source({ completed: 100, agents: [] }), '')) as TopFrame;
  const b = (await top.collect(source({ completed: 300, agents: [] }), '')) as TopFrame;
  b.at = a.at + 2000;
  const lines = renderTop(b, a, { host: '127.0.0.1', port: 7070 }, 80, 24);
  assert.ok(lines.length <= 24, `${lines.length} lines`);
  assert.ok(lines.every((l) => l.length <= 80));
  const text = lines.join('\n');
  assert.match(text, /WORKERS/);
  assert.match(text, /^ +0 +1 +0 +100 /m); // 200 completed in 2 s
  assert.match(text, /no agents/);
  assert.match(text, /SERVERS\n +no servers/);
  assert.match(text, /job2/);
});

test('format helpers', () => {
  assert.is(fmtAge(1500), '1.5s');
  assert.is(fmtAge(125_000), '2m05s');
  assert.is(table(['id', 'name'], [[1, 'a']]), 'id  name\n 1  a');
  assert.match(clip('x'.repeat(100), 10), /^x{10}\n… 90 more characters cut/);
});

test.run();
