/**
 * The Savina micro-benchmarks as shoal agents (classes loaded on pool workers by
 * perf/agent-savina.bench.ts). Each program has a leader whose `run(...)` turn resolves when the
 * program ends; the messages that end it (`finish`, `pong`...) are listed in `interleave`, so they
 * run while `run` awaits.
 *
 * Runs on pool workers. Owns nothing beyond each agent's fields.
 */
import { currentAgent, type Agent } from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: the bench passes handles of several classes
type H = Agent<any>;

/** PingPong: Ping sends `ping`, Pong answers `pong`, n times. */
export class Ping {
  private readonly me = currentAgent<H>()!;
  private peer: H | undefined;
  private left = 0;
  private done: ((n: number) => void) | undefined;
  run(pong: H, n: number): Promise<number> {
    this.peer = pong;
    this.left = n;
    pong.send('setPeer', this.me);
    pong.send('ping');
    return new Promise((r) => (this.done = r));
  }
  pong(): void {
    if (--this.left > 0) this.peer!.send('ping');
    else this.done!(0);
  }
}

export class Pong {
  private peer: H | undefined;
  setPeer(p: H): void {
    this.peer = p;
  }
  ping(): void {
    this.peer!.send('pong');
  }
}

/** Counting: a producer sends n increments, then asks for the count. */
export class Counter {
  n = 0;
  inc(): void {
    this.n++;
  }
  get(): number {
    return this.n;
  }
}

export class Producer {
  async run(counter: H, n: number): Promise<number> {
    for (let i = 0; i < n; i++) counter.send('inc');
    return counter.call('get');
  }
}

/** Fork-join: an actor that does a little arithmetic per message. */
export class FjWorker {
  x = 0;
  n = 0;
  work(): void {
    this.x += Math.sin(this.n++);
  }
  count(): number {
    return this.n;
  }
}

/** ThreadRing: a token passed around the ring n times; the node that sees 0 tells the leader. */
export class RingNode {
  private next: H | undefined;
  private leader: H | undefined;
  link(next: H, leader: H): void {
    this.next = next;
    this.leader = leader;
  }
  token(n: number): void {
    if (n === 0) this.leader!.send('finish', 0);
    else this.next!.send('token', n - 1);
  }
}

/** The leader every multi-actor program reports to: `run` waits for `expect` finishes. */
export class Leader {
  private readonly me = currentAgent<H>()!;
  private left = 0;
  private sum = 0;
  private done: ((n: number) => void) | undefined;
  handle(): H {
    return this.me;
  }
  wait(expect: number): Promise<number> {
    this.left = expect;
    this.sum = 0;
    return new Promise((r) => (this.done = r));
  }
  finish(v: number): void {
    this.sum += v;
    if (--this.left === 0) this.done!(this.sum);
  }
}

const COLORS = 3;
function complement(a: number, b: number): number {
  return a === b ? a : 3 - a - b;
}

/** Chameneos: the mall pairs creatures until n meetings happened. */
export class Mall {
  private readonly me = currentAgent<H>()!;
  private left = 0;
  private waiting: [H, number] | undefined;
  private faded = 0;
  private total = 0;
  msgs = 0;
  private leader: H | undefined;
  start(chams: H[], n: number, leader: H): void {
    this.left = n;
    this.total = chams.length;
    this.leader = leader;
    for (let i = 0; i < chams.length; i++) chams[i]!.send('start', this.me, i % COLORS);
  }
  meet(c: H, color: number): void {
    this.msgs++;
    if (this.left <= 0) {
      this.msgs++;
      c.send('stop');
      if (++this.faded === this.total) this.leader!.send('finish', this.msgs);
      return;
    }
    if (this.waiting === undefined) {
      this.waiting = [c, color];
      return;
    }
    const [o, oc] = this.waiting;
    this.waiting = undefined;
    this.left--;
    this.msgs += 2;
    o.send('met', complement(oc, color));
    c.send('met', complement(color, oc));
  }
}

export class Chameneo {
  private readonly me = currentAgent<H>()!;
  private mall: H | undefined;
  private color = 0;
  start(mall: H, color: number): void {
    this.mall = mall;
    this.color = color;
    mall.send('meet', this.me, color);
  }
  met(color: number): void {
    this.color = color;
    this.mall!.send('meet', this.me, this.color);
  }
  stop(): void {}
}

/** Big: each actor pings random peers n times, each ping answered by a pong. */
export class BigActor {
  private readonly me = currentAgent<H>()!;
  private peers: H[] = [];
  private left = 0;
  private leader: H | undefined;
  private seed = 1;
  setup(peers: H[], n: number, leader: H, seed: number): void {
    this.peers = peers;
    this.left = n;
    this.leader = leader;
    this.seed = seed | 1;
  }
  go(): void {
    this.next();
  }
  ping(from: H): void {
    from.send('pong');
  }
  pong(): void {
    if (--this.left === 0) this.leader!.send('finish', 0);
    else this.next();
  }
  private next(): void {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) & 0x7fffffff;
    this.peers[this.seed % this.peers.length]!.send('ping', this.me);
  }
}

/** Bounded buffer: producers put into a buffer agent with a bounded mailbox (policy 'wait'). */
export class BufferAgent {
  private consumers: H[] = [];
  private i = 0;
  setConsumers(c: H[]): void {
    this.consumers = c;
  }
  put(x: number): void {
    this.consumers[this.i++ % this.consumers.length]!.send('consume', x);
  }
}

export class BbProducer {
  async run(buf: H, items: number): Promise<number> {
    for (let i = 0; i < items; i++) await buf.send('put', i);
    return items;
  }
}

export class BbConsumer {
  private left = 0;
  private leader: H | undefined;
  setup(expect: number, leader: H): void {
    this.left = expect;
    this.leader = leader;
  }
  consume(x: number): void {
    void x;
    if (--this.left === 0) this.leader!.send('finish', 0);
  }
}
