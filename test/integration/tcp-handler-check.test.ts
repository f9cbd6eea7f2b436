/**
 * rt.listen checks its handler module before listening (a missing module or one without a default
 * export function is a TaskLoadError naming it), and reports handler errors through `onError` with
 * the stack and the peer's address.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/runtime/runtime.js';
import { TaskLoadError } from '../../src/core/errors.js';
import { HandlerError } from '../../src/net/reactor/listen.js';
import { deferred } from '../../src/core/deferred.js';
import { collect, dial, fixture, within } from '../fixtures/tcp-harness.js';

test('listen rejects a handler module that does not exist, naming it', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const e = await rt.listen({ port: 0, handler: 'no-such-handler.mjs' }).catch((x: unknown) => x);
    assert.instance(e, TaskLoadError);
    assert.is((e as TaskLoadError).code, 'ERR_SHOAL_TASK_LOAD');
    assert.match((e as Error).message, `${process.cwd()}/no-such-handler.mjs: no such file`);
    assert.not.match((e as Error).message, 'dist/src');
    assert.is(rt.stats().net?.accepted ?? 0, 0);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('listen rejects a handler module without a default export function', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const e = await rt.listen({ port: 0, handler: fixture('no-default') }).catch((x: unknown) => x);
    assert.instance(e, TaskLoadError);
    assert.match((e as Error).message, 'tcp-no-default.js has no default export function');
    assert.match((e as Error).message, 'notAHandler');
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test('onError hears each handler error with its stack, code and the peer address', async () => {
  const rt = await Runtime.start({ workers: 1 });
  const got = deferred<{ e: HandlerError; c: { remoteAddress: string; remotePort: number } }>();
  try {
    const srv = await rt.listen({
      port: 0,
      host: '127.0.0.1',
      handler: fixture('throw'),
      onError: (e, c) => got.resolve({ e, c }),
    });
    const s = await dial(srv.port);
    const done = collect(s).catch(() => Buffer.alloc(0));
    s.write('hi');
    const { e, c } = await within(got.promise, 10_000, 'onError');
    assert.instance(e, HandlerError);
    assert.is(e.message, 'boom from the handler');
    assert.is(e.code, 'E_BOOM');
    assert.match(e.stack ?? '', 'tcp-throw.js');
    assert.is(c.remoteAddress, '127.0.0.1');
    assert.is(c.remotePort, s.localPort);
    await done;
    assert.is(srv.stats().handlerErrors, 1);
  } finally {
    await rt.close({ timeout: 1000 });
  }
});

test.run();
