/**
 * rt.agent's options are checked at the call: a bad value and a misspelt option (which would
 * leave the real one at its default without a word) throw with a code naming what was given;
 * nothing is created.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { errorOf } from '../fixtures/settle.js';

const url = new URL('../fixtures/agents.js', import.meta.url);

test('a misspelt or bad rt.agent option is refused at the call, naming it', async () => {
  const rt = await Runtime.start({ workers: 1 });
  try {
    const cases: Array<[object, string, RegExp]> = [
      [
        { calltimeout: 50 },
        'ERR_INVALID_ARG_VALUE',
        /options\.calltimeout is not an option of rt\.agent \(known: .*callTimeout/,
      ],
      [{ errorMode: 'fail', mailBox: { size: 4 } }, 'ERR_INVALID_ARG_VALUE', /options\.mailBox is not an option/],
      [
        { errorMode: 'ignore' },
        'ERR_INVALID_ARG_TYPE',
        /options\.errorMode must be 'fail' or 'continue', got 'ignore'/,
      ],
      [{ mailbox: { size: 0 } }, 'ERR_OUT_OF_RANGE', /options\.mailbox\.size must be a positive integer, got 0/],
    ];
    for (const [o, code, msg] of cases) {
      const e = await errorOf(() => rt.agent(url, 'Counter', [0], o as never));
      assert.is(e?.code, code, JSON.stringify(o));
      assert.match(e!.message, msg);
    }
    assert.is(rt.stats().agents ?? 0, 0, 'nothing was created');
    // the placement-only shapes and a full set of real options still work
    const a = await rt.agent(url, 'Counter', [1], { worker: 0 });
    const b = await rt.agent(url, 'Counter', [2], { callTimeout: 1000, errorMode: 'continue', mailbox: { size: 8 } });
    assert.ok(a && b);
  } finally {
    await rt.close();
  }
});

test.run();
