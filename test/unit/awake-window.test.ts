/**
 * AwakeWindow, the reactor's and the net hosts' stay-awake policy, on a fake timeline (plain
 * numbers for performance.now(); no threads, no sleeps).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AwakeWindow, SUSPEND_MAX_MS, SUSPEND_MIN_MS } from '../../src/net/awake-window.js';

test('a fresh window is closed: the loop parks right after its work', () => {
  const w = new AwakeWindow(0.1);
  w.work(10);
  assert.is(w.awake(10.001), false);
});

test('a quick wake-up opens the window to cover that gap, capped at maxMs', () => {
  const w = new AwakeWindow(0.1);
  w.work(10);
  w.parking(10);
  w.woken(10.04); // the answer came 40 µs after the last work
  assert.ok(Math.abs(w.windowMsNow - 0.06) < 1e-9, String(w.windowMsNow));
  w.work(20);
  assert.is(w.awake(20.05), true);
  assert.is(w.awake(20.07), false);
  w.parking(20.07);
  w.woken(20.09);
  w.parking(30);
  w.woken(30.099); // 99 µs: 1.5x would be 148 µs, the cap is 100
  assert.ok(w.windowMsNow <= 0.1 + 1e-9, String(w.windowMsNow));
});

test('a slow wake-up leaves the window alone; a park after a fruitless window halves it until it closes', () => {
  const w = new AwakeWindow(0.1);
  w.work(0);
  w.parking(0);
  w.woken(0.06);
  const open = w.windowMsNow;
  assert.ok(open > 0);
  w.parking(1);
  w.woken(1.5); // 500 µs later: staying awake would not have paid
  assert.is(w.windowMsNow, open / 2);
  for (let k = 0; k < 10; k++) w.parking(2 + k);
  assert.is(w.windowMsNow, 0);
});

test('work done while parked restarts the clock for the next wake-up', () => {
  const w = new AwakeWindow(0.1);
  w.parking(0);
  w.work(5); // a socket event's turn while the wait is outstanding
  w.woken(5.03);
  assert.ok(w.windowMsNow > 0, 'a 30 µs answer to that work should open the window');
});

test('maxMs 0 never stays awake; a bad maxMs is a RangeError', () => {
  const w = new AwakeWindow(0);
  w.parking(0);
  w.woken(0.001);
  w.work(1);
  assert.is(w.awake(1), false);
  try {
    new AwakeWindow(-1);
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, RangeError);
    assert.is((e as { code?: string }).code, 'ERR_OUT_OF_RANGE');
  }
});

test("the kernel's wake-up delay is not counted as the peer's silence", () => {
  const w = new AwakeWindow(0.1);
  w.work(0);
  w.parking(0);
  // the peer rang 60 µs after our work, but we ran only 90 µs later: a gap of 150 µs seen
  // from here, which alone would leave the window shut
  w.woken(0.15, 0.09);
  assert.ok(Math.abs(w.windowMsNow - 0.09) < 1e-9, `window ${w.windowMsNow} covers the 60 µs gap x1.5`);
  // an implausible delay (longer than the gap: a stale ring time) is ignored
  const v = new AwakeWindow(0.1);
  v.work(0);
  v.parking(0);
  v.woken(0.15, 5);
  assert.is(v.windowMsNow, 0);
});

test('setMax changes the cap at once (and clips an open window); a bad one is a RangeError', () => {
  const w = new AwakeWindow(0.4);
  w.work(0);
  w.parking(0);
  w.woken(0.2);
  assert.ok(Math.abs(w.windowMsNow - 0.3) < 1e-9);
  w.setMax(0.1);
  assert.is(w.maxMs, 0.1);
  assert.is(w.windowMsNow, 0.1);
  try {
    w.setMax(Number.NaN);
    assert.unreachable('NaN accepted');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_OUT_OF_RANGE');
  }
});

test('rule 4: a busy peer is held through a long gap, up to the hold and no longer', () => {
  const w = new AwakeWindow(0.4);
  w.setHold(5);
  for (let k = 0; k <= 40; k++) w.work(k * 0.05); // a ping-pong: work every 50 µs
  const last = 40 * 0.05;
  assert.is(w.windowMsNow, 0, 'rules 1-3 alone would park at once');
  assert.is(w.awake(last + 2), true, 'a 2 ms gap of a busy peer is held');
  assert.is(w.awake(last + 4.99), true);
  assert.is(w.awake(last + 5.01), false, 'the hold ends');
  // the same peer without a hold parks
  w.setHold(0);
  assert.is(w.awake(last + 0.01), false);
});

test('rule 4: a sparse peer is not held, and one that went quiet loses its hold', () => {
  const sparse = new AwakeWindow(0.4);
  sparse.setHold(5);
  for (let k = 0; k <= 40; k++) sparse.work(k * 1); // a message every 1 ms: average over the cap
  assert.is(sparse.awake(40.01), false);
  const quiet = new AwakeWindow(0.4);
  quiet.setHold(5);
  for (let k = 0; k <= 40; k++) quiet.work(k * 0.05);
  quiet.work(1000); // a message after a second of silence: the average jumps over the cap
  assert.is(quiet.awake(1000.1), false);
  // maxMs 0 turns the hold off too (SHOAL_NET_AWAKE_US=0 means never stay awake)
  const off = new AwakeWindow(0);
  off.setHold(5);
  for (let k = 0; k <= 40; k++) off.work(k * 0.001);
  assert.is(off.awake(0.05), false);
  try {
    off.setHold(-1);
    assert.unreachable('a negative hold accepted');
  } catch (e) {
    assert.instance(e, RangeError);
    assert.is((e as { code?: string }).code, 'ERR_OUT_OF_RANGE');
  }
});

test('rule 5: a preempted spin turns staying awake off, longer while preemptions recur', () => {
  const w = new AwakeWindow(0.4);
  w.setHold(5);
  for (let k = 0; k <= 40; k++) w.work(k * 0.05); // a busy peer: held
  assert.is(w.awake(2.01), true);
  w.preempted(2.01);
  assert.is(w.preemptions, 1);
  // off for SUSPEND_MIN_MS, hold included, even right after work
  w.work(2.02);
  assert.is(w.awake(2.03), false);
  assert.is(w.windowMsNow, 0);
  // back on once the suspension ends (the hold still applies)
  w.work(2.01 + SUSPEND_MIN_MS + 0.01);
  assert.is(w.awake(2.01 + SUSPEND_MIN_MS + 0.02), true);
  // preempted again soon after: the suspension doubles each time, up to SUSPEND_MAX_MS
  let at = 2.01 + SUSPEND_MIN_MS + 0.05;
  let last = SUSPEND_MIN_MS;
  for (let k = 0; k < 10; k++) {
    w.preempted(at);
    last = Math.min(SUSPEND_MAX_MS, last * 2);
    w.work(at + last - 0.01);
    assert.is(w.awake(at + last - 0.005), false, `suspension ${k} shorter than ${last} ms`);
    at += last + 0.01;
  }
  assert.is(last, SUSPEND_MAX_MS);
  // a lone preemption long after the last one is back to the shortest suspension
  at += 1000;
  for (let k = 0; k <= 100; k++) w.work(at + k * 0.05); // busy again: held again
  at += 5.01;
  w.preempted(at);
  w.work(at + SUSPEND_MIN_MS + 0.01);
  assert.is(w.awake(at + SUSPEND_MIN_MS + 0.02), true);
});

test.run();
