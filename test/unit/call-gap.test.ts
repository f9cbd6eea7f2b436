/**
 * CallGap guarantees (src/pool/shared/call-gap.ts): no spin before enough gaps are known, a spin
 * sized by the median gap when calls come close together, none when they come further apart than
 * a spin pays for, and one outlier either way does not flip the decision. Times are given, not
 * measured: no clock, no threads.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CallGap, SPIN_GAP_MAX_US } from '../../src/pool/shared/call-gap.js';

/** Feed gaps of `us` each through idleAt/arrived, as the worker does. */
function feed(g: CallGap, ...us: number[]): void {
  let t = 1000;
  for (const x of us) {
    g.idleAt(t);
    t += x / 1000;
    g.arrived(t);
    t += 0.01; // the task runs
  }
}

test('a new worker does not spin until most of its gap samples are known', () => {
  const g = new CallGap();
  assert.is(g.spinBudgetUs(30), 0);
  feed(g, 20, 20);
  assert.is(g.spinBudgetUs(30), 0);
  feed(g, 20);
  assert.ok(g.spinBudgetUs(30) > 0);
});

test('calls a setImmediate apart get a spin of twice their gap', () => {
  const g = new CallGap();
  feed(g, 80, 90, 100, 110, 120);
  assert.ok(Math.abs(g.spinBudgetUs(30) - 200) < 0.5, String(g.spinBudgetUs(30)));
});

test('a hot loop spins at least the wake-up lag it was given', () => {
  const g = new CallGap();
  feed(g, 3, 2, 4, 3, 5);
  assert.is(g.spinBudgetUs(30), 30);
});

test('calls a millisecond apart do not spin at all', () => {
  const g = new CallGap();
  feed(g, 1000, 1100, 1050, 990, 1020);
  assert.is(g.spinBudgetUs(30), 0);
});

test('one slow call in a hot loop does not stop the spinning, one quick call in a slow stream does not start it', () => {
  const hot = new CallGap();
  feed(hot, 3, 3, 3, 3, 9000);
  assert.ok(hot.spinBudgetUs(30) > 0);
  const slow = new CallGap();
  feed(slow, 5000, 5000, 5000, 5000, 2);
  assert.is(slow.spinBudgetUs(30), 0);
});

test('a gap over the threshold parks, and no minimum makes a spin longer than the cap', () => {
  const g = new CallGap();
  feed(g, SPIN_GAP_MAX_US - 1, SPIN_GAP_MAX_US - 1, SPIN_GAP_MAX_US - 1);
  assert.ok(Math.abs(g.spinBudgetUs(30) - 2 * (SPIN_GAP_MAX_US - 1)) < 0.5);
  assert.is(g.spinBudgetUs(10_000), 2 * SPIN_GAP_MAX_US);
  feed(g, SPIN_GAP_MAX_US + 1, SPIN_GAP_MAX_US + 1, SPIN_GAP_MAX_US + 1);
  assert.is(g.spinBudgetUs(30), 0);
});

test('a probe is offered for gaps up to twice the threshold, not beyond', () => {
  const near = new CallGap();
  feed(near, 250, 250, 250);
  assert.is(near.spinBudgetUs(30), 0);
  assert.is(near.probeBudgetUs(), 2 * SPIN_GAP_MAX_US);
  const far = new CallGap();
  feed(far, 1000, 1000, 1000);
  assert.is(far.probeBudgetUs(), 0);
});

test('a task may publish before the spin decision only when no spin can follow it, its own gap counted', () => {
  const slow = new CallGap();
  assert.ok(slow.staysLong(1000), 'a new worker knows no short gap');
  feed(slow, 5000, 5000, 5000, 5000, 5000);
  slow.idleAt(2000);
  assert.ok(slow.staysLong(2005), 'calls 5 ms apart, and this one too');
  assert.not.ok(slow.staysLong(2000.1), 'a call 100 µs after the last may start a spin');
  const quick = new CallGap();
  feed(quick, 50, 50, 50, 50, 50);
  quick.idleAt(2000);
  assert.not.ok(quick.staysLong(2005), 'calls close together: a spin may follow');
});

test('an arrival without a preceding idleAt records nothing (a task claimed while busy)', () => {
  const g = new CallGap();
  feed(g, 10, 10, 10);
  g.arrived(5000);
  g.arrived(9000);
  assert.ok(g.spinBudgetUs(30) > 0);
});

test.run();
