/**
 * The agent mailbox (src/agent/mailbox.ts): bounds and policies, seeded random sequences against
 * a model; option validation; handle types checked at compile time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Fifo, Mailbox, PARKED, REFUSED, SLID, TAKEN } from '../../src/agent/mailbox.js';
import { validateAgentOptions } from '../../src/agent/options.js';
import type { Agent, Runtime } from '../../src/index.js';

test('an unbounded mailbox takes everything in order', () => {
  const m = new Mailbox<number>();
  for (let i = 0; i < 5000; i++) assert.is(m.offer(i, false), TAKEN);
  for (let i = 0; i < 5000; i++) assert.is(m.take(), i);
  assert.is(m.take(), undefined);
});

test("'drop' refuses new messages while full; control messages always get in", () => {
  const m = new Mailbox<string>(2, 'drop');
  assert.is(m.offer('a', false), TAKEN);
  assert.is(m.offer('b', false), TAKEN);
  assert.is(m.offer('c', false), REFUSED);
  assert.is(m.offer('sync', true), TAKEN);
  assert.equal(m.clear(), ['a', 'b', 'sync']);
});

test("'slide' pushes the oldest out", () => {
  const m = new Mailbox<number>(3, 'slide');
  for (let i = 1; i <= 3; i++) m.offer(i, false);
  assert.is(m.offer(4, false), SLID);
  assert.is(m.slid, 1);
  assert.equal(m.clear(), [2, 3, 4]);
});

test("'slide' never pushes out a control message (a stop or sync) and does not count it", () => {
  const m = new Mailbox<string>(1, 'slide', (x) => x.startsWith('ctl'));
  assert.is(m.offer('ctl-stop', true), TAKEN);
  assert.is(m.offer('a', false), TAKEN); // the control message does not fill the box
  assert.is(m.offer('b', false), SLID);
  assert.is(m.slid, 'a');
  assert.equal(m.clear(), ['ctl-stop', 'b']);
});

test("'error' refuses while full", () => {
  const m = new Mailbox<number>(1, 'error');
  assert.is(m.offer(1, false), TAKEN);
  assert.is(m.offer(2, false), REFUSED);
  m.take();
  assert.is(m.offer(3, false), TAKEN);
});

test("'wait' parks messages behind the box and admits them one per take, in order", () => {
  const m = new Mailbox<number>(2, 'wait');
  assert.is(m.offer(1, false), TAKEN);
  assert.is(m.offer(2, false), TAKEN);
  assert.is(m.offer(3, false), PARKED);
  assert.is(m.offer(4, true), PARKED); // control stays behind parked messages too (FIFO)
  assert.is(m.total, 4);
  assert.is(m.take(), 1);
  assert.is(m.admitted, 3);
  assert.is(m.take(), 2);
  assert.is(m.admitted, 4);
  assert.is(m.take(), 3);
  assert.is(m.admitted, undefined);
  assert.is(m.take(), 4);
  assert.is(m.depth, 0);
});

test('seeded random offers and takes match a model for every policy', () => {
  const seed = Number(process.env.SHOAL_SEED ?? 0x5eed);
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
  for (const policy of ['wait', 'drop', 'slide', 'error'] as const) {
    const size = 1 + Math.floor(rnd() * 8);
    const m = new Mailbox<number>(size, policy);
    const box: number[] = [];
    const parked: number[] = [];
    const out: number[] = [];
    const model: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (rnd() < 0.55) {
        const r = m.offer(i, false);
        if (parked.length > 0 && policy === 'wait') {
          parked.push(i);
          assert.is(r, PARKED, `seed ${seed}`);
        } else if (box.length < size) {
          box.push(i);
          assert.is(r, TAKEN, `seed ${seed}`);
        } else if (policy === 'wait') {
          parked.push(i);
          assert.is(r, PARKED, `seed ${seed}`);
        } else if (policy === 'slide') {
          assert.is(m.slid, box.shift(), `seed ${seed}`);
          box.push(i);
        } else assert.is(r, REFUSED, `seed ${seed}`);
        assert.ok(m.depth <= size, `seed ${seed}: depth ${m.depth} > ${size}`);
      } else {
        const x = m.take();
        const y = box.shift();
        if (parked.length > 0 && box.length < size) box.push(parked.shift()!);
        if (x !== undefined) out.push(x);
        if (y !== undefined) model.push(y);
      }
    }
    assert.equal(out, model, `seed ${seed} policy ${policy}`);
  }
});

test('Fifo compacts and keeps order across many shifts', () => {
  const f = new Fifo<number>();
  let next = 0;
  let want = 0;
  for (let r = 0; r < 50; r++) {
    for (let i = 0; i < 3000; i++) f.push(next++);
    for (let i = 0; i < 2500; i++) assert.is(f.shift(), want++);
  }
  assert.is(f.length, next - want);
});

test('Fifo matches an array model across chunk boundaries, emptying and refilling (seeded)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const f = new Fifo<number>();
  const model: number[] = []; // read from `head` on (Array#shift on a long array is O(n))
  let head = 0;
  let next = 0;
  for (let step = 0; step < 4000; step++) {
    const burst = rnd(4) === 0 ? rnd(3000) : rnd(5);
    if (rnd(2) === 0) for (let i = 0; i < burst; i++) f.push(next), model.push(next++);
    else
      for (let i = 0; i < burst; i++) {
        assert.is(f.shift(), head < model.length ? model[head++] : undefined, `seed 12345, step ${step}`);
      }
    assert.is(f.length, model.length - head);
    assert.is(f.peek(), model[head]);
  }
  assert.equal(f.drain(), model.slice(head));
  assert.is(f.length, 0);
  f.push(1);
  assert.is(f.shift(), 1);
});

test('agent options are validated with the option named', () => {
  assert.throws(() => validateAgentOptions({ mailbox: { size: -1 } }, 2), /options\.mailbox\.size/);
  assert.throws(() => validateAgentOptions({ errorMode: 'explode' as 'fail' }, 2), /options\.errorMode.*'explode'/);
  assert.throws(() => validateAgentOptions({ callTimeout: -5 }, 2), /options\.callTimeout/);
  assert.throws(() => validateAgentOptions({ restart: { intensity: 1.5 } }, 2), /options\.restart\.intensity/);
  assert.throws(() => validateAgentOptions({ worker: 2 }, 2), /options\.worker/);
  assert.throws(() => validateAgentOptions({ interleave: [1 as unknown as string] }, 2), /options\.interleave/);
  const k1 = validateAgentOptions({ key: 'user-42' }, 4).worker;
  assert.is(validateAgentOptions({ key: 'user-42' }, 4).worker, k1);
  assert.ok(k1! >= 0 && k1! < 4);
  const d = validateAgentOptions(undefined, 2);
  assert.is(d.wire.errorMode, 'fail');
  assert.is(d.wire.size, Infinity);
  assert.is(d.callTimeout, 30_000);
  assert.equal(d.restart, { intensity: 1, period: 5000 });
});

class Acct {
  balance = 0;
  deposit(n: number): void {
    this.balance += n;
  }
  async get(): Promise<number> {
    return this.balance;
  }
}

test('handles are typed from the class (compile-time checks)', () => {
  const typed = async (a: Agent<typeof Acct>): Promise<number> => {
    await a.send('deposit', 5);
    // @ts-expect-error: wrong argument type
    await a.send('deposit', 'five');
    // @ts-expect-error: no such method
    await a.call('withdraw', 1);
    const n: number = await a.call('get');
    // @ts-expect-error: the result is a number
    const s: string = await a.call('get');
    void s;
    return n;
  };
  assert.type(typed, 'function');
  const made = async (rt: Runtime): Promise<void> => {
    await rt.agent<typeof Acct>('./acct.js', 'Acct', []);
    // @ts-expect-error: Acct's constructor takes no arguments
    await rt.agent<typeof Acct>('./acct.js', 'Acct', [1, 2]);
  };
  assert.type(made, 'function');
});

test.run();
