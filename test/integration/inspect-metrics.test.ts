/**
 * rt.metrics() and rt.serveMetrics(): the Prometheus text exposition parses with a Prometheus
 * text-format parser (parse-prometheus-text-format), carries the expected shoal_* names with their
 * types and labels, follows the runtime's counters, and is served on /metrics of its own port.
 */
import { connect } from 'node:net';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { eventually } from '../fixtures/inspect-harness.js';
import { fixture } from '../fixtures/tcp-harness.js';

const BASIC = new URL('../fixtures/tasks-basic.js', import.meta.url);

const EXPECTED: Record<string, ParsedFamily['type']> = {
  shoal_workers: 'GAUGE',
  shoal_tasks_in_flight: 'GAUGE',
  shoal_tasks_queued: 'GAUGE',
  shoal_worker_tasks_running: 'GAUGE',
  shoal_worker_tasks_completed_total: 'COUNTER',
  shoal_worker_tasks_failed_total: 'COUNTER',
  shoal_worker_restarts_total: 'COUNTER',
  shoal_worker_loop_delay_p99_seconds: 'GAUGE',
  shoal_worker_loop_delay_max_seconds: 'GAUGE',
  shoal_worker_ring_use_ratio: 'GAUGE',
  shoal_worker_parks_total: 'COUNTER',
  shoal_worker_parked_while_live_total: 'COUNTER',
  shoal_worker_sibling_wakes_total: 'COUNTER',
  shoal_blocking_threads: 'GAUGE',
  shoal_net_connections: 'GAUGE',
  shoal_net_accepted_total: 'COUNTER',
  shoal_net_connected_total: 'COUNTER',
  shoal_net_handler_errors_total: 'COUNTER',
  shoal_net_received_bytes_total: 'COUNTER',
  shoal_net_sent_bytes_total: 'COUNTER',
  shoal_reactor_turns_total: 'COUNTER',
  shoal_reactor_parks_total: 'COUNTER',
  shoal_reactor_worker_wakeups_total: 'COUNTER',
  shoal_server_connections: 'GAUGE',
  shoal_server_accepted_total: 'COUNTER',
  shoal_server_refused_total: 'COUNTER',
  shoal_server_handler_errors_total: 'COUNTER',
  shoal_server_requests_total: 'COUNTER',
  shoal_channels: 'GAUGE',
  shoal_agents: 'GAUGE',
  shoal_agent_mailbox_depth_max: 'GAUGE',
};

function byName(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

function sum(f: ParsedFamily | undefined): number {
  return (f?.metrics ?? []).reduce((s, m) => s + Number(m.value), 0);
}

test('rt.metrics() parses as Prometheus text with the expected names and types', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    const fams = byName(await rt.metrics());
    for (const [name, type] of Object.entries(EXPECTED)) {
      assert.ok(fams.has(name), `missing ${name}`);
      assert.is(fams.get(name)?.type, type, name);
      assert.ok((fams.get(name)?.help ?? '').length > 0, `${name} has help`);
    }
    for (const name of fams.keys()) assert.ok(name.startsWith('shoal_'), `unexpected ${name}`);
    assert.is(Number(fams.get('shoal_workers')?.metrics[0]?.value), 2);
    const running = fams.get('shoal_worker_tasks_running')?.metrics ?? [];
    assert.equal(running.map((m) => m.labels?.worker).sort(), ['0', '1']);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('metrics follow the runtime: completed tasks, channels, servers and connections', async () => {
  const rt = await Runtime.start({ workers: 2 });
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => rt.run(BASIC, 'add', [i, 1])));
    const ch = rt.channel<number>(4);
    const srv = await rt.listen({ port: 0, handler: fixture('echo') });
    const peer = connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => peer.once('connect', r));
    await eventually(() => srv.stats().open === 1, 5000, 'connection open');
    const fams = byName(await rt.metrics());
    // the 20 tasks, and the one rt.listen runs to check its handler module before listening
    const completed = rt.stats().workers.reduce((n, w) => n + w.completed, 0);
    assert.is(completed, 21);
    assert.is(sum(fams.get('shoal_worker_tasks_completed_total')), completed);
    assert.is(sum(fams.get('shoal_channels')), 1);
    assert.is(sum(fams.get('shoal_net_accepted_total')), 1);
    assert.is(sum(fams.get('shoal_net_connections')), 1);
    const conns = fams.get('shoal_server_connections')?.metrics ?? [];
    assert.is(conns.length, 1);
    assert.equal(conns[0]?.labels, { server: String(srv.id), kind: 'tcp' });
    assert.is(Number(conns[0]?.value), 1);
    assert.is(fams.get('shoal_server_requests_total')?.metrics.length, 0, 'no HTTP servers: no request samples');
    peer.destroy();
    ch.close();
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('two runtimes keep separate registries', async () => {
  const a = await Runtime.start({ workers: 1 });
  const b = await Runtime.start({ workers: 2 });
  try {
    assert.is(sum(byName(await a.metrics()).get('shoal_workers')), 1);
    assert.is(sum(byName(await b.metrics()).get('shoal_workers')), 2);
  } finally {
    await Promise.all([a.close({ timeout: 1000 }), b.close({ timeout: 1000 })]);
  }
});

test('rt.serveMetrics() serves /metrics on its own loopback port; 404 elsewhere; closes with the runtime', async () => {
  const rt = await Runtime.start({ workers: 1 });
  const m = await rt.serveMetrics({ port: 0 });
  try {
    assert.is(m.host, '127.0.0.1');
    assert.is(m.url, `http://127.0.0.1:${m.port}/metrics`);
    const res = await fetch(m.url);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const fams = byName(await res.text());
    assert.is(sum(fams.get('shoal_workers')), 1);
    const other = await fetch(`http://127.0.0.1:${m.port}/other`);
    assert.is(other.status, 404);
    await other.text();
  } finally {
    await rt.close({ timeout: 1000 });
  }
  const err = await fetch(m.url).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'the metrics port is closed with the runtime');
  await m.close(); // idempotent
});

test.run();
