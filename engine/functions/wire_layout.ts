/**
 * @module
 * The layout of the buffer the `function` step shares with its worker, and the string
 * table both ends mirror. `codec.ts` reads and writes it.
 *
 * The shared buffer starts with a 32-byte header (record count, flags, the host clock),
 * then the fixed-width columns of the records in flight, packed for exactly that count:
 * `num`, `sourceTs`, `gatewayTs`, `seq` (f64), `kind`, `quality` (u8), then, 4-aligned,
 * the device and tag string ids (i32).
 */

import type { Value } from "../record.ts";

/** Bytes one record takes in the shared buffer. */
export const BYTES_PER_RECORD = 4 * 8 + 2 + 2 * 4;

/** Bytes of the header at the start of the shared buffer: n, flags, now. */
export const HEADER_BYTES = 32;

/** The string table is cleared when it grows beyond this many entries. */
export const STRING_TABLE_LIMIT = 65_536;

/**
 * What a message carries beside the shared buffer; `undefined` in a steady stream of
 * numeric records, when the message is a bare id.
 */
export interface WireExtras {
  /** A new shared buffer the receiver must switch to (the sender grew it). */
  buf?: SharedArrayBuffer;
  /** Strings added to the table by this message, in id order. */
  strs?: string[];
  /** Indexes of the records whose value lives outside the numeric column. */
  objI?: number[];
  /** Their values, in the order of `objI`. */
  objV?: Value[];
  /** Indexes of the records that carry a reason. */
  reasonI?: number[];
  /** Their reasons. */
  reasonV?: string[];
}

/** Bytes a shared buffer needs for `n` records. */
export function wireBytes(n: number): number {
  return HEADER_BYTES + (((34 * n + 3) >>> 2) << 2) + 8 * n;
}

/**
 * Typed views of the columns of `n` records in a shared buffer, after the header. The
 * first `34 * n` bytes (numbers, timestamps, sequence numbers, kinds, qualities) are laid
 * out so that the host can copy them into a batch at once.
 */
export class Columns {
  readonly num: Float64Array;
  readonly sourceTs: Float64Array;
  readonly gatewayTs: Float64Array;
  readonly seq: Float64Array;
  readonly kind: Uint8Array;
  readonly quality: Uint8Array;
  readonly dev: Int32Array;
  readonly tag: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly n: number) {
    const h = HEADER_BYTES, names = h + (((34 * n + 3) >>> 2) << 2);
    this.num = new Float64Array(buffer, h, n);
    this.sourceTs = new Float64Array(buffer, h + 8 * n, n);
    this.gatewayTs = new Float64Array(buffer, h + 16 * n, n);
    this.seq = new Float64Array(buffer, h + 24 * n, n);
    this.kind = new Uint8Array(buffer, h + 32 * n, n);
    this.quality = new Uint8Array(buffer, h + 33 * n, n);
    this.dev = new Int32Array(buffer, names, n);
    this.tag = new Int32Array(buffer, names + 4 * n, n);
  }
}

/** Strings by id, mirrored on both ends. */
export class StringTable {
  #ids = new Map<string, number>();
  #pending: string[] = [];
  /** Strings by id. */
  list: string[] = [];

  /** Number of strings. */
  get size(): number {
    return this.list.length;
  }

  /** The id of `s`, adding it (to be sent with the next message) when new. */
  intern(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.#ids.set(s, id);
      this.#pending.push(s);
    }
    return id;
  }

  /** The strings added since the last call, or undefined when none. */
  takePending(): string[] | undefined {
    if (this.#pending.length === 0) return undefined;
    const p = this.#pending;
    this.#pending = [];
    return p;
  }

  /** Adds strings the other end added. */
  receive(strs: readonly string[]): void {
    for (const s of strs) {
      this.#ids.set(s, this.list.length);
      this.list.push(s);
    }
  }

  /** Forgets every string. */
  clear(): void {
    this.#ids.clear();
    this.#pending = [];
    this.list = [];
  }
}

/** The string id seen at each position of the last batch, grown on demand. */
export class PositionCache {
  dev = new Int32Array(0);
  tag = new Int32Array(0);
  ensure(n: number): void {
    if (this.dev.length >= n) return;
    const cap = Math.max(n, 2 * this.dev.length, 64);
    const dev = new Int32Array(cap), tag = new Int32Array(cap);
    dev.set(this.dev);
    tag.set(this.tag);
    this.dev = dev;
    this.tag = tag;
  }
}
