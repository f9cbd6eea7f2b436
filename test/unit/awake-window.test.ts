/**
 * AwakeWindow, the reactor's and the net hosts' stay-awake policy, on a fake timeline (plain
 * numbers for performance.now(); no threads, no sleeps).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AwakeWindow } from '../../src/reactor/awake-window.js';

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

test('the kernel\'s wake-up delay is not counted as the peer\'s silence', () => {
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

test.run();
