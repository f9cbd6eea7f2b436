/**
 * The Savina programs on a plain single-thread JS actor loop (the anchor "what one thread does
 * with no runtime at all"): actors are objects with a mailbox array; one run queue; a loop that
 * delivers until nothing is left. Also the same programs on nact (a Node actor library) where
 * they fit its API.
 *
 * Runs on the bench's main thread. Owns nothing between runs.
 */
import { dispatch, spawnStateless, start, stop } from 'nact';

type Handler = (msg: unknown[]) => void;

/** A minimal actor system: FIFO mailboxes, a run queue, delivery until quiet. */
class Loop {
  private readonly runq: Actor[] = [];
  msgs = 0;
  spawn(h: Handler): Actor {
    return new Actor(this, h);
  }
  schedule(a: Actor): void {
    this.runq.push(a);
  }
  run(): void {
    for (let i = 0; i < this.runq.length; i++) {
      const a = this.runq[i]!;
      a.queued = false;
      const box = a.box;
      a.box = [];
      for (const m of box) {
        this.msgs++;
        a.h(m);
      }
      if (i > 100_000) {
        this.runq.splice(0, i + 1);
        i = -1;
      }
    }
    this.runq.length = 0;
  }
}

class Actor {
  box: unknown[][] = [];
  queued = false;
  constructor(
    private readonly loop: Loop,
    readonly h: Handler,
  ) {}
  send(...m: unknown[]): void {
    this.box.push(m);
    if (!this.queued) {
      this.queued = true;
      this.loop.schedule(this);
    }
  }
}

/** Each returns the number of messages delivered. */
export const plain = {
  pingpong(n: number): number {
    const l = new Loop();
    let left = n;
    const ping: Actor = l.spawn(() => {
      if (--left > 0) pong.send();
    });
    const pong: Actor = l.spawn(() => ping.send());
    pong.send();
    l.run();
    return l.msgs;
  },
  counting(n: number): number {
    const l = new Loop();
    let c = 0;
    const counter = l.spawn(() => void c++);
    const producer = l.spawn(() => {
      for (let i = 0; i < n; i++) counter.send();
    });
    producer.send();
    l.run();
    if (c !== n) throw new Error('counting lost messages');
    return l.msgs - 1;
  },
  fjThroughput(actors: number, n: number): number {
    const l = new Loop();
    let x = 0;
    const ws = Array.from({ length: actors }, () => {
      let k = 0;
      return l.spawn(() => void (x += Math.sin(k++)));
    });
    for (let i = 0; i < n; i++) for (const w of ws) w.send();
    l.run();
    return l.msgs;
  },
  fjCreate(n: number): number {
    const l = new Loop();
    let x = 0;
    for (let i = 0; i < n; i++) l.spawn(() => void (x += Math.sin(i))).send();
    l.run();
    return l.msgs;
  },
  threadRing(actors: number, hops: number): number {
    const l = new Loop();
    const nodes: Actor[] = [];
    for (let i = 0; i < actors; i++) {
      nodes.push(
        l.spawn((m) => {
          const t = m[0] as number;
          if (t > 0) nodes[(i + 1) % actors]!.send(t - 1);
        }),
      );
    }
    nodes[0]!.send(hops);
    l.run();
    return l.msgs;
  },
  chameneos(count: number, meetings: number): number {
    const l = new Loop();
    let left = meetings;
    let waiting: [Actor, number] | undefined;
    const mall: Actor = l.spawn((m) => {
      const c = m[0] as Actor;
      const color = m[1] as number;
      if (left <= 0) return void c.send('stop');
      if (!waiting) return void (waiting = [c, color]);
      const [o, oc] = waiting;
      waiting = undefined;
      left--;
      o.send('met', oc === color ? oc : 3 - oc - color);
      c.send('met', oc === color ? oc : 3 - oc - color);
    });
    for (let i = 0; i < count; i++) {
      const self: Actor = l.spawn((m) => {
        if (m[0] === 'met') mall.send(self, m[1]);
      });
      mall.send(self, i % 3);
    }
    l.run();
    return l.msgs;
  },
  big(actors: number, n: number): number {
    const l = new Loop();
    const as: Actor[] = [];
    for (let i = 0; i < actors; i++) {
      let left = n;
      let seed = (i * 7919) | 1;
      const next = (): void => {
        seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
        as[seed % actors]!.send('ping', self);
      };
      const self: Actor = l.spawn((m) => {
        if (m[0] === 'go') next();
        else if (m[0] === 'ping') (m[1] as Actor).send('pong');
        else if (--left > 0) next();
      });
      as.push(self);
    }
    for (const a of as) a.send('go');
    l.run();
    return l.msgs - actors;
  },
  boundedBuffer(producers: number, consumers: number, items: number, size: number): number {
    // the buffer holds at most `size` items; a producer waits (is not resumed) while it is full
    const l = new Loop();
    const buf: number[] = [];
    const blocked: Actor[] = [];
    let got = 0;
    const cs = Array.from({ length: consumers }, () => l.spawn(() => void got++));
    let rr = 0;
    const bufA: Actor = l.spawn((m) => {
      if (m[0] === 'put') {
        buf.push(m[1] as number);
        cs[rr++ % consumers]!.send(buf.shift());
        const p = m[2] as Actor;
        if (buf.length < size) p.send('more');
        else blocked.push(p);
      }
    });
    for (let i = 0; i < producers; i++) {
      let left = items;
      const p: Actor = l.spawn(() => {
        if (left-- > 0) bufA.send('put', left, p);
      });
      p.send('more');
    }
    l.run();
    if (got !== producers * items) throw new Error('bounded buffer lost items');
    return got * 2;
  },
};

