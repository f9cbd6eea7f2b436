/**
 * "No hostages": unstarted tasks are never held by a worker stuck in a long synchronous slice;
 * idle workers take them. Real workers, both transports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';
import { flagged } from '../fixtures/flag-wait.js';

const url = new URL('../fixtures/tasks-basic.js', import.meta.url);

for (const transport of ['message', 'shared'] as const) {
  const t = suite(`no hostages [${transport}]`);

  t('200 small tasks complete on the other worker while one worker spins', async () => {
    const rt = await Runtime.start({ workers: 2, transport });
    try {
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const spinner = rt.run<number>(url, 'spin', [flag, 15_000]);
      await flagged(flag, 0);
      const ran = await Promise.all(Array.from({ length: 200 }, () => rt.run<number>(url, 'whoami', [])));
      const stillSpinning = Atomics.load(flag, 1) === 0;
      Atomics.store(flag, 1, 1);
      const spinThread = await spinner;
      assert.ok(stillSpinning, 'the 200 finished while the spinner still held its worker');
      assert.is(ran.filter((id) => id === spinThread).length, 0, 'none ran on the spinning worker');
    } finally {
      await rt.close({ timeout: 1000 });
    }
  });

  t.run();
}
