/**
 * Fault suite, process lifetime: a runtime nobody closed must not keep the process alive once
 * nothing is in flight (row 5 of docs/design.md "Faults"; #17 item 1). Each case runs a child
 * process that never calls rt.close() and must exit by itself, with code 0 (not 13, Node's
 * "unsettled top-level await": the threads must hold the process while Runtime.start waits).
 */
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const child = new URL('../fixtures/exit-child.js', import.meta.url);
/** Generous: the bound only turns "never exits" into a failure instead of a stalled file. */
const BOUND_MS = 30_000;

function runChild(mode: string, transport: string): Promise<{ code: number | null; out: string; killed: boolean }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [child.pathname, mode, transport], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      p.kill('SIGKILL');
    }, BOUND_MS);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    });
  });
}

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`process exit without rt.close [${transport}]`);
  for (const mode of ['start', 'run', 'map', 'blocking', 'listen']) {
    t(
      `a process exits on its own after ${mode === 'start' ? 'Runtime.start alone' : mode === 'listen' ? 'listen + server.close' : `rt.${mode}`}`,
      async () => {
        const r = await runChild(mode, transport);
        assert.is(r.killed, false, `the process never exited: ${r.out}`);
        assert.is(r.code, 0, r.out);
        assert.match(r.out, `done ${mode}`);
      },
    );
  }
  t.run();
}
