/**
 * Shared channel — making one (`sharedChan`), reviving one that arrived from another thread
 * (`fromDescriptor`), and the seam that lets a channel cross as a task argument
 * (`crossArgs` on the sending side, `reviveArgs` on the receiving side).
 *
 * Runs on any thread. Owns nothing: the channels it makes own their memory (shared kind) or
 * their state and ports (message kind, shared-chan/port/channel.ts).
 *
 * How a channel crosses:
 *  1. Sender: `crossArgs(args, transfer)` replaces every channel found in `args` (top level, and
 *     inside arrays and plain objects, up to MAX_CROSS_DEPTH levels) by its descriptor, and adds
 *     what the descriptor needs moved (a MessagePort for the message kind) to the transfer list.
 *     The runtime calls it in Pool.submit, so `rt.run(url, fn, [ch])` works on both transports.
 *  2. The descriptor travels by structured clone (the SharedArrayBuffer is shared, a port is moved).
 *  3. Receiver: `reviveArgs(args)` replaces every descriptor by a channel handle on this thread.
 *     The pool worker calls it before it calls the task function. With a raw `postMessage`, call
 *     `fromDescriptor(d)` yourself.
 */
import type { TransferListItem } from 'node:worker_threads';
import { isBufferSpec, validateSize, type BufferSpec } from '../core/buffers.js';
import { codeError } from '../core/args.js';
import { checkInt } from '../shm/layout.js';
import { PortChan } from './port/channel.js';
import { SharedChan } from './memory/channel.js';
import {
  DEFAULT_VALUE_BYTES,
  MAX_SHARED_CAPACITY,
  MAX_VALUE_BYTES,
  initSharedChan,
  isSharedChanDescriptor,
  sharedChanBytes,
} from './memory/layout.js';
import {
  isPortChanDescriptor,
  type PortChanDescriptor,
  type SharedChanDescriptor,
  type SharedChannel,
  type SharedKind,
} from './api.js';
import { transportMode, type TransportMode } from './transport-mode.js';

/** Options of `sharedChan`. */
export interface SharedChanOptions {
  /**
   * Largest encoded value, in bytes (default 248; up to 1 MiB). A put of a bigger value throws
   * RangeError. Memory is `capacity * (valueBytes + 16)` plus a little, allocated up front.
   */
  valueBytes?: number;
  /** Override SHOAL_TRANSPORT for this channel: 'shared' memory or 'message' (MessagePort). */
  transport?: TransportMode;
}

/** Nesting levels `crossArgs` / `reviveArgs` look into (arrays and plain objects). */
export const MAX_CROSS_DEPTH = 8;

/**
 * Make a channel that other threads can use: `sharedChan(n)` (fixed buffer, put waits while
 * full), `sharedChan(dropping(n))`, `sharedChan(sliding(n))`. Pass it to a worker as a task
 * argument (or `descriptor()` through postMessage). The buffer is allocated up front, so there
 * is no unbounded shared channel (TypeError without a size) and no rendezvous one (`0` is a
 * RangeError): size it for the burst you accept. Under SHOAL_TRANSPORT=message (or
 * `transport: 'message'`) the same API runs over MessagePort, with the state on this thread.
 *
 * @example
 * const jobs = sharedChan<{ id: number }>(1024);
 * const latest = sharedChan<number>(sliding(1));
 */
export function sharedChan<T>(buffer: number | BufferSpec, options: SharedChanOptions = {}): SharedChannel<T> {
  let kind: SharedKind;
  let size: number;
  if (typeof buffer === 'number') {
    kind = 'fixed';
    size = buffer;
  } else if (isBufferSpec(buffer)) {
    kind = buffer.kind;
    size = buffer.size;
  } else if (buffer === undefined) {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'a shared channel needs a buffer size: its buffer is allocated up front in shared memory, so it cannot be unbounded',
    );
  } else {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'buffer must be a size, fixed(n), dropping(n) or sliding(n)');
  }
  validateSize(size, `${kind} buffer size`, 1); // 0 (rendezvous) cannot hand a value across threads
  if (size > MAX_SHARED_CAPACITY) {
    throw codeError(
      RangeError,
      'ERR_OUT_OF_RANGE',
      `a shared channel holds at most ${MAX_SHARED_CAPACITY} values, got ${size}`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'options must be an object');
  }
  const valueBytes = checkInt('options.valueBytes', options.valueBytes ?? DEFAULT_VALUE_BYTES, 8, MAX_VALUE_BYTES);
  const mode = options.transport ?? transportMode();
  if (mode !== 'shared' && mode !== 'message') {
    throw codeError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `options.transport must be 'shared' or 'message', got ${String(mode)}`,
    );
  }
  if (mode === 'message') return PortChan.create<T>(kind, size, valueBytes);
  const sab = new SharedArrayBuffer(sharedChanBytes(size, valueBytes, kind));
  return new SharedChan<T>(initSharedChan(sab, 0, kind, size, valueBytes));
}

/** What `descriptor()` of any cross-thread channel produces. */
export type ChannelDescriptor = SharedChanDescriptor | PortChanDescriptor;

/**
 * True when `x` is a channel descriptor (from `descriptor()`), as it arrives from another thread.
 *
 * @example
 * port.on('message', (m) => { if (isChannelDescriptor(m.ch)) use(fromDescriptor(m.ch)); });
 */
