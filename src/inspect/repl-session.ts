/**
 * One REPL client: its socket, the token check on its first line, and a `node:repl` REPLServer
 * fed from the socket one line at a time.
 *
 * Runs on the main thread of the service, beside the reactor. Owns: the socket, the line queue,
 * the REPLServer and its streams, and two timers (the token deadline, the stalled-output deadline).
 *
 * Why lines are paced: node:repl evaluates every line it is given at once (a pasted megabyte of
 * lines would hold the main thread, and with it the reactor, for as long as they take), and it
 * starts the next line while a top-level `await` is still pending. So the session hands the REPL
 * one line, waits for the REPL to show its prompt again (the line is done, awaits included), and
 * hands over the next one on a later turn of the event loop (setImmediate), so the reactor's
 * sockets are served between any two lines. And a share: the synchronous time the REPL spent
 * evaluating is owed back, three times over, before the next line (a timer instead of
 * setImmediate once the debt reaches 1 ms), so a client that floods cheap lines gets at most
 * ~REPL_SHARE of the main thread and the reactor the rest. One typed line never waits.
 *
 * Bounds (a misbehaving client costs its own session, never the service):
 * 1. Input: at most IN_HIGH characters of queued lines; past that the socket is paused (TCP
 *    backpressure on the client) until the queue falls under IN_LOW. A line longer than MAX_LINE
 *    ends the session.
 * 2. Output: each result is rendered with bounded util.inspect options and cut at MAX_RESULT_CHARS
 *    (repl-eval.ts).
 *    While the socket holds more than OUT_HIGH unsent bytes no new line is evaluated; if it stays
 *    so for `stallTimeoutMs`, or ever holds more than MAX_PENDING_OUTPUT, the client is not reading:
 *    the session is destroyed.
 * 3. The token line must arrive within `authTimeoutMs` and be at most MAX_TOKEN_LINE long.
 *
 * An evaluation itself runs on the main thread, as in any node:repl: a synchronous endless loop
 * typed at the prompt stops the service. Heavy work belongs in `await rt.run(...)`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { REPLServer } from 'node:repl';
import { StringDecoder } from 'node:string_decoder';
import { PassThrough, Writable } from 'node:stream';
import { clip } from './format.js';
import { MAX_RESULT_CHARS, render, startNodeRepl } from './repl-eval.js';
import type { InspectSource } from './source.js';
import { COMMAND_VIEWS, VIEWS } from './views.js';
import { CONNECTED, INTERRUPT, JSON_MARK, REFUSED } from './wire.js';

/** Longest accepted token line (bytes before the newline). */
const MAX_TOKEN_LINE = 1024;
/** Longest input line; a longer one ends the session. */
export const MAX_LINE = 1 << 20;
/** Queued input characters above which the socket is paused, and below which it resumes. */
const IN_HIGH = 256 * 1024;
const IN_LOW = 64 * 1024;
/** Unsent output bytes above which no new line is evaluated. */
const OUT_HIGH = 64 * 1024;
/** Unsent output bytes at which the client is dropped (it is not reading). */
export const MAX_PENDING_OUTPUT = 4 << 20;
/** Longest `.json` answer (rows are bounded too; see views.ts MAX_ROWS). */
const MAX_JSON_CHARS = 1 << 20;
/** Most of the main thread's time a flooding client's evaluations may take (see the header). */
const REPL_SHARE = 0.25;
/** How long a closing client has to read our last words and close its side. */
const END_GRACE_MS = 1000;
/** Tunables of a session (repl-server.ts passes them through from ReplOptions). */
export interface SessionLimits {
  authTimeoutMs: number;
  stallTimeoutMs: number;
}

/** How a session ended, for the server's counters. */
export type SessionEnd = 'refused' | 'closed' | 'destroyed';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * A connected client, from its token line to its close.
 *
 * @example
 * // repl-server.ts, on 'connection':
 * new ReplSession(socket, src, token, limits, (how) => sessions.delete(session));
 */
