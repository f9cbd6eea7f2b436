/**
 * Resolve a load target's host name once, before the loaders start: every connection (and every
 * reconnection) then goes to one address, with no DNS lookup per connection. When a name has
 * several addresses (`localhost` is often ::1 and 127.0.0.1), the first that accepts a TCP
 * connection wins, as curl's fallback would find it: a server that listens on `localhost` binds
 * only one of them (Node binds ::1 where the system lists it first).
 *
 * Runs on the main thread. Owns the probe sockets it opens (each closed before it returns).
 */
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';

/** How long one probe connection may take before the next address is tried. */
const PROBE_MS = 1000;

/**
 * The address to connect to for `host`:`port`: `host` itself when it is an IP address; else the
 * first of its addresses that accepts a connection, or its first address when none does (the
 * run then reports the connection errors), or `host` when it does not resolve.
 *
 * @example
 * const addr = await resolveTarget('localhost', 3000); // '::1' or '127.0.0.1'
 */
export async function resolveTarget(host: string, port: number): Promise<string> {
  if (isIP(host)) return host;
  let addrs: string[];
  try {
    addrs = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return host; // every connection fails with the lookup's error, counted by the run
  }
  if (addrs.length <= 1) return addrs[0] ?? host;
  return firstAccepting(addrs, port);
}

/**
 * The first of `addrs` (IP addresses, tried in order) that accepts a TCP connection on `port`, or
 * `addrs[0]` when none does.
 *
 * @example
 * await firstAccepting(['::1', '127.0.0.1'], 3000);
 */
export async function firstAccepting(addrs: readonly string[], port: number): Promise<string> {
  for (const a of addrs) if (await accepts(a, port)) return a;
  return addrs[0]!;
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_MS);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
