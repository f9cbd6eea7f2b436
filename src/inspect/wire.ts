/**
 * The REPL's wire, as both ends see it (repl-session.ts serves it, repl-client.ts speaks it).
 *
 * 1. The client's first line is the token. The server answers one line: `shoal repl: connected ...`
 *    or `shoal repl: refused: <why>` (then it closes the socket).
 * 2. Then it is node:repl's own text: input lines in; output, and the prompt PROMPT (or `... ` for
 *    a continued line) out, the prompt written when the REPL is ready for the next line.
 * 3. A line holding only INTERRUPT is Ctrl-C: it interrupts a pending top-level await, or clears
 *    the current input (twice on an empty line ends the session, as in node).
 * 4. `.json <view> [N]` answers with one line JSON_MARK + JSON (views.ts VIEWS names the views);
 *    an answer `{"error": "..."}` means the view failed.
 *
 * Runs on any thread. Owns nothing.
 */

/** Prompt of the remote REPL. */
export const PROMPT = 'shoal> ';
/** Prompt of a continued (incomplete) input line. */
export const CONTINUE_PROMPT = '... ';
/** The line a client sends for Ctrl-C. */
export const INTERRUPT = '\x03';
/** The marker before a `.json` answer (the answer is the rest of that line). */
export const JSON_MARK = '@json ';
/** First words of the server's greeting and refusal lines. */
export const CONNECTED = 'shoal repl: connected';
export const REFUSED = 'shoal repl: refused: ';
