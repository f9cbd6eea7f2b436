/**
 * A slow reader cannot make the process buffer what the handler writes: backpressure from the
 * socket reaches the handler's write() through the outbound ring. The handler writes 1 GiB
 * (SHOAL_SLOW_READER_MIB=n for less) to a client that reads at most 1 MiB per 10 ms (<= 100 MB/s,
 * slower than the handler writes); RSS growth of the whole process (client included) stays under
 * 64 MiB.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dial, rig, within } from '../fixtures/tcp-harness.js';

const TOTAL = Number(process.env.SHOAL_SLOW_READER_MIB ?? 1024) * 2 ** 20;

test(`a client reading slowly gets ${TOTAL >> 20} MiB while RSS grows by less than 64 MiB`, async () => {
  const r = await rig(2);
  try {
    const srv = await r.listen({ handler: 'flood' });
    if (global.gc) global.gc();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const s = await dial(srv.port);
    s.write(`${TOTAL}\n`);
    let got = 0;
    let sincePause = 0;
    const t0 = performance.now();
    await within(
      new Promise<void>((res, rej) => {
        s.on('data', (b: Buffer) => {
          got += b.length;
          sincePause += b.length;
          // read in bursts of 1 MiB, then stop reading for 10 ms: the writer is always faster
          if (sincePause >= 1 << 20) {
            sincePause = 0;
            s.pause();
            setTimeout(() => s.resume(), 10);
          }
        });
        s.once('end', res);
        s.once('error', rej);
      }),
      150_000,
      'slow reader',
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const secs = (performance.now() - t0) / 1000;
    const growth = (peak - base) / 2 ** 20;
    console.log(`  slow reader: ${TOTAL >> 20} MiB in ${secs.toFixed(1)} s, RSS growth ${growth.toFixed(1)} MiB`);
    assert.is(got, TOTAL);
    assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
  } finally {
    await r.close();
  }
});

test.run();
