/**
 * The typed proxy of `rt.load()` (src/pool/load.ts) with a recording runner: the names JavaScript
 * and Node ask of any object are answered locally and never sent as tasks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { LOCAL_NAMES, remoteModule } from '../../src/pool/load.js';

function recorder() {
  const calls: string[] = [];
  const m = remoteModule<{ fib(n: number): number }>(async (name) => {
    calls.push(name);
    return 1;
  }, 'file:///app/tasks.js');
  return { m, calls };
}

test('String(), template literals, + and JSON.stringify of a loaded module send no task', () => {
  const { m, calls } = recorder();
  assert.is(String(m), '[shoal module file:///app/tasks.js]');
  assert.is(`${m}`, '[shoal module file:///app/tasks.js]');
  assert.is((m as unknown as string) + '', '[shoal module file:///app/tasks.js]');
  assert.is(JSON.stringify({ m }), '{"m":"[shoal module file:///app/tasks.js]"}');
  assert.is(inspect(m), '[shoal module file:///app/tasks.js]');
  assert.is(Object.prototype.toString.call(m), '[object shoal module]');
  assert.equal(calls, []);
});

test('a loaded module is not a thenable: awaiting it gives the proxy itself', async () => {
  const { m, calls } = recorder();
  assert.is(await Promise.resolve(m), m);
  assert.is((m as unknown as { then?: unknown }).then, undefined);
  assert.equal(calls, []);
});

test('the well-known names are never sent; other names are tasks', async () => {
  const { m, calls } = recorder();
  for (const name of LOCAL_NAMES) void (m as unknown as Record<string, unknown>)[name];
  assert.equal(calls, []);
  assert.is(await m.fib(3), 1);
  assert.equal(calls, ['fib']);
});

test.run();