export class ReplSession {
  private readonly socket: Socket;
  private readonly src: InspectSource;
  private readonly expected: Buffer;
  private readonly limits: SessionLimits;
  private readonly onEnd: (how: SessionEnd) => void;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private readonly queue: string[] = [];
  private queuedChars = 0;
  private authed = false;
  private ended = false;
  private inputEnded = false;
  private paused = false;
  /** a line was handed to the REPL and its prompt has not come back yet */
  private busy = false;
  private pumpQueued = false;
  /** synchronous evaluation time (ms) not yet paid back by waiting (see the header) */
  private debtMs = 0;
  private waitingDrain = false;
  private r: REPLServer | undefined;
  /** node:repl's own displayPrompt (redraws the prompt without opening the line gate) */
  private showPrompt: (() => void) | undefined;
  private input: PassThrough | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    src: InspectSource,
    token: string,
    limits: SessionLimits,
    onEnd: (how: SessionEnd) => void,
  ) {
    this.socket = socket;
    this.src = src;
    this.expected = digest(token);
    this.limits = limits;
    this.onEnd = onEnd;
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', () => this.finish('destroyed'));
    socket.on('close', () => this.finish(this.authed ? 'closed' : 'refused'));
    socket.on('drain', () => this.onDrain());
    this.authTimer = setTimeout(
      () => this.refuse('missing token (send the token as the first line)'),
      limits.authTimeoutMs,
    );
    this.authTimer.unref();
  }

  /** Tell the client why and close (the server is closing). */
  close(reason: string): void {
    if (this.ended) return;
    this.say(`\nshoal repl: ${reason}\n`);
    this.endSocket();
  }

  /** Drop the client at once. */
  destroy(): void {
    this.socket.destroy();
    this.finish('destroyed');
  }

  // --- input -------------------------------------------------------------------------------

  private onData(b: Buffer): void {
    if (this.ended) return;
    const text = this.partial + this.decoder.write(b);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const max = this.authed ? MAX_LINE : MAX_TOKEN_LINE;
    if (this.partial.length > max) {
      if (this.authed) this.kill(`line longer than ${MAX_LINE} characters`);
      else this.refuse('wrong token');
      return;
    }
    for (let line of lines) {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (!this.authed) {
        if (!this.checkToken(line)) return;
        continue;
      }
      if (line === INTERRUPT) this.interrupt();
      else {
        this.queue.push(line);
        this.queuedChars += line.length + 1;
      }
    }
    if (this.authed && this.queuedChars > IN_HIGH && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.schedulePump();
  }

  private onPeerEnd(): void {
    if (!this.authed) {
      this.refuse('missing token (send the token as the first line)');
      return;
    }
    if (this.partial.length > 0) {
      this.queue.push(this.partial);
      this.partial = '';
    }
    this.inputEnded = true;
    this.schedulePump();
  }

  private checkToken(line: string): boolean {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    if (line.trim() === '') {
      this.refuse('missing token (send the token as the first line)');
      return false;
    }
    if (!timingSafeEqual(digest(line.trim()), this.expected)) {
      this.refuse('wrong token');
      return false;
    }
    this.authed = true;
    this.startRepl();
    return true;
  }

  private refuse(why: string): void {
    if (this.ended) return;
    this.say(`${REFUSED}${why}\n`);
    this.endSocket();
    this.finish('refused');
  }

  // --- the REPL ----------------------------------------------------------------------------

  private startRepl(): void {
    const st = this.src.stats();
    this.say(
      `${CONNECTED} to pid ${process.pid} (node ${process.version}, ${st.workers.length} workers, ` +
        `${st.transport} transport). \`rt\` is in scope, await works; .help lists the commands.\n`,
    );
    const input = new PassThrough();
    const output = new Writable({
      write: (chunk: Buffer | string, _enc, cb) => {
        this.say(chunk);
        cb();
      },
    });
    const r = startNodeRepl(input, output, this.src.rt, {
      report: (what, e) => this.report(what, e),
      evaluated: (ms) => {
        this.debtMs += ms;
      },
    });
    for (const name of COMMAND_VIEWS) {
      const view = VIEWS[name];
      if (!view) continue;
      r.defineCommand(name, { help: view.help, action: (arg: string) => this.showView(name, arg, false) });
    }
    r.defineCommand('json', {
      help: `one view as a single JSON line after "${JSON_MARK.trim()}": .json <${Object.keys(VIEWS).join('|')}> [N]`,
      action: (arg: string) => {
        const [name = '', ...rest] = arg.trim().split(/\s+/);
        this.showView(name, rest.join(' '), true);
      },
    });
    // The prompt coming back is the sign the line is done (see the header): hand over the next.
    const show = r.displayPrompt.bind(r);
    this.showPrompt = show;
    r.displayPrompt = (preserveCursor?: boolean) => {
      show(preserveCursor);
      this.busy = false;
      this.schedulePump();
    };
    r.on('exit', () => this.endSocket());
    this.r = r;
    this.input = input;
  }

  /** An error thrown outside any line (a callback, an unawaited promise): print it, keep the prompt. */
  private report(what: string, e: unknown): void {
    const text = `${what}: ${render(e)}\n`;
    if (this.ended) {
      process.stderr.write(`shoal repl (a closed session): ${text}`);
      return;
    }
    this.say(`\n${text}`);
    if (!this.busy) this.showPrompt?.();
  }

  private showView(name: string, arg: string, json: boolean): void {
    const r = this.r;
    const view = VIEWS[name];
    if (!r) return;
    if (!view) {
      this.say(`unknown view '${name}': one of ${Object.keys(VIEWS).join(', ')}\n`);
      r.displayPrompt();
      return;
    }
    view.collect(this.src, arg).then(
      (data) => {
        if (json) {
          let s = JSON.stringify(data);
          if (s.length > MAX_JSON_CHARS) s = JSON.stringify({ error: `answer over ${MAX_JSON_CHARS} characters` });
          this.say(`${JSON_MARK}${s}\n`);
        } else this.say(`${clip(view.text(data), MAX_RESULT_CHARS)}\n`);
        r.displayPrompt();
      },
      (e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        this.say(json ? `${JSON_MARK}${JSON.stringify({ error: msg })}\n` : `.${name} failed: ${msg}\n`);
        r.displayPrompt();
      },
    );
  }

  /** Ctrl-C from the client: node:repl's own SIGINT handling (breaks a pending await). */
  private interrupt(): void {
    this.queue.length = 0;
    this.queuedChars = 0;
    this.r?.emit('SIGINT');
  }

  private schedulePump(): void {
    if (this.pumpQueued || this.ended || !this.authed) return;
    this.pumpQueued = true;
    const run = (): void => {
      this.pumpQueued = false;
      this.pump();
    };
    const wait = (this.debtMs * (1 - REPL_SHARE)) / REPL_SHARE;
    if (wait < 1) setImmediate(run);
    else {
      this.debtMs = 0;
      setTimeout(run, wait);
    }
  }

  /** Hand the REPL its next line, if it is ready for one and the client keeps up with output. */
  private pump(): void {
    if (this.busy || this.ended || !this.input) return;
    if (this.socket.writableLength > OUT_HIGH) {
      this.waitDrain();
      return;
    }
    const line = this.queue.shift();
    if (line === undefined) {
      if (this.inputEnded) this.input.end();
      return;
    }
    this.queuedChars -= line.length + 1;
    if (this.paused && this.queuedChars < IN_LOW) {
      this.paused = false;
      this.socket.resume();
    }
    this.busy = true;
    // Ctrl-C can break a pending await only under breakEvalOnSigint, which also starts a SIGINT
    // watchdog around every synchronous evaluation (~0.8 ms a line here, 4x the evaluation): so
    // it is on for lines that await only.
    if (this.r) (this.r as REPLServer & { breakEvalOnSigint: boolean }).breakEvalOnSigint = line.includes('await');
    this.input.write(`${line}\n`);
  }

  // --- output ------------------------------------------------------------------------------

  private say(chunk: Buffer | string): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(chunk);
    if (this.socket.writableLength > MAX_PENDING_OUTPUT)
      this.kill(`client is not reading (over ${MAX_PENDING_OUTPUT} bytes unsent)`);
  }

  private waitDrain(): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    this.stallTimer = setTimeout(
      () => this.kill(`client read nothing for ${this.limits.stallTimeoutMs} ms`),
      this.limits.stallTimeoutMs,
    );
    this.stallTimer.unref();
  }

  private onDrain(): void {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.schedulePump();
  }

  // --- the end -----------------------------------------------------------------------------

  /** A misbehaving client: drop it (its unsent output goes with it). */
  private kill(_why: string): void {
    this.socket.destroy();
    this.finish('destroyed');
  }

  private endSocket(): void {
    if (this.socket.writableEnded || this.socket.destroyed) return;
    // A client that does not read, or never closes its side, cannot hold the socket open.
    const t = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
    this.socket.end();
    this.socket.resume(); // read (and drop) what it still sends, so its FIN is seen
  }

  private finish(how: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.queue.length = 0;
    const r = this.r;
    this.r = undefined;
    if (r) {
      r.removeAllListeners('exit');
      r.close();
    }
    this.input?.destroy();
    if (!this.socket.destroyed && how !== 'refused') this.socket.destroy();
    this.onEnd(how);
  }
}
