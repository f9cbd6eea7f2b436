/**
 * What `shoal demo` prints beside its figures (src/cli/demo-notes.ts): per-worker job counts of
 * the timed run only, and an honest note on a busy machine or a pool that did not win.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { demoNotes, timedJobs } from '../../src/cli/demo-notes.js';

test('per-worker job counts leave out the warm-up jobs', () => {
  const counted = timedJobs([4, 4], [204, 204]);
  assert.equal(counted, [200, 200]);
  assert.is(
    counted.reduce((a, b) => a + b, 0),
    400,
  );
});

test('a busy machine is named in the summary with what it does to the figures', () => {
  const notes = demoNotes({ loadBefore: 3.4, cores: 2, speedup: 1.2, workers: 2 });
  assert.is(notes.length, 1);
  assert.match(notes[0]!, 'busy');
  assert.match(notes[0]!, 'load average 3.4 on 2 cores');
  assert.match(notes[0]!, 'understate');
});

test('a slowdown is never printed without a comment', () => {
  const busy = demoNotes({ loadBefore: 5, cores: 2, speedup: 0.8, workers: 2 });
  assert.is(busy.length, 2);
  assert.match(busy[1]!, 'slower than one thread');
  const idle = demoNotes({ loadBefore: 0.2, cores: 2, speedup: 0.8, workers: 2 });
  assert.is(idle.length, 1);
  assert.match(idle[0]!, 'slower than one thread');
});

test('a quiet machine with a real speed-up gets no note', () => {
  assert.equal(demoNotes({ loadBefore: 0.3, cores: 2, speedup: 1.8, workers: 2 }), []);
});

test.run();
