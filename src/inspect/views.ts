/**
 * The views of a running runtime: what `.tasks`, `.agents`, `.channels`, `.conns` and `.stats`
 * print in the REPL, what `.json <view>` returns to tools, and the `top` snapshot `shoal top` draws.
 *
 * Runs on the main thread of the service (inside the REPL server). Owns nothing: each view reads
 * an InspectSource when asked.
 *
 * A view is one entry of VIEWS: `collect` gathers plain JSON-able data, `text` renders it for a
 * person. The REPL defines one command per entry (repl-session.ts), so a new view is one object
 * here; agents show "no agents" until `InspectSource.agents` is wired by the agents feature.
 */
import type { LiveTask } from '../pool/pool.js';
import { fmtAge, fmtBytes, table } from './format.js';
import type { AgentInfo, InspectSource, ServerLike } from './source.js';

/** One view: gathers JSON-able data, renders it as text. */
export interface View<D = unknown> {
  /** one line for `.help` */
  readonly help: string;
  /** `arg` is the rest of the command line (e.g. a row limit) */
  collect(src: InspectSource, arg: string): Promise<D>;
  text(data: D): string;
}

/** Rows a listing shows unless the command names another limit (`.tasks 500`). */
export const DEFAULT_ROWS = 50;
/** Most rows any listing returns, whatever the limit asked. */
export const MAX_ROWS = 1000;

/** A server's numbers as the views and `shoal top` show them. */
export interface ServerView {
  id: number;
  kind: string;
  handler: string;
  address: string;
  open: number;
  accepted: number;
  refused: number;
  handlerErrors: number;
  /** HTTP requests served (HTTP servers only) */
  requests?: number;
  bytesIn: number;
  bytesOut: number;
  conns?: { index: number; remote: string; bytesIn: number; bytesOut: number }[];
}

/** What `.json top` returns: one frame of `shoal top`. */
export interface TopFrame {
  /** Date.now() on the service when taken */
  at: number;
  pid: number;
  uptimeMs: number;
  stats: ReturnType<InspectSource['stats']>;
  tasks: { count: number; queued: number; green: number; longest: LiveTask[] };
  agents: { count: number; deepest: AgentInfo[] };
  servers: ServerView[];
  channels: number;
}

function rowsArg(arg: string): number {
  const n = Number.parseInt(arg.trim(), 10);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_ROWS) : DEFAULT_ROWS;
}

function more(total: number, shown: number): string {
  return total > shown ? `\n… ${total - shown} more (give a larger limit: .<view> ${Math.min(MAX_ROWS, total)})` : '';
}

async function agentsOf(src: InspectSource): Promise<AgentInfo[]> {
  if (!src.agents) return [];
  return [...(await src.agents())].sort((a, b) => b.mailbox - a.mailbox);
}

function serverView(s: ServerLike, withConns: number): ServerView {
  const st = s.stats?.() ?? {};
  const a = s.address?.();
  const address = a == null ? '' : typeof a === 'string' ? a : `${a.address}:${a.port}`;
  let bytesIn = 0;
  let bytesOut = 0;
  const conns: NonNullable<ServerView['conns']> = [];
  for (const c of s.conns) {
    bytesIn += c.bytesIn;
    bytesOut += c.bytesOut;
    if (conns.length < withConns) {
      const remote = `${c.socket.remoteAddress ?? '?'}:${c.socket.remotePort ?? '?'}`;
      conns.push({ index: c.index, remote, bytesIn: c.bytesIn, bytesOut: c.bytesOut });
    }
  }
  const v: ServerView = {
    id: s.id,
    kind: s.kind ?? 'tcp',
    handler: s.handler,
    address,
    open: st.open ?? s.conns.size,
    accepted: st.accepted ?? 0,
    refused: st.refused ?? 0,
    handlerErrors: st.handlerErrors ?? 0,
    bytesIn,
    bytesOut,
  };
  if (st.requests !== undefined) v.requests = st.requests;
  if (withConns > 0) v.conns = conns;
  return v;
}

