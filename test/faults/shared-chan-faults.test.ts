/**
 * Fault suite, shared channels: a channel whose words were overwritten reports RingCorruptError
 * at once, from take(), for await, tryPut() and put(), instead of waiting forever or spinning for
 * seconds; the class survives the trip from a worker to main; and user data shaped like a channel
 * descriptor is never taken for one. Row 12 and the descriptor row of docs/design.md "Faults".
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RingCorruptError, Runtime, sharedChan } from '../../src/index.js';
import { CONTROL_BYTES, DEQ, ENQ } from '../../src/shared-chan/memory/layout.js';
import type { SharedChannel } from '../../src/shared-chan/memory/channel.js';
import { errorOf, outcome } from '../fixtures/settle.js';

const url = new URL('../fixtures/tasks-faults.js', import.meta.url);

/** The control words and the first slot's SEQ word of a shared-memory channel. */
function words(ch: SharedChannel<unknown>): { ctl: Int32Array; seq0: Int32Array } {
  const d = ch.descriptor().descriptor as unknown as { sab: SharedArrayBuffer; byteOffset: number };
  return {
    ctl: new Int32Array(d.sab, d.byteOffset, CONTROL_BYTES / 4),
    seq0: new Int32Array(d.sab, d.byteOffset + CONTROL_BYTES, 1),
  };
}

const t = suite('shared channel faults');

t('a slot word overwritten: take() rejects with RingCorruptError instead of waiting forever', async () => {
  const ch = sharedChan<number>(4, { transport: 'shared' });
  words(ch).seq0[0] = 123_456;
  const o = await outcome(ch.take());
  assert.is(o.state, 'rejected');
  assert.instance((o as { reason: unknown }).reason, RingCorruptError);
});

t('DEQ overwritten: for await rejects with RingCorruptError', async () => {
  const ch = sharedChan<number>(4, { transport: 'shared' });
  await ch.put(1);
  words(ch).ctl[DEQ] = 77_777;
  const e = await errorOf(async () => {
    for await (const _ of ch) void _;
  });
  assert.instance(e, RingCorruptError);
});

t(
  'ENQ overwritten: a synchronous tryPut() throws RingCorruptError at once (it spun 4.6 s for a codeless Error)',
  () => {
    for (const buffer of [4, 3]) {
      const ch = sharedChan<number>(buffer, { transport: 'shared' });
      words(ch).ctl[ENQ] = 99_999;
      let e: unknown;
      try {
        ch.tryPut(1);
      } catch (x) {
        e = x;
      }
      assert.instance(e, RingCorruptError, `buffer ${buffer}`);
      assert.is((e as RingCorruptError).code, 'ERR_SHOAL_RING_CORRUPT');
    }
  },
);

for (const transport of ['message', 'shared'] as const) {
  t(`RingCorruptError thrown on a worker arrives on main as RingCorruptError [${transport}]`, async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const ch = sharedChan<number>(4, { transport: 'shared' });
      words(ch).seq0[0] = 123_456;
      const o = await outcome(rt.run(url, 'takeOne', [ch]));
      assert.is(o.state, 'rejected');
      const e = (o as { reason: RingCorruptError }).reason;
      assert.instance(e, RingCorruptError);
      assert.is(e.code, 'ERR_SHOAL_RING_CORRUPT');
      assert.is(e.reason, 'positions');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t(`user data shaped like a channel descriptor arrives as plain data [${transport}]`, async () => {
    const rt = await Runtime.start({ workers: 1, transport });
    try {
      const fake = { kind: 'shoal:shared-chan', sab: new SharedArrayBuffer(1024), byteOffset: 0, capacity: 4 };
      const port = { kind: 'shoal:port-chan', id: 'x' };
      const escaped = { kind: 'shoal:escaped', value: 1 };
      assert.equal(await outcome(rt.run(url, 'kindOf', [fake])), { state: 'fulfilled', value: 'object' });
      assert.equal(await outcome(rt.run(url, 'echo', [port])), { state: 'fulfilled', value: port });
      assert.equal(await outcome(rt.run(url, 'echo', [{ nested: [escaped] }])), {
        state: 'fulfilled',
        value: { nested: [escaped] },
      });
      const ch = rt.channel<number>(4);
      assert.equal(await outcome(rt.run(url, 'kindOf', [ch])), { state: 'fulfilled', value: 'channel' });
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });
}

t.run();
