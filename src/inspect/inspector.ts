/**
 * The Inspector: one per runtime, created on first use. It holds what the inspection tools share
 * (the channel list, the metrics registry) and closes the REPL and metrics servers it opened when
 * the runtime closes.
 *
 * Runs on the main thread. Owns: a ChannelRegistry, a RuntimeMetrics, and the open REPL and
 * metrics servers.
 */
import { ClosedError } from '../core/errors.js';
import { ChannelRegistry } from './channel-registry.js';
import type { MetricsServeOptions, MetricsServer, RuntimeMetrics } from './metrics.js';
import type { ReplOptions, ReplServer } from './repl-server.js';
import type { InspectSource } from './source.js';

/** What the runtime gives the Inspector: its InspectSource minus the channels, which it keeps. */
export type RuntimeSource = Omit<InspectSource, 'channels'>;

/**
 * The inspection side of one runtime.
 *
 * @example
 * const insp = new Inspector({ rt, stats: () => rt.stats(), tasks: () => rt.tasks(), servers: () => [] });
 * const repl = await insp.repl({ port: 0 });
 * await insp.close();
 */
export class Inspector {
  readonly channels = new ChannelRegistry();
  private readonly src: InspectSource;
  private metricsOf: RuntimeMetrics | undefined;
  private readonly open = new Set<{ close(): Promise<void> }>();
  private closed = false;

  constructor(src: RuntimeSource) {
    this.src = { ...src, channels: () => this.channels.list() };
  }

  /**
   * Start a REPL server (repl-server.ts). node:repl is loaded on first use only: loading it
   * loads node:domain, which wraps EventEmitter.prototype.emit for the whole process.
   */
  repl(options?: ReplOptions): Promise<ReplServer> {
    return this.keep(async (onClosed) => (await import('./repl-server.js')).startRepl(this.src, options, onClosed));
  }

  /** The Prometheus text of this runtime's metrics (prom-client is loaded on first use). */
  async metrics(): Promise<string> {
    return (await this.metricsRegistry()).text();
  }

  /** Serve the metrics on `/metrics` of a separate port. */
  serveMetrics(options?: MetricsServeOptions): Promise<MetricsServer> {
    return this.keep(async (onClosed) => (await this.metricsRegistry()).serve(options, onClosed));
  }

  private async metricsRegistry(): Promise<RuntimeMetrics> {
    if (!this.metricsOf) {
      const { RuntimeMetrics } = await import('./metrics.js');
      this.metricsOf ??= new RuntimeMetrics(this.src);
    }
    return this.metricsOf;
  }

  /** Close every server opened here (the runtime is closing); later repl()/serveMetrics() reject. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.open].map((s) => s.close()));
  }

  private keep<S extends { close(): Promise<void> }>(make: (onClosed: () => void) => Promise<S>): Promise<S> {
    if (this.closed) return Promise.reject(new ClosedError('runtime is closed: cannot open a REPL or metrics server'));
    let handle: S | undefined;
    let closed = false;
    return make(() => {
      closed = true;
      if (handle) this.open.delete(handle);
    }).then((s) => {
      handle = s;
      if (this.closed) return s.close().then(() => Promise.reject(new ClosedError('runtime is closed')));
      if (!closed) this.open.add(s);
      return s;
    });
  }
}
