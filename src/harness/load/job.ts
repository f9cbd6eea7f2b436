/**
 * What the load coordinator hands each loader worker (`LoaderJob`) and what a loader hands back
 * (`LoaderResult`), plus the shared progress words.
 *
 * Shared by src/harness/load/main.ts (coordinator, main thread) and worker.ts (loader tasks on
 * pool workers).
 *
 * Progress words — one Int32Array over a SharedArrayBuffer, PROGRESS_WORDS words per loader:
 *
 * | idx (+ loader*5) | name      | written by            | read by              | meaning                         |
 * |------------------|-----------|-----------------------|----------------------|---------------------------------|
 * | 0                | DONE      | its loader (store)    | coordinator (load)   | responses completed so far      |
 * | 1                | ERRORS    | its loader (store)    | coordinator (load)   | failed requests so far          |
 * | 2                | CONNECTED | its loader (store)    | coordinator (load)   | connections open now            |
 * | 3                | STOP      | coordinator (store 1) | its loader (load)    | end the run now, report so far  |
 * | 4                | THREAD    | its loader (store)    | the other loaders    | threadId + 1 (0: not started)   |
 *
 * 1. Each loader writes only its DONE, ERRORS and CONNECTED words, every PROGRESS_MS and once at
 *    the end; it reads STOP at the same pace (so a stop takes effect within PROGRESS_MS).
 * 2. The coordinator writes only STOP, from 0 to 1, once.
 * 3. DONE/ERRORS/CONNECTED are for the live progress line only; the figures of the report come
 *    from the loader's result, never from these words.
 * 4. THREAD is written once, when the loader starts, and only after it checked that no other
 *    loader of the run holds its thread (worker.ts claimThread). Two loaders on one thread run
 *    one after the other, so the second always sees the first's word; loaders on different
 *    threads never write the same value, so no race between threads can make a duplicate.
 */

/** Int32 words per loader in the progress array. */
export const PROGRESS_WORDS = 5;
export const P_DONE = 0;
export const P_ERRORS = 1;
export const P_CONNECTED = 2;
export const P_STOP = 3;
export const P_THREAD = 4;
/** How often a loader publishes its progress words. */
export const PROGRESS_MS = 100;

/** The target of a run, checked and its request bytes built once (target.ts parseTarget). */
export interface Target {
  /** 'http': HTTP/1.1 responses are parsed; 'tcp': a response is `expectBytes` bytes */
  kind: 'http' | 'tcp';
  host: string;
  port: number;
  /** the bytes of one request (a whole HTTP/1.1 request, or the TCP payload) */
  request: Uint8Array;
  /** tcp: bytes that make one response (default: the payload's length) */
  expectBytes: number;
  /** http: the request is HEAD (its responses have no body) */
  head: boolean;
  /** https://: TLS on every connection (node:tls on the loader's thread) */
  tls: boolean;
  /** https://: the name the certificate is checked against (SNI), and whether any certificate goes */
  servername: string;
  insecure: boolean;
}

/** One loader's share of the run: the target and its part of the connections and schedule. */
export interface LoaderJob extends Target {
  /** connections this loader opens */
  conns: number;
  /** index of this loader's first connection among all connections (spreads send phases) */
  firstConn: number;
  /** every connection of the run, all loaders together */
  totalConns: number;
  /** requests in flight per connection */
  pipeline: number;
  /** how long to send, in ms */
  durationMs: number;
  /** 0: closed loop; otherwise requests per second per connection, on a fixed schedule */
  ratePerConn: number;
  /** after the duration, how long to wait for responses still in flight before giving up */
  drainMs: number;
  /** progress words (see the table above) */
  progress: Int32Array;
  /** this loader's index in `progress` */
  slot: number;
  /** loaders in the run (slots in `progress`) */
  loaders: number;
  /** give the task back (`{ moved: true }`) when another loader of the run holds this thread */
  spread: boolean;
}

/** What a loader returns instead of running when its thread already holds a loader of the run. */
export interface LoaderMoved {
  moved: true;
}

/** What one loader returns. */
export interface LoaderResult {
  /** latencies in µs, hdr-histogram-js compressed base64 */
  histogram: string;
  /** responses completed */
  requests: number;
  /** requests sent (written to a socket) */
  sent: number;
  /** requests that failed: the connection broke (or never opened) with them in flight, or they
   *  were still unanswered when the drain time ran out */
  errors: number;
  /** errors by cause: ECONNRESET, ECONNREFUSED, closed (the server closed with requests in
   *  flight), timeout (unanswered at the end), parse (an invalid response)... */
  errorKinds: Record<string, number>;
  /** http: responses by status code */
  statuses: Record<string, number>;
  bytesRead: number;
  bytesWritten: number;
  /** connections opened, reconnections included */
  connects: number;
  /** ms from the first send to the last response (or the end of the drain) */
  elapsedMs: number;
  /** when this loader's clock started, ms since the epoch (performance.timeOrigin + now): loaders
   *  on several threads start at slightly different times, and the run spans all of them */
  startedAt: number;
  /** the worker thread that ran this loader */
  threadId: number;
}

/** Options of runLoad (the flags of `shoal load`). */
export interface LoadTestOptions {
  /** `http://host:port/path`, `https://host:port/path` or `tcp://host:port` */
  url: string;
  /** https: accept any certificate (a self-signed test server), as `curl -k` does (default false) */
  insecure?: boolean;
  /** connections, spread over the loaders (default 10) */
  connections?: number;
  /** how long to send, ms (default 10000) */
  durationMs?: number;
  /** total requests per second on a fixed schedule, latency measured from each request's due time
   *  (default: closed loop, as fast as the server answers) */
  rate?: number;
  /** requests in flight per connection (default 1) */
  pipeline?: number;
  /** HTTP method (default GET, or POST when there is a body) */
  method?: string;
  /** extra HTTP headers: an object, `[name, value]` pairs, a Headers or a Map */
  headers?: Record<string, string> | Iterable<readonly [string, string]>;
  /** HTTP request body */
  body?: string | Uint8Array;
  /** tcp: the bytes of one request (required for tcp://) */
  payload?: string | Uint8Array;
  /** tcp: bytes that make one response (default: the payload's length, as an echo answers) */
  responseBytes?: number;
  /** loader tasks (default 1; at most one per connection): one per pool worker is the intent */
  loaders?: number;
  /** after the duration, how long to wait for responses in flight, ms (default 2000) */
  drainMs?: number;
  /** end the run early (within ~100 ms); the report holds the figures up to then */
  signal?: AbortSignal;
  /** called about every 250 ms while the run lasts */
  onProgress?: (p: LoadProgress) => void;
}

/** A live view of a run (from the loaders' progress words). */
export interface LoadProgress {
  requests: number;
  errors: number;
  connected: number;
  elapsedMs: number;
}
