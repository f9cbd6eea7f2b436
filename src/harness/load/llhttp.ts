/**
 * HTTP/1.1 response framing for the loader: llhttp (Node's own parser) compiled to WebAssembly, as
 * undici ships it (`undici/lib/llhttp`). One wasm instance per thread, one llhttp parser per
 * connection; the loader learns only what it counts: a response's status, whether the server keeps
 * the connection, and where each response ends (Content-Length, chunked, or the connection's end).
 *
 * Runs on a pool worker, inside the loader (src/harness/load/worker.ts). Owns the thread's wasm
 * instance and its memory: each read is copied into a 64 KiB region of it (a memcpy of the
 * response, tens of ns) and parsed there. Reading straight into the wasm memory would save the copy
 * but breaks when the memory grows (a parser allocated for another connection detaches every view).
 *
 * Why not http-parser-js (the choice before): it builds every header as a JS string, where llhttp
 * in wasm calls back into JS only for what the loader counts; the figures are in
 * docs/measurements.md ("`shoal load`: where a request's CPU goes, and the parser").
 *
 * A parser is freed with `free()` when its connection is done for good; llhttp allocates nothing
 * while it parses.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// the global WebAssembly, typed as far as used here (the project's lib settings leave it out)
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (mod: object, imports: object) => { exports: unknown };
};

/** What a connection's parser reports; `current` is the connection whose bytes are being parsed. */
export interface ResponseSink {
  /** headers complete: return true for a response that has no body (a reply to HEAD) */
  onHead(status: number, keepAlive: boolean): boolean;
  onComplete(): void;
}

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  malloc(n: number): number;
  llhttp_alloc(type: number): number;
  llhttp_free(p: number): void;
  llhttp_reset(p: number): void;
  llhttp_execute(p: number, at: number, len: number): number;
  llhttp_finish(p: number): number;
  llhttp_get_error_reason(p: number): number;
}

const TYPE_RESPONSE = 2; // llhttp's HTTP_RESPONSE
const READ_BYTES = 64 * 1024;

let ll: LlhttpExports | undefined;
/** the connection being parsed: llhttp_execute calls back synchronously */
let current: ResponseSink | undefined;
/** where reads are copied for parsing, and a view of the memory (renewed when it grows) */
let readAt = 0;
let mem: Uint8Array | undefined;
/** the last view taken of a read buffer, and that buffer (execute) */
let view: Uint8Array = new Uint8Array(0);
let viewOf: Buffer | undefined;

function instance(): LlhttpExports {
  if (ll !== undefined) return ll;
  let mod: object;
  try {
    mod = new WebAssembly.Module(require('undici/lib/llhttp/llhttp_simd-wasm.js') as Uint8Array);
  } catch {
    // a CPU without wasm SIMD: the plain build, as undici does
    mod = new WebAssembly.Module(require('undici/lib/llhttp/llhttp-wasm.js') as Uint8Array);
  }
  const zero = (): number => 0;
  const inst = new WebAssembly.Instance(mod, {
    env: {
      wasm_on_url: zero,
      wasm_on_status: zero,
      wasm_on_message_begin: zero,
      wasm_on_header_field: zero,
      wasm_on_header_value: zero,
      // llhttp: 1 from on_headers_complete means "this response has no body"
      wasm_on_headers_complete: (_p: number, status: number, _upgrade: number, keepAlive: number): number =>
        current!.onHead(status, keepAlive === 1) ? 1 : 0,
      wasm_on_body: zero,
      wasm_on_message_complete: (): number => {
        current!.onComplete();
        return 0;
      },
    },
  });
  ll = inst.exports as unknown as LlhttpExports;
  readAt = ll.malloc(READ_BYTES);
  return ll;
}

/** One connection's llhttp parser (kept across its reconnections). */
export class ResponseParser {
  private readonly ptr: number;
  private readonly sink: ResponseSink;
  private freed = false;

  constructor(sink: ResponseSink) {
    this.sink = sink;
    this.ptr = instance().llhttp_alloc(TYPE_RESPONSE);
  }

  /** A new connection: start from the first byte of a response. */
  reset(): void {
    ll!.llhttp_reset(this.ptr);
  }

  /** Parse the first `n` bytes of `buf` (n <= 64 KiB). Returns an error's reason, or undefined. */
  execute(buf: Buffer, n: number): string | undefined {
    const e = ll!;
    // a grown memory detaches the old view (its length drops to 0): checking that is cheaper than
    // the memory.buffer getter on every read (measurements.md, 2026-12-07)
    if (mem === undefined || mem.length === 0) mem = new Uint8Array(e.memory.buffer);
    // the same-sized reads of a load test reuse one view of the read buffer (no view per read)
    if (viewOf !== buf || view.length !== n) {
      viewOf = buf;
      view = buf.subarray(0, n);
    }
    mem.set(view, readAt);
    current = this.sink;
    const ret = e.llhttp_execute(this.ptr, readAt, n);
    current = undefined;
    return ret === 0 ? undefined : this.reason(ret);
  }

  /** The connection ended: completes a response whose end is the connection's end. */
  finish(): string | undefined {
    current = this.sink;
    const ret = ll!.llhttp_finish(this.ptr);
    current = undefined;
    return ret === 0 ? undefined : this.reason(ret);
  }

  /**
   * Give the parser's memory back (the connection will not be opened again). Never from inside
   * one of its own callbacks: `execute` is still running on that memory.
   */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    ll!.llhttp_free(this.ptr);
  }

  private reason(code: number): string {
    const at = ll!.llhttp_get_error_reason(this.ptr);
    if (at === 0) return `llhttp error ${code}`;
    const m = new Uint8Array(ll!.memory.buffer);
    const end = m.indexOf(0, at);
    return Buffer.from(m.subarray(at, end < 0 ? at : end)).toString('latin1');
  }
}
