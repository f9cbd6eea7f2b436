/**
 * The channels a runtime made with `rt.channel()`, held weakly so that listing them in the REPL
 * (`.channels`) never keeps one alive.
 *
 * Runs on the main thread. Owns: a map of id -> WeakRef and the FinalizationRegistry that prunes it.
 */
import type { ChanStats } from '../core/chan.js';
import type { ChannelEntry } from './source.js';

interface Tracked {
  stats(): ChanStats;
}

/**
 * Weak list of channels for the inspection views.
 *
 * @example
 * const reg = new ChannelRegistry();
 * reg.track(ch, 'shared');
 * for (const c of reg.list()) console.log(c.id, c.stats().buffered);
 */
export class ChannelRegistry {
  private next = 1;
  private readonly refs = new Map<number, { ref: WeakRef<Tracked>; transport: string }>();
  private readonly gone = new FinalizationRegistry<number>((id) => this.refs.delete(id));

  /** Remember `ch` (weakly); returns it. */
  track<C extends Tracked>(ch: C, transport: string): C {
    const id = this.next++;
    this.refs.set(id, { ref: new WeakRef(ch), transport });
    this.gone.register(ch, id);
    return ch;
  }

  /** The channels still alive, oldest first. */
  *list(): Generator<ChannelEntry> {
    for (const [id, { ref, transport }] of this.refs) {
      const ch = ref.deref();
      if (ch === undefined) {
        this.refs.delete(id);
        continue;
      }
      yield { id, transport, stats: () => ch.stats() };
    }
  }
}
