/**
 * The screen of `shoal top`: one frame (views.ts TopFrame, from `.json top`) and the one before it
 * (for rates) rendered into at most `rows` lines of at most `cols` columns.
 *
 * Runs in the CLI process. Owns nothing: a pure function of its arguments, so it is tested without
 * a terminal.
 */
import { fit, fmtAge, fmtBytes, fmtRate, table } from './format.js';
import type { ServerView, TopFrame } from './views.js';

/** What the header names: where the REPL is. */
export interface TopTarget {
  host: string;
  port: number;
}

function rate(now: number, before: number | undefined, seconds: number): number {
  if (before === undefined || seconds <= 0 || now < before) return 0;
  return (now - before) / seconds;
}

function section(title: string, body: string, rows: number): string[] {
  if (rows <= 1) return [];
  const lines = body.split('\n');
  const room = rows - 1;
  if (lines.length <= room) return [title, ...lines];
  return [title, ...lines.slice(0, room - 1), `  … ${lines.length - room + 1} more`];
}

/**
 * Render one screen.
 *
 * @example
 * process.stdout.write(renderTop(frame, prev, { host, port }, 120, 40).join('\n'));
 */
export function renderTop(
  f: TopFrame,
  prev: TopFrame | undefined,
  target: TopTarget,
  cols: number,
  rows: number,
): string[] {
  const secs = prev ? (f.at - prev.at) / 1000 : 0;
  const st = f.stats;
  const clock = new Date(f.at).toISOString().slice(11, 19);
  const out: string[] = [
    `shoal top  ${target.host}:${target.port}  pid ${f.pid}  up ${fmtAge(f.uptimeMs)}  ${st.transport} transport  ${clock} UTC   (q quits)`,
    `tasks ${st.inFlight} in flight, ${st.queued} queued, ${f.tasks.count} live (${f.tasks.green} green)   ` +
      `agents ${f.agents.count}   channels ${f.channels}   blocking threads ${st.blockingThreads}`,
    '',
  ];
  const prevW = new Map(prev?.stats.workers.map((w) => [w.slot, w]));
  const workerRows = st.workers.map((w) => {
    const p = prevW.get(w.slot);
    return [
      w.slot,
      w.running,
      w.queued,
      fmtRate(rate(w.completed, p?.completed, secs)),
      w.failed,
      w.restarts,
      w.loopDelayP99Ms,
      w.loopDelayMaxMs,
      w.parks,
      fmtRate(rate(w.parks, p?.parks, secs)),
      st.net?.connections[w.slot] ?? 0,
    ];
  });
  const workers = table(
    [
      'worker',
      'running',
      'queued',
      'done/s',
      'failed',
      'restarts',
      'delay p99 ms',
      'max ms',
      'parks',
      'parks/s',
      'conns',
    ],
    workerRows,
  );
  // Fixed sections first (workers, servers), the lists share what is left.
  const prevS = new Map(prev?.servers.map((s) => [s.id, s]));
  const serverBody =
    f.servers.length === 0
      ? '  no servers'
      : table(
          ['id', 'kind', 'address', 'open', 'accepted/s', 'req/s', 'in/s', 'out/s', 'refused', 'errors', 'handler'],
          f.servers.map((s: ServerView) => {
            const p = prevS.get(s.id);
            return [
              s.id,
              s.kind,
              s.address,
              s.open,
              fmtRate(rate(s.accepted, p?.accepted, secs)),
              s.requests === undefined ? '-' : fmtRate(rate(s.requests, p?.requests, secs)),
              fmtBytes(rate(s.bytesIn, p?.bytesIn, secs)),
              fmtBytes(rate(s.bytesOut, p?.bytesOut, secs)),
              s.refused,
              s.handlerErrors,
              s.handler,
            ];
          }),
        );
  const serverLines = Math.min(serverBody.split('\n').length + 1, 8);
  const left = Math.max(0, rows - out.length - (st.workers.length + 2) - (serverLines + 1));
  out.push(...section('WORKERS', workers, st.workers.length + 2), '');
  const taskBody =
    f.tasks.longest.length === 0
      ? '  no live tasks'
      : table(
          ['worker', 'kind', 'id', 'state', 'age', 'name'],
          f.tasks.longest.map((t) => [t.worker, t.kind, t.id, t.state, fmtAge(t.ageMs), t.name]),
        );
  const agentBody =
    f.agents.count === 0
      ? '  no agents'
      : table(
          ['worker', 'id', 'mailbox', 'state', 'name'],
          f.agents.deepest.map((a) => [
            a.worker,
            String(a.id),
            a.capacity === undefined ? String(a.mailbox) : `${a.mailbox}/${a.capacity}`,
            a.state ?? '',
            a.name,
          ]),
        );
  const agentRows = Math.min(agentBody.split('\n').length + 1, Math.max(2, Math.floor(left / 3)));
  const taskRows = Math.max(0, left - agentRows - 2);
  out.push(...section('TASKS (longest-running first)', taskBody, taskRows), '');
  out.push(...section('AGENTS (deepest mailboxes first)', agentBody, agentRows), '');
  out.push(...section('SERVERS', serverBody, serverLines));
  return out.slice(0, rows).map((l) => fit(l, cols));
}
