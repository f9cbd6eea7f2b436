/**
 * Port channel — the wire vocabulary between a port channel's owner thread and its clients
 * (SHOAL_TRANSPORT=message). Frames are small tuples; values travel as the codec's bytes, so
 * both transports refuse and carry exactly the same values.
 *
 * Runs on both sides. Owns nothing (constants and types only).
 *
 * Client -> owner:
 *   TAKE     [1, id, timeoutMs | -1, want]  plain take (want > 1: a takeMany); the owner decides
 *                                           (DONE / TIMEDOUT / CANCELLED)
 *   PUT      [2, id, bytes]            plain put
 *   SEL_TAKE [3, id]                  a select's take: the owner must OFFER and wait for the answer
 *   SEL_PUT  [4, id, bytes]           a select's put
 *   CANCEL   [5, id]                  withdraw a parked op (plain ops get CANCELLED, unless served)
 *   ACCEPT   [6, id] / DECLINE [7, id] answer to an OFFER (the client's handler claimed, or not)
 *   TRY_TAKE [8, id] / TRY_PUT [9, id, bytes] / CLOSE [10, id] / STAT [11, id]: answered by REPLY
 *   CONNECT  [12, port]                serve another thread on `port` (a forwarded channel)
 *   ACK      [13, k]                   the client handed the k oldest values it was sent to takes
 *   RETURN   [14]                      answer to RECALL: every value sent and not acknowledged
 *                                      is given back (the client dropped its copies)
 *
 * Owner -> client:
 *   DONE      [20, id, x, more?]  plain op committed: take x = bytes, or null (closed and
 *                                 drained), `more` = further values lent along (prefetch);
 *                                 put x = true, or false (closed)
 *   CANCELLED [21, id]      the plain op was withdrawn before it committed
 *   TIMEDOUT  [22, id]      the plain take's timeout passed first
 *   OFFER     [23, id, x]   the select op can commit now (take: x = bytes; put: x = null)
 *   SEL_CLOSED [24, id]     the select op commits with the closed outcome (no answer needed)
 *   REPLY     [25, id, x]   answer to TRY_TAKE (bytes | null | false), TRY_PUT (true, false: closed, null: full),
 *                           CLOSE (true), STAT ([buffered, closed])
 *   RECALL    [26]          give back what you hold (answer RETURN): another thread wants to take
 *   CLOSED    [27]          the channel was closed (clients answer `closed` locally)
 *
 * Every value bytes the owner sends in DONE or REPLY is *lent*: the owner keeps it, in send order,
 * until the client acknowledges it (ACK) or gives it back (RETURN, or the port closing).
 */
import type { MessagePort } from 'node:worker_threads';

export const TAKE = 1;
export const PUT = 2;
export const SEL_TAKE = 3;
export const SEL_PUT = 4;
export const CANCEL = 5;
export const ACCEPT = 6;
export const DECLINE = 7;
export const TRY_TAKE = 8;
export const TRY_PUT = 9;
export const CLOSE = 10;
export const STAT = 11;
export const CONNECT = 12;
export const ACK = 13;
export const RETURN = 14;

export const DONE = 20;
export const CANCELLED = 21;
export const TIMEDOUT = 22;
export const OFFER = 23;
export const SEL_CLOSED = 24;
export const REPLY = 25;
export const RECALL = 26;
export const CLOSED = 27;

export type FromClient =
  | [typeof TAKE, number, number, number]
  | [typeof PUT, number, Uint8Array]
  | [typeof SEL_TAKE, number]
  | [typeof SEL_PUT, number, Uint8Array]
  | [typeof CANCEL, number]
  | [typeof ACCEPT, number]
  | [typeof DECLINE, number]
  | [typeof TRY_TAKE, number]
  | [typeof TRY_PUT, number, Uint8Array]
  | [typeof CLOSE, number]
  | [typeof STAT, number]
  | [typeof CONNECT, MessagePort]
  | [typeof ACK, number]
  | [typeof RETURN];

export type ToClient =
  | [typeof DONE, number, Uint8Array | boolean | null, Uint8Array[]?]
  | [typeof CANCELLED, number]
  | [typeof TIMEDOUT, number]
  | [typeof OFFER, number, Uint8Array | null]
  | [typeof SEL_CLOSED, number]
  | [typeof REPLY, number, unknown]
  | [typeof RECALL]
  | [typeof CLOSED];
