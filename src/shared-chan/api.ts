/**
 * Shared channel — what every cross-thread channel offers, whichever transport carries it
 * (`SharedChannel`: shared memory in memory/, MessagePort in port/), the buffer kinds, the
 * descriptors that carry a channel to another thread, and the call-site checks both share for
 * the batch methods. Both transports import this file; it imports neither (no import loop).
 *
 * The value-size rule, the same on both transports: a put whose value encodes (codec/) to more
 * than the channel's `valueBytes` throws RangeError ERR_OUT_OF_RANGE at the call site, with
 * nothing sent; a value of a fast tag (value-tag.ts: an int32, another number, a latin1 string of
 * at most `valueBytes` chars, a boolean, null) is judged by its tag, not by its codec frame, so
 * both transports accept exactly the same values.
 *
 * Runs on any thread. Owns nothing (types, constants and argument checks only).
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { ChanStats, PutOptions, TakeOptions } from '../core/chan.js';
import { codeError } from '../core/args.js';
import type { Op } from '../core/op.js';

/** The buffer kinds a shared channel supports (no unbounded, no rendezvous: see sharedChan). */
export type SharedKind = 'fixed' | 'dropping' | 'sliding';

/**
 * What a shared channel is, as it travels to another thread (postMessage or a task argument):
 * plain data plus the SharedArrayBuffer, which structured clone shares rather than copies.
 */
export interface SharedChanDescriptor {
  readonly kind: 'shoal:shared-chan';
  readonly sab: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly buffer: SharedKind;
  readonly capacity: number;
  readonly valueBytes: number;
}

/** What a port channel is, as it travels to another thread (the port goes in the transfer list). */
export interface PortChanDescriptor {
  readonly kind: 'shoal:port-chan';
  /** unique in the process: lets the owner's thread recognise its own channel coming back */
  readonly id: string;
  readonly port: MessagePort;
  readonly buffer: SharedKind;
  readonly capacity: number;
  readonly valueBytes: number;
}

/** True when `x` has the shape of a PortChanDescriptor. */
export function isPortChanDescriptor(x: unknown): x is PortChanDescriptor {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'shoal:port-chan';
}

/** Default payload bytes per value: an encoded value larger than this is refused at the put. */
export const DEFAULT_VALUE_BYTES = 248;
/** Largest `valueBytes`. */
export const MAX_VALUE_BYTES = 1 << 20;

/** Largest `max` of takeMany. */
export const MAX_TAKE_MANY = 1 << 16;

/** Options of `takeMany`. */
export interface TakeManyOptions {
  /** Abort the wait; takeMany rejects with CancelledError and consumes nothing. */
  signal?: AbortSignal;
  /** Give up after this many ms (an integer) with TimeoutError, consuming nothing. */
  timeout?: number;
}

/**
 * What every cross-thread channel offers, whichever transport carries it (shared memory, or
 * MessagePort under SHOAL_TRANSPORT=message). Same meaning as the core `Chan` methods, plus
 * batches.
 */
export interface SharedChannel<T> extends AsyncIterable<T> {
  readonly closed: boolean;
  put(v: T, opts?: PutOptions): Promise<boolean>;
  take(): Promise<T | undefined>;
  take<D = never>(opts: TakeOptions<D>): Promise<T | undefined | D>;
  tryPut(v: T): boolean;
  tryTake(): T | undefined;
  /** Put `values` in order, waiting for room as put does: resolves with how many went in. */
  putMany(values: Iterable<T>, opts?: PutOptions): Promise<number>;
  /** Take 1..max values at once, waiting for the first as take does; [] once closed and drained. */
  takeMany(max: number, opts?: TakeManyOptions): Promise<T[]>;
  close(): void;
  takeOp(): Op<T | undefined>;
  putOp(v: T): Op<boolean>;
  stats(): ChanStats;
  /** What to send to another thread (with `transfer`, for postMessage's transfer list). */
  descriptor(): { descriptor: SharedChanDescriptor | PortChanDescriptor; transfer: TransferListItem[] };
}

/** Check takeMany's `max` at the call site. */
export function checkMax(max: unknown): number {
  if (typeof max !== 'number')
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', `max must be a number, got ${typeof max}`);
  if (!Number.isInteger(max) || max < 1 || max > MAX_TAKE_MANY) {
    throw codeError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `max must be an integer in [1, ${MAX_TAKE_MANY}], got ${String(max)}`,
    );
  }
  return max;
}

/** putMany's values as an array (TypeError at the call site for a non-iterable). */
export function toArray<T>(values: Iterable<T>): T[] {
  if (Array.isArray(values)) return values as T[];
  if (values === null || typeof (values as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'values must be an iterable (an array, a Set, a generator...)');
  }
  return Array.from(values);
}
