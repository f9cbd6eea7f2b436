/**
 * An I/O-bound batch is spread over the workers, and no worker blocks its thread while it holds
 * live tasks (their fs callbacks and timers could not run). Real workers, both transports: the
 * shared one (workers park with Atomics.wait and claim from a shared queue, fair share in
 * pool/shared/siblings.ts) and the message one (main splits each pull by the fair share,
 * pool/message/main.ts rule 2).
 *
 * This file is also the task module of its test (the worker imports it; the suites are defined
 * on the main thread only), so the rendezvous task below needs no fixture of its own.
 *
 * The rendezvous makes participation a hard condition instead of a timing statistic: each task
 * reads a file (I/O), then waits until tasks on two different threads have arrived. If one
 * worker claimed the whole batch (the wake policy left the other parked while "someone is
 * awake", or a worker claimed past its fair share), no task could finish and the test fails on
 * its bounded wait.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../../src/index.js';

interface Meeting {
  threads: Set<number>;
  waiters: Array<() => void>;
}
const meetings = new Map<string, Meeting>();

/**
 * Task: read `path`, then wait (bounded by `ms`) until tasks of `parties` distinct threads called
 * with the same `tag` have arrived. Threads learn of each other over a BroadcastChannel: each
 * announces itself when it joins, and answers every thread it had not heard of yet.
 */
export async function readAndMeet(path: string, tag: string, parties: number, ms: number): Promise<number> {
  await readFile(path);
  let m = meetings.get(tag);
  if (!m) {
    const meeting: Meeting = { threads: new Set([threadId]), waiters: [] };
    meetings.set(tag, (m = meeting));
    const bc = new BroadcastChannel(tag);
    bc.unref();
    bc.onmessage = (e: unknown): void => {
      const from = (e as { data: number }).data;
      if (meeting.threads.has(from)) return;
      meeting.threads.add(from);
      bc.postMessage(threadId); // so a thread that joined after our first announcement learns of us
      if (meeting.threads.size >= parties) for (const w of meeting.waiters.splice(0)) w();
    };
    bc.postMessage(threadId);
  }
  const meeting = m;
  if (meeting.threads.size < parties) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only thread(s) ${[...meeting.threads].join(', ')} took tasks within ${ms} ms`)),
        ms,
      );
      meeting.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return threadId;
}

/** `readAndMeet` taking one spec array (the shape `rt.map` calls with). */
export function readAndMeetSpec(spec: [string, string, number, number]): Promise<number> {
  return readAndMeet(...spec);
}

if (isMainThread) {
  const self = new URL(import.meta.url);
  const file = fileURLToPath(self); // any small file will do: this one

  for (const transport of ['shared', 'message'] as const) {
    const t = suite(`I/O-bound batches [${transport}]`);

    t('an I/O-bound batch runs on both workers, none blocked in a park while it holds live tasks', async () => {
      const rt = await Runtime.start({ workers: 2, transport });
      try {
        // Handshake: both workers run their loop (Runtime.start resolves when the threads are
        // online, before their modules loaded; a sibling rightly takes a whole batch while the
        // other boots). Two-party warm-up meetings, retried with a fresh tag until one succeeds.
        for (let attempt = 0; ; attempt++) {
          const warm = [0, 1].map(() => rt.run(self, 'readAndMeet', [file, `warm-${attempt}`, 2, 200]));
          if ((await Promise.allSettled(warm)).every((r) => r.status === 'fulfilled')) break;
          if (attempt === 50) throw new Error('the two workers never both took a warm-up task');
        }
        const tag = `batch-${transport}-${process.pid}`;
        const threads = await Promise.all(
          Array.from({ length: 64 }, () => rt.run<number>(self, 'readAndMeet', [file, tag, 2, 10_000])),
        );
        assert.is(new Set(threads).size, 2, 'tasks of the batch ran on both threads');
        const more = [];
        for await (const id of rt.map(
          Array.from({ length: 200 }, () => [file, tag, 2, 10_000]),
          self,
          'readAndMeetSpec',
          { concurrency: 32 },
        ))
          more.push(id);
        assert.is(more.length, 200);
        const ws = rt.stats().workers;
        const completed = ws.map((w) => w.completed);
        assert.ok(
          completed.every((c) => c > 0),
          `per-worker completed: ${completed.join(', ')}`,
        );
        // (the message transport's workers never block: their counter stays 0 too)
        for (const w of ws)
          assert.is(w.parkedWhileLive, 0, `worker ${w.slot} blocked in Atomics.wait while it had live tasks`);
      } finally {
        await rt.close({ timeout: 1000 });
      }
    });

    t.run();
  }
}
