import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, dial, rig, within } from '../fixtures/tcp-harness.js';

test('a small message is echoed and the connection ends cleanly', async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'echo' });
    const s = await dial(srv.port);
    const got = collect(s);
    s.end('hello shoal');
    assert.is((await within(got, 5000, 'echo')).toString(), 'hello shoal');
  } finally {
    await r.close();
  }
});

test.run();
