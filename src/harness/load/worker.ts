/**
 * The loader: one task on a pool worker that owns `job.conns` connections, opened with node:net
 * on this worker thread itself, and drives requests over them for the run's duration.
 *
 * Runs on a pool worker (started by src/harness/load/main.ts through `rt.run`). Owns its sockets,
 * their parsers, its latency histogram, and its four progress words (src/harness/load/job.ts).
 *
 * One connection's life, in order:
 *   1. connect (noDelay; https: node:tls on this thread, requests once the handshake is done;
 *      replies are read into one scratch buffer per thread through `onread`,
 *      so a reply costs no Buffer and no 'data' event);
 *   2. send: closed loop — keep `pipeline` requests in flight, one more per response; constant
 *      rate — the schedule starts (t0) once every connection is open, or after SCHEDULE_WAIT_MS;
 *      request k of connection i is due at `t0 + (i / totalConns + k) / ratePerConn`, and is
 *      sent at that time if fewer than `pipeline` are in flight, else as soon as a response frees a
 *      place. Latency is measured from the time a request was DUE, not from when it could be sent
 *      (wrk2's correction of coordinated omission): a stalled server delays every request due
 *      during the stall, and the percentiles show it;
 *   3. each response (HTTP/1.1 framed by llhttp in wasm, ./llhttp.ts; TCP: every `expectBytes` bytes) records
 *      its latency and frees a place;
 *   4. on a reset, a close or an invalid response, the requests in flight are counted as errors
 *      and the connection is opened again (after a short backoff when it failed before answering);
 *   5. at the end of the duration no new request is sent (constant rate: none due later); the
 *      loader waits up to `drainMs` for the ones in flight, counts the rest as timeouts and
 *      closes every socket.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { ResponseParser } from './llhttp.js';
import { fastIo, type StreamHandle } from './fast-io.js';
import { encodeHistogram, LatencyRecorder } from './histogram.js';
import {
  P_CONNECTED,
  P_DONE,
  P_ERRORS,
  P_STOP,
  P_THREAD,
  PROGRESS_MS,
  PROGRESS_WORDS,
  type LoaderJob,
  type LoaderMoved,
  type LoaderResult,
} from './job.js';

/**
 * The task: run one loader to the end and return its figures. Cancelling the task (its signal)
 * ends the run early, with the figures so far. With `job.spread`, a loader whose thread already
 * runs another loader of the same run returns `{ moved: true }` at once, without opening a
 * connection: the pool may hand two tasks to one worker (a sibling still booting, or busy for a
 * few ms on a loaded machine), and two loaders on one thread halve the load (main.ts retries).
 *
 * @example
 * const r = await rt.run(new URL('./worker.js', import.meta.url), 'runLoader', [job]);
 */
export function runLoader(
  this: { signal?: AbortSignal } | undefined,
  job: LoaderJob,
): Promise<LoaderResult | LoaderMoved> {
  if (!claimThread(job) && job.spread) return Promise.resolve({ moved: true });
  return new Loader(job, this?.signal).run();
}

/**
 * Record this thread in the job's THREAD word, unless another loader of the run holds it; true
 * when no other loader of the run was found on this thread (job.ts, invariant 4).
 */
function claimThread(job: LoaderJob): boolean {
  const w = job.progress;
  const me = threadId + 1; // the main thread's id is 0, and 0 is "not started"
  for (let s = 0; s < job.loaders; s++) {
    // pairs with: the Atomics.store below, run by the other loaders of this run
    if (s !== job.slot && Atomics.load(w, s * PROGRESS_WORDS + P_THREAD) === me) return false;
  }
  Atomics.store(w, job.slot * PROGRESS_WORDS + P_THREAD, me); // pairs with: the load above
  return true;
}