export function isChannelDescriptor(x: unknown): x is ChannelDescriptor {
  return isSharedChanDescriptor(x) || isPortChanDescriptor(x);
}

/**
 * Turn a descriptor received from another thread into this thread's handle on the same channel.
 * Throws TypeError for anything else, RingCorruptError when the memory is not that channel.
 *
 * @example
 * // main: worker.postMessage({ ch: ch.descriptor().descriptor }, ch.descriptor().transfer)
 * parentPort.on('message', ({ ch }) => { const jobs = fromDescriptor<Job>(ch); ... });
 */
export function fromDescriptor<T>(d: ChannelDescriptor): SharedChannel<T> {
  if (isSharedChanDescriptor(d)) return new SharedChan<T>(d);
  if (isPortChanDescriptor(d)) return PortChan.revive<T>(d);
  throw codeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    'not a channel descriptor (expected what ch.descriptor() returns)',
  );
}

/** True for a channel handle of either kind. */
export function isSharedChannel(x: unknown): x is SharedChannel<unknown> {
  return x instanceof SharedChan || x instanceof PortChan;
}

/**
 * Sending side of the seam: `args` with every channel replaced by its descriptor, and the
 * transfer list extended with the ports those descriptors move. Returns the inputs themselves
 * when there is no channel (no copy on the common path).
 *
 * @example
 * const { args: wire, transfer } = crossArgs([jobs, 42]);
 * worker.postMessage(wire, transfer);
 */
export function crossArgs<A extends readonly unknown[]>(
  args: A,
  transfer?: readonly TransferListItem[],
): { args: A; transfer: readonly TransferListItem[] | undefined } {
  let moved: TransferListItem[] | undefined;
  const out = walk(args, 0, (ch) => {
    const { descriptor, transfer: t } = ch.descriptor();
    if (t.length) (moved ??= transfer ? [...transfer] : []).push(...t);
    return descriptor;
  });
  return { args: out as A, transfer: moved ?? transfer };
}

/**
 * Receiving side of the seam: `args` with every channel descriptor replaced by a channel handle.
 *
 * @example
 * parentPort.on('message', (wire) => run(...reviveArgs(wire)));
 */
export function reviveArgs<A extends readonly unknown[]>(args: A): A {
  return walk(args, 0, undefined) as A;
}

/** Extra revivers (a feature above this layer, e.g. agent handles): plain object in, replacement or itself out. */
const revivers: Array<(v: object) => unknown> = [];

/**
 * Let a feature built above this layer revive its own descriptors in task arguments (agent
 * handles: src/agent). `revive` gets every plain object `reviveArgs` meets and returns its
 * replacement, or the object itself to leave it alone. Idempotent per function.
 *
 * @example
 * addArgReviver((v) => (isMyDescriptor(v) ? reviveMine(v) : v));
 */
export function addArgReviver(revive: (v: object) => unknown): void {
  if (!revivers.includes(revive)) revivers.push(revive);
}

/**
 * Copy-on-write walk over arrays and plain objects. With `out`, channels are exported through
 * it; without, descriptors are revived.
 */
function walk(v: unknown, depth: number, out: ((ch: SharedChannel<unknown>) => unknown) | undefined): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (out !== undefined) {
    if (isSharedChannel(v)) return out(v);
    // User data shaped like a descriptor (or like an escape) travels escaped, so the receiving
    // side never takes it for a channel: only what crossArgs made from a channel is revived.
    if (isChannelDescriptor(v) || isEscaped(v)) return { kind: ESCAPED, value: children(v, depth, out) };
  } else {
    if (isEscaped(v)) return children(v.value, depth, out);
    if (isChannelDescriptor(v)) return fromDescriptor(v);
    if (revivers.length > 0 && !Array.isArray(v)) {
      for (const r of revivers) {
        const x = r(v);
        if (x !== v) return x;
      }
    }
  }
  return children(v, depth, out);
}

/** The kind of the wrapper around user data that looks like a descriptor (see walk). */
const ESCAPED = 'shoal:escaped';

function isEscaped(v: object): v is { kind: typeof ESCAPED; value: unknown } {
  return (v as { kind?: unknown }).kind === ESCAPED && 'value' in v;
}

/** walk's copy-on-write pass over the elements of an array or the values of a plain object. */
function children(v: unknown, depth: number, out: ((ch: SharedChannel<unknown>) => unknown) | undefined): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= MAX_CROSS_DEPTH) return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    const n = v.length;
    for (let i = 0; i < n; i++) {
      const x: unknown = v[i];
      if (x === undefined && !(i in v)) {
        // a hole: walk the present indices only (a sparse array costs what it holds, not its length)
        for (const key of Object.keys(v)) {
          const k = Number(key);
          if (!(k < n) || String(k) !== key) break; // index keys come first, ascending
          const z: unknown = v[k];
          if (k <= i || typeof z !== 'object' || z === null) continue;
          const y = walk(z, depth + 1, out);
          if (y !== z) (copy ??= v.slice())[k] = y;
        }
        break;
      }
      if (typeof x !== 'object' || x === null) continue;
      const y = walk(x, depth + 1, out);
      if (y !== x) (copy ??= v.slice())[i] = y;
    }
    return copy ?? v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  let copy: Record<string, unknown> | undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x !== 'object' || x === null) continue;
    const y = walk(x, depth + 1, out);
    if (y !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = y;
  }
  return copy ?? v;
}