const tasks: View<{ count: number; tasks: LiveTask[] }> = {
  help: 'live tasks on every worker, longest-running first, with where each was created under tracing [.tasks N]',
  async collect(src, arg) {
    const all = [...(await src.tasks())].sort((a, b) => b.ageMs - a.ageMs);
    return { count: all.length, tasks: all.slice(0, rowsArg(arg)) };
  },
  text({ count, tasks: ts }) {
    if (count === 0) return 'no live tasks';
    const rows = ts.map((t) => [t.worker, t.kind, t.id, t.state + (t.abandoned ? '*' : ''), fmtAge(t.ageMs), t.name]);
    let out = `${count} live task${count === 1 ? '' : 's'}\n${table(['worker', 'kind', 'id', 'state', 'age', 'name'], rows)}`;
    const traced = ts.filter((t) => t.stack);
    for (const t of traced)
      out += `\n\n#${t.id} ${t.name} (worker ${t.worker}) ${t.kind === 'task' ? 'submitted' : 'spawned'} at:\n${t.stack}`;
    if (traced.length === 0) out += '\n(where each was created: start the runtime with { tracing: true })';
    if (ts.some((t) => t.abandoned)) out += '\n(* abandoned: its caller gave up, the worker still runs it)';
    return out + more(count, ts.length);
  },
};

const agents: View<{ count: number; agents: AgentInfo[] }> = {
  help: 'agents with their mailbox depth, deepest first [.agents N]',
  async collect(src, arg) {
    const all = await agentsOf(src);
    return { count: all.length, agents: all.slice(0, rowsArg(arg)) };
  },
  text({ count, agents: as }) {
    if (count === 0) return 'no agents';
    const rows = as.map((a) => [
      a.worker,
      String(a.id),
      a.capacity === undefined ? String(a.mailbox) : `${a.mailbox}/${a.capacity}`,
      a.state ?? '',
      a.name + (a.error ? `  (error: ${a.error})` : ''),
    ]);
    return `${count} agent${count === 1 ? '' : 's'}\n${table(['worker', 'id', 'mailbox', 'state', 'name'], rows)}${more(count, as.length)}`;
  },
};

interface ChannelRow {
  id: number;
  transport: string;
  buffered: number;
  /** null: unbounded */
  capacity: number | null;
  pendingPuts: number;
  pendingTakes: number;
  closed: boolean;
}

const channels: View<{ count: number; channels: ChannelRow[] }> = {
  help: 'channels made with rt.channel() that are still referenced [.channels N]',
  async collect(src, arg) {
    const all: ChannelRow[] = [];
    for (const c of src.channels()) {
      const s = c.stats();
      all.push({
        id: c.id,
        transport: c.transport,
        buffered: s.buffered,
        capacity: Number.isFinite(s.capacity) ? s.capacity : null,
        pendingPuts: s.pendingPuts,
        pendingTakes: s.pendingTakes,
        closed: s.closed,
      });
    }
    return { count: all.length, channels: all.slice(0, rowsArg(arg)) };
  },
  text({ count, channels: cs }) {
    if (count === 0) return 'no channels (made with rt.channel())';
    const rows = cs.map((c) => [
      c.id,
      c.transport,
      `${c.buffered}/${c.capacity ?? '∞'}`,
      c.pendingPuts,
      c.pendingTakes,
      c.closed ? 'closed' : 'open',
    ]);
    return `${count} channel${count === 1 ? '' : 's'}\n${table(['id', 'transport', 'buffered', 'puts waiting', 'takes waiting', 'state'], rows)}${more(count, cs.length)}`;
  },
};