/** One connection's state. */
class LoadConn {
  readonly index: number;
  sock: Socket | undefined;
  parser: ResponseParser | undefined;
  /** due (constant rate) or send (closed loop) times of the requests in flight, a ring */
  readonly times: Float64Array;
  head = 0;
  inFlight = 0;
  /** requests queued by this turn, written in one write by flush() */
  unflushed = 0;
  /** constant rate: when the next request is due */
  nextAt = 0;
  timer: NodeJS.Timeout | undefined;
  connected = false;
  /** consecutive connection attempts that ended before any response */
  failStreak = 0;
  lastError: string | undefined;
  /** constant rate: why the last attempt to connect failed (cleared once connected); the requests
   *  that fall due while the connection cannot open are counted under it */
  connectError: string | undefined;
  status = 0;
  /** the server said it closes this connection (Connection: close): send nothing more on it */
  closing = false;
  /** tcp: bytes of the current response received so far */
  partial = 0;
  /** plain TCP: the socket's handle, written directly (fast-io.ts); undefined: node:net's write */
  handle: StreamHandle | undefined;

  constructor(index: number, pipeline: number) {
    this.index = index;
    this.times = new Float64Array(pipeline);
  }
}

/** A 1xx status other than 101 (Switching Protocols, which ends HTTP on the connection). */
function interim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

/** Constant rate: the longest wait for every connection to open before the schedule starts. */
const SCHEDULE_WAIT_MS = 1000;

/** A reused buffer for every reply on this thread: onread callbacks run one at a time. */
let scratch: Buffer | undefined;

class Loader {
  private readonly job: LoaderJob;
  private readonly signal: AbortSignal | undefined;
  private readonly hist = new LatencyRecorder();
  private readonly io = fastIo();
  private readonly conns: LoadConn[] = [];
  /** batches[k]: k requests back to back, so k sends cost one write */
  private readonly batches: Buffer[] = [];
  private readonly interval: number;
  private readonly closedLoop: boolean;
  private requests = 0;
  private sent = 0;
  private errors = 0;
  private readonly errorKinds: Record<string, number> = {};
  private readonly statuses: Record<string, number> = {};
  private bytesRead = 0;
  private bytesWritten = 0;
  private connects = 0;
  private connectedNow = 0;
  private t0 = 0;
  private deadline = Infinity;
  private stopping = false;
  private finished = false;
  private lastResponseAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  /** the clock (t0) has started: always for a closed loop, once connected for a schedule */
  private started = false;
  /** ended early by the user: requests cut in flight are not counted as errors */
  private aborted = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private resolve!: (r: LoaderResult) => void;

  constructor(job: LoaderJob, signal: AbortSignal | undefined) {
    this.job = job;
    this.signal = signal;
    this.closedLoop = !(job.ratePerConn > 0);
    this.interval = this.closedLoop ? 0 : 1000 / job.ratePerConn;
    const one = Buffer.from(job.request.buffer, job.request.byteOffset, job.request.byteLength);
    for (let k = 0; k <= job.pipeline; k++) this.batches.push(Buffer.concat(Array.from({ length: k }, () => one)));
    scratch ??= Buffer.allocUnsafe(64 * 1024);
  }

