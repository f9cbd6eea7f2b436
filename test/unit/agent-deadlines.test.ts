/**
 * Call deadlines (src/agent/deadlines.ts): entries expire in the order added, a removed entry
 * never expires, lists of different timeouts are independent, and entries added after an expiry
 * still expire (the list's timer re-arms). Real timers with short timeouts; nothing asserts how
 * long anything took.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Deadlines, type Timed } from '../../src/agent/deadlines.js';

// the deadline timers are unref'd (as main's are): hold the loop open while the tests wait
const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

interface E extends Timed {
  name: string;
}

function entry(name: string): E {
  return { name, dlNext: null, dlPrev: null, dlList: null, deadline: 0 };
}

function setup(): { d: Deadlines<E>; expired: string[]; next: () => Promise<string> } {
  const expired: string[] = [];
  let wake: ((n: string) => void) | undefined;
  const d = new Deadlines<E>((e) => {
    expired.push(e.name);
    wake?.(e.name);
  });
  return { d, expired, next: () => new Promise<string>((r) => (wake = r)) };
}

test('entries expire in the order added; a removed one never does', async () => {
  const { d, expired, next } = setup();
  const [a, b, c, e] = ['a', 'b', 'c', 'e'].map(entry) as [E, E, E, E];
  for (const x of [a, b, c, e]) d.add(x, 5);
  d.remove(b);
  d.remove(b); // twice: harmless
  while (expired.length < 3) await next();
  assert.equal(expired, ['a', 'c', 'e']);
  assert.is(b.dlList, null);
  d.clear();
});

test('lists of different timeouts expire independently, and a list re-arms after it empties', async () => {
  const { d, expired, next } = setup();
  d.add(entry('long'), 40);
  d.add(entry('short'), 2);
  while (expired.length < 1) await next();
  assert.equal(expired, ['short']);
  d.add(entry('short again'), 2); // the 2 ms list's timer fired and found it empty: this re-arms it
  while (expired.length < 3) await next();
  assert.equal(expired, ['short', 'short again', 'long']);
  d.clear();
});

test('clear() stops every timer: nothing expires afterwards', async () => {
  const { d, expired } = setup();
  d.add(entry('x'), 1);
  d.clear();
  await new Promise<void>((r) => setTimeout(r, 20)); // a timer that would have fired by now
  assert.equal(expired, []);
});

test.run();