/** nact versions: each resolves with the number of messages delivered. */
export const nact = {
  async pingpong(n: number): Promise<number> {
    const sys = start();
    try {
      return await new Promise<number>((resolve) => {
        let left = n;
        // biome-ignore lint/suspicious/noExplicitAny: nact refs
        let pong: any;
        const ping = spawnStateless(sys, () => {
          if (--left > 0) dispatch(pong, 0);
          else resolve(2 * n);
        });
        pong = spawnStateless(sys, () => dispatch(ping, 0));
        dispatch(pong, 0);
      });
    } finally {
      stop(sys);
    }
  },
  async counting(n: number): Promise<number> {
    const sys = start();
    try {
      return await new Promise<number>((resolve) => {
        let c = 0;
        const counter = spawnStateless(sys, () => {
          if (++c === n) resolve(n);
        });
        for (let i = 0; i < n; i++) dispatch(counter, 0);
      });
    } finally {
      stop(sys);
    }
  },
  async fjThroughput(actors: number, n: number): Promise<number> {
    const sys = start();
    try {
      return await new Promise<number>((resolve) => {
        let total = 0;
        let x = 0;
        const ws = Array.from({ length: actors }, () => {
          let k = 0;
          return spawnStateless(sys, () => {
            x += Math.sin(k++);
            if (++total === actors * n) resolve(total + (Number.isNaN(x) ? 1 : 0));
          });
        });
        for (let i = 0; i < n; i++) for (const w of ws) dispatch(w, 0);
      });
    } finally {
      stop(sys);
    }
  },
  async threadRing(actors: number, hops: number): Promise<number> {
    const sys = start();
    try {
      return await new Promise<number>((resolve) => {
        // biome-ignore lint/suspicious/noExplicitAny: nact refs
        const nodes: any[] = [];
        for (let i = 0; i < actors; i++) {
          nodes.push(
            spawnStateless(sys, (t: number) => {
              if (t > 0) dispatch(nodes[(i + 1) % actors], t - 1);
              else resolve(hops + 1);
            }),
          );
        }
        dispatch(nodes[0], hops);
      });
    } finally {
      stop(sys);
    }
  },
};