  run(): Promise<LoaderResult> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      const { job } = this;
      this.t0 = performance.now(); // set again when the schedule starts
      // aborted before it began (a signal already aborted): open nothing, report nothing sent
      // pairs with: main.ts runLoad's onAbort (Atomics.store STOP)
      if (this.signal?.aborted || Atomics.load(job.progress, job.slot * PROGRESS_WORDS + P_STOP) !== 0) {
        this.aborted = true;
        this.finish();
        return;
      }
      for (let i = 0; i < job.conns; i++) {
        const c = new LoadConn(job.firstConn + i, job.pipeline);
        c.nextAt = Infinity; // constant rate: nothing is due before the schedule starts
        this.conns.push(c);
        this.open(c);
      }
      this.progressTimer = setInterval(() => this.publish(), PROGRESS_MS);
      // a closed loop starts at once; a schedule once every connection is open (or after
      // SCHEDULE_WAIT_MS): a request due while its connection was still being opened would count
      // the connect and the loader's own warm-up as the server's latency
      if (this.closedLoop) this.startSchedule();
      else this.startTimer = setTimeout(() => this.startSchedule(), Math.min(SCHEDULE_WAIT_MS, job.durationMs));
      this.signal?.addEventListener('abort', () => this.abort(), { once: true });
    });
  }

  /** t0: the run's clock starts; each connection's first request falls due (constant rate). */
  private startSchedule(): void {
    if (this.started || this.finished) return;
    this.started = true;
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    const { job } = this;
    this.t0 = performance.now();
    this.deadline = this.t0 + job.durationMs;
    this.stopTimer = setTimeout(() => this.stop(job.drainMs), job.durationMs);
    if (this.closedLoop) return;
    for (const c of this.conns) {
      // spread the connections' schedules over one interval, so they do not send in bursts
      c.nextAt = this.t0 + (this.interval * c.index) / job.totalConns;
      this.pump(c);
    }
  }

  private open(c: LoadConn): void {
    const { job } = this;
    const onread = { buffer: scratch!, callback: (n: number, buf: Buffer) => this.onData(c, n, buf) };
    const sock = job.tls
      ? tlsConnect({
          host: job.host,
          port: job.port,
          servername: job.servername || undefined,
          rejectUnauthorized: !job.insecure,
          onread, // node:tls takes onread as node:net does (Node's types leave it out)
        } as ConnectionOptions).setNoDelay(true)
      : connect({ host: job.host, port: job.port, noDelay: true, onread });
    c.sock = sock;
    // plain TCP: reads and writes on the socket's handle, past node:net's stream layers (fast-io.ts)
    c.handle = job.tls ? undefined : this.io?.takeReads(sock, (n) => this.onData(c, n, scratch!));
    c.lastError = undefined;
    c.partial = 0;
    c.closing = false;
    if (job.kind === 'http') (c.parser ??= this.makeParser(c)).reset();
    // TLS: requests go out once the handshake is done (a certificate refused is an 'error')
    sock.on(job.tls ? 'secureConnect' : 'connect', () => {
      c.connected = true;
      c.connectError = undefined;
      this.connects++;
      this.connectedNow++;
      if (!this.started && this.connectedNow === this.conns.length) this.startSchedule();
      this.kick(c);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      c.lastError = e.code ?? 'error';
    });
    sock.on('close', () => this.onClose(c, sock));
  }

  private makeParser(c: LoadConn): ResponseParser {
    const head = this.job.head;
    return new ResponseParser({
      onHead: (status, keepAlive) => {
        c.status = status;
        if (!keepAlive && !interim(status)) c.closing = true;
        return head; // a response to HEAD has no body
      },
      // an interim response (100 Continue to `Expect: 100-continue`, 103 Early Hints) comes
      // before the request's real one: it answers nothing
      onComplete: () => {
        if (!interim(c.status)) this.complete(c, c.status);
      },
    });
  }

  /** A connection is ready: fill its pipeline (closed loop) or start its schedule. */
  private kick(c: LoadConn): void {
    if (this.closedLoop) {
      if (this.stopping) return;
      const t = performance.now();
      while (c.inFlight < this.job.pipeline) this.queue(c, t);
      this.flush(c);
    } else {
      this.pump(c);
    }
  }

  /** Constant rate: send every request due now that fits in the pipeline; else wait for its time. */
  private pump(c: LoadConn): void {
    if (!c.connected || this.finished || c.closing) return;
    const t = performance.now();
    const p = this.job.pipeline;
    while (c.inFlight < p && c.nextAt <= t && c.nextAt < this.deadline) {
      this.queue(c, c.nextAt);
      c.nextAt += this.interval;
    }
    this.flush(c);
    if (c.inFlight < p && c.nextAt < this.deadline && c.timer === undefined) {
      c.timer = setTimeout(
        () => {
          c.timer = undefined;
          this.pump(c);
        },
        Math.max(0, c.nextAt - t),
      );
    }
  }

  private queue(c: LoadConn, at: number): void {
    const p = this.job.pipeline;
    c.times[(c.head + c.inFlight) % p] = at;
    c.inFlight++;
    c.unflushed++;
  }

  private flush(c: LoadConn): void {
    const k = c.unflushed;
    if (k === 0) return;
    c.unflushed = 0;
    const b = this.batches[k]!;
    this.sent += k;
    this.bytesWritten += b.length;
    if (c.handle === undefined || !this.io!.write(c.sock!, c.handle, b)) c.sock!.write(b);
  }

  private onData(c: LoadConn, n: number, buf: Buffer): boolean {
    this.bytesRead += n;
    if (this.job.kind === 'http') {
      if (c.parser!.execute(buf, n) !== undefined) {
        // after a response that said Connection: close, llhttp refuses any further byte (node:http
        // answers pipelined requests past maxRequestsPerSocket so): the server closed this
        // connection, and the requests still in flight on it are lost to that, not to a bad reply
        c.lastError = c.closing ? 'closed' : 'parse';
        c.sock!.destroy();
        return false;
      }
    } else {
      const expect = this.job.expectBytes;
      let got = c.partial + n;
      while (got >= expect) {
        got -= expect;
        this.complete(c, 0);
      }
      c.partial = got;
    }
    if (c.unflushed > 0) this.flush(c);
    return true;
  }

  /** A response arrived on `c`. */
  private complete(c: LoadConn, status: number): void {
    if (c.inFlight - c.unflushed <= 0) {
      // a response nobody asked for (none sent is unanswered; the requests queued in this read
      // are not sent yet): the server is not speaking request/response
      c.lastError = 'unexpected-response';
      c.sock!.destroy();
      return;
    }
    const t = performance.now();
    const p = this.job.pipeline;
    this.hist.recordMs(t - c.times[c.head]!);
    c.head = (c.head + 1) % p;
    c.inFlight--;
    this.requests++;
    this.lastResponseAt = t;
    c.failStreak = 0;
    if (status !== 0) this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (c.closing) {
      // the server closes after this response: the next requests go on a new connection, opened
      // as soon as this one is closed (by us: no need to wait for the server's FIN)
      if (c.inFlight === 0) c.sock?.destroy();
    } else if (this.closedLoop) {
      if (!this.stopping)
        this.queue(c, t); // flushed by onData after the whole chunk is parsed
      else if (c.inFlight === 0) this.maybeDone();
    } else {
      if (c.inFlight < p && c.nextAt <= t) {
        // catching up on requests that fell due while the pipeline was full
        while (c.inFlight < p && c.nextAt <= t && c.nextAt < this.deadline) {
          this.queue(c, c.nextAt);
          c.nextAt += this.interval;
        }
      } else if (c.timer === undefined && c.nextAt < this.deadline && c.inFlight < p) {
        this.pump(c);
      }
      if (this.stopping && c.inFlight === 0) this.maybeDone();
    }
  }

  private onClose(c: LoadConn, sock: Socket): void {
    if (c.sock !== sock) return;
    // a response without a length ends with the connection (llhttp completes it here)
    if (c.parser !== undefined && c.inFlight > 0 && c.connected && !this.finished) c.parser.finish();
    c.sock = undefined;
    if (c.timer !== undefined) clearTimeout(c.timer);
    c.timer = undefined;
    const wasConnected = c.connected;
    c.connected = false;
    if (this.finished) return;
    if (wasConnected) this.connectedNow--;
    // requests in flight are lost; in a closed loop, a connection that never opened costs one
    // error per attempt; at a constant rate, the requests that fall due meanwhile are the errors
    // (counted when the connection opens and sends them, or at the end under connectError)
    if (!wasConnected) c.connectError = c.lastError ?? 'closed';
    const lost = c.inFlight > 0 ? c.inFlight : wasConnected || !this.closedLoop ? 0 : 1;
    if (lost > 0) this.fail(c.lastError ?? 'closed', lost);
    c.inFlight = 0;
    c.head = 0;
    c.unflushed = 0;
    if (!wasConnected || lost > 0) c.failStreak++;
    if (this.stopping && (this.closedLoop || c.nextAt >= this.deadline)) {
      this.maybeDone();
      return;
    }
    const delay = c.failStreak > 1 ? Math.min(100, 2 ** c.failStreak) : 0;
    setTimeout(() => {
      if (!this.finished) this.open(c);
    }, delay);
  }

  private fail(kind: string, n: number): void {
    this.errors += n;
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + n;
  }

  /**
   * The user ended the run early (runLoad's signal, the CLI's Ctrl-C): nothing falls due after
   * now, and the requests in flight were cut by the abort, not lost by the server, so they are
   * neither requests nor errors.
   */
  private abort(): void {
    if (this.finished) return;
    this.aborted = true;
    if (this.started) this.deadline = Math.min(this.deadline, performance.now());
    this.stop(0);
  }

  /** The duration is over: stop sending, wait up to `drainMs` for responses in flight. */
  private stop(drainMs: number): void {
    if (this.finished) return;
    this.stopping = true;
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    if (this.stopTimer !== undefined) clearTimeout(this.stopTimer);
    if (this.closedLoop) for (const c of this.conns) c.unflushed = 0;
    if (drainMs <= 0) {
      this.finish();
      return;
    }
    this.drainTimer ??= setTimeout(() => this.finish(), drainMs);
    this.maybeDone();
  }

  private maybeDone(): void {
    if (!this.stopping || this.finished) return;
    for (const c of this.conns) {
      if (c.inFlight > 0) return;
      if (!this.closedLoop && c.nextAt < this.deadline) return; // requests still due (backlog)
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const end = performance.now();
    clearInterval(this.progressTimer);
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    if (this.stopTimer !== undefined) clearTimeout(this.stopTimer);
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    for (const c of this.conns) {
      if (c.timer !== undefined) clearTimeout(c.timer);
      if (c.inFlight > 0 && !this.aborted) this.fail('timeout', c.inFlight);
      // (after an abort, a request due but not sent yet on an open connection was cut by it too)
      if (!this.closedLoop && !(this.aborted && c.connected)) {
        // due within the run but never sent: the server held the connection until the end
        // (timeout), or the connection could not open (its error, such as ECONNREFUSED)
        let unsent = 0;
        for (let t = c.nextAt; t < this.deadline; t += this.interval) unsent++;
        if (unsent > 0) this.fail(c.connected ? 'timeout' : (c.connectError ?? 'timeout'), unsent);
      }
      c.sock?.destroy();
      // freed after this turn: finish() can run inside a parser callback (the last response
      // completes the run), and llhttp must not go on parsing in memory already freed
      const parser = c.parser;
      if (parser !== undefined) setImmediate(() => parser.free());
      c.parser = undefined;
    }
    this.connectedNow = 0;
    this.publish();
    const lastUseful = this.lastResponseAt > 0 ? Math.max(this.lastResponseAt, Math.min(end, this.deadline)) : end;
    this.resolve({
      histogram: encodeHistogram(this.hist.flush()),
      requests: this.requests,
      sent: this.sent,
      errors: this.errors,
      errorKinds: this.errorKinds,
      statuses: this.statuses,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      connects: this.connects,
      elapsedMs: lastUseful - this.t0,
      startedAt: performance.timeOrigin + this.t0,
      threadId,
    });
    this.hist.destroy();
  }

  private publish(): void {
    const w = this.job.progress;
    const base = this.job.slot * PROGRESS_WORDS;
    Atomics.store(w, base + P_DONE, this.requests | 0); // pairs with: main.ts progressOf (Atomics.load)
    Atomics.store(w, base + P_ERRORS, this.errors | 0);
    Atomics.store(w, base + P_CONNECTED, this.connectedNow);
    // pairs with: main.ts runLoad's onAbort (Atomics.store STOP)
    if (!this.finished && Atomics.load(w, base + P_STOP) !== 0) this.abort();
  }
}