const conns: View<{ servers: ServerView[] }> = {
  help: 'servers and their open connections [.conns N]',
  async collect(src, arg) {
    const n = rowsArg(arg);
    return { servers: [...src.servers()].map((s) => serverView(s, n)) };
  },
  text({ servers }) {
    if (servers.length === 0) return 'no servers';
    return servers
      .map((s) => {
        const head =
          `server ${s.id} (${s.kind}) ${s.address}  handler ${s.handler}\n` +
          `  open ${s.open}, accepted ${s.accepted}, refused ${s.refused}, handler errors ${s.handlerErrors}` +
          `${s.requests !== undefined ? `, requests ${s.requests}` : ''}, in ${fmtBytes(s.bytesIn)}, out ${fmtBytes(s.bytesOut)}`;
        const cs = s.conns ?? [];
        if (cs.length === 0) return head;
        const rows = cs.map((c) => [c.index, c.remote, fmtBytes(c.bytesIn), fmtBytes(c.bytesOut)]);
        const body = table(['slot', 'remote', 'in', 'out'], rows)
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n');
        return `${head}\n${body}${more(s.open, cs.length)}`;
      })
      .join('\n\n');
  },
};

const stats: View<ReturnType<InspectSource['stats']>> = {
  help: 'rt.stats(): workers (load, loop delay, parks), queues, the reactor',
  async collect(src) {
    return src.stats();
  },
  text(s) {
    const rows = s.workers.map((w) => [
      w.slot,
      w.threadId,
      w.running,
      w.queued,
      w.completed,
      w.failed,
      w.restarts,
      w.loopDelayP99Ms,
      w.loopDelayMaxMs,
      w.parks,
      s.net?.connections[w.slot] ?? 0,
    ]);
    const head = [
      'worker',
      'thread',
      'running',
      'queued',
      'done',
      'failed',
      'restarts',
      'delay p99',
      'max ms',
      'parks',
    ];
    let out =
      `transport ${s.transport}, in flight ${s.inFlight}, queued ${s.queued}, blocking threads ${s.blockingThreads}\n` +
      table([...head, 'conns'], rows);
    const n = s.net;
    if (n) {
      out +=
        `\nnet: accepted ${n.accepted}, connected ${n.connected}, handler errors ${n.handlerErrors}, ` +
        `in ${fmtBytes(n.bytesIn)}, out ${fmtBytes(n.bytesOut)}; reactor turns ${n.turns}, parks ${n.parks}, ` +
        `worker wake-ups ${n.workerWakeups}`;
    }
    return out;
  },
};

/** Rows of each list in a `top` frame. */
const TOP_ROWS = 20;

const top: View<TopFrame> = {
  help: 'one frame of `shoal top` (use with .json)',
  async collect(src) {
    const [all, ags] = await Promise.all([src.tasks(), agentsOf(src)]);
    const longest = [...all].sort((a, b) => b.ageMs - a.ageMs).slice(0, TOP_ROWS);
    let channelCount = 0;
    for (const _ of src.channels()) channelCount++;
    return {
      at: Date.now(),
      pid: process.pid,
      uptimeMs: Math.round(process.uptime() * 1000),
      stats: src.stats(),
      tasks: {
        count: all.length,
        queued: all.filter((t) => t.state === 'queued').length,
        green: all.filter((t) => t.kind === 'green').length,
        // stacks stay out of the frame: top shows names and ages
        longest: longest.map(({ stack: _s, ...t }) => t),
      },
      agents: { count: ags.length, deepest: ags.slice(0, TOP_ROWS) },
      servers: [...src.servers()].map((s) => serverView(s, 0)),
      channels: channelCount,
    };
  },
  text(f) {
    return JSON.stringify(f);
  },
};

/** Every view, by name: `.name` in the REPL, `.json name` for tools. */
export const VIEWS: Readonly<Record<string, View<unknown>>> = Object.freeze({
  tasks,
  agents,
  channels,
  conns,
  stats,
  top,
});

/** The REPL commands made from VIEWS (top is for tools only). */
export const COMMAND_VIEWS = ['tasks', 'agents', 'channels', 'conns', 'stats'] as const;
