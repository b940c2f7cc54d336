/**
 * @module
 * The layout of the buffer the `function` step shares with its worker, the string table
 * both ends mirror, and the names each end remembers per position. `codec.ts` reads and
 * writes them.
 *
 * The shared buffer starts with a 32-byte header (record count, flags, the host clock),
 * then the fixed-width columns of the records in flight, packed for exactly that count:
 * `num`, `sourceTs`, `gatewayTs`, `seq` (f64), `kind`, `quality` (u8), then, 4-aligned,
 * the device and tag string ids (i32). The id columns are written only when the names
 * differ from those of the last request.
 */

import type { Value } from "../record.ts";

/** Bytes one record takes in the shared buffer. */
export const BYTES_PER_RECORD = 4 * 8 + 2 + 2 * 4;

/** Bytes of the header at the start of the shared buffer: n, flags, now. */
export const HEADER_BYTES = 32;

/** Bytes of the columns a host copies into a batch at once: f64 × 4, u8 × 2. */
export const FIXED_BYTES_PER_RECORD = 34;

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
  return HEADER_BYTES + (((FIXED_BYTES_PER_RECORD * n + 3) >>> 2) << 2) + 8 * n;
}

/**
 * Typed views of the columns of `n` records in a shared buffer, after the header. The
 * first `34 * n` bytes (numbers, timestamps, sequence numbers, kinds, qualities) are laid
 * out so that the host can copy them into a batch at once. An end keeps its views while
 * the buffer and the count stay the same.
 */
export class Columns {
  readonly num: Float64Array<SharedArrayBuffer>;
  readonly sourceTs: Float64Array<SharedArrayBuffer>;
  readonly gatewayTs: Float64Array<SharedArrayBuffer>;
  readonly seq: Float64Array<SharedArrayBuffer>;
  readonly kind: Uint8Array<SharedArrayBuffer>;
  readonly quality: Uint8Array<SharedArrayBuffer>;
  readonly dev: Int32Array<SharedArrayBuffer>;
  readonly tag: Int32Array<SharedArrayBuffer>;
  /** The fixed-width columns as bytes. */
  readonly fixed: Uint8Array<SharedArrayBuffer>;

  constructor(readonly buffer: SharedArrayBuffer, readonly n: number) {
    const h = HEADER_BYTES, names = h + (((FIXED_BYTES_PER_RECORD * n + 3) >>> 2) << 2);
    this.num = new Float64Array(buffer, h, n);
    this.sourceTs = new Float64Array(buffer, h + 8 * n, n);
    this.gatewayTs = new Float64Array(buffer, h + 16 * n, n);
    this.seq = new Float64Array(buffer, h + 24 * n, n);
    this.kind = new Uint8Array(buffer, h + 32 * n, n);
    this.quality = new Uint8Array(buffer, h + 33 * n, n);
    this.dev = new Int32Array(buffer, names, n);
    this.tag = new Int32Array(buffer, names + 4 * n, n);
    this.fixed = new Uint8Array(buffer, h, FIXED_BYTES_PER_RECORD * n);
  }
}

/**
 * The same string, internalized: V8 compares internalized strings by pointer, inline,
 * where other strings cost a call even when they are the same object. Property keys are
 * always internalized, so a key read back is.
 */
function internalized(s: string): string {
  for (const k of Object.keys({ [s]: 0 })) return k;
  return s;
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

  /** Adds strings the other end added (internalized, see above). */
  receive(strs: readonly string[]): void {
    for (const s of strs) {
      const i = internalized(s);
      this.#ids.set(i, this.list.length);
      this.list.push(i);
    }
  }

  /** Forgets every string. */
  clear(): void {
    this.#ids.clear();
    this.#pending = [];
    this.list = [];
  }
}

/**
 * The names of the last request, position by position, with their ids: the host records
 * what it sent, the worker what it received. A request whose names are the same objects
 * at the same positions (as a driver's polls give them) sends no ids, and a reply whose
 * records keep their names sends none back.
 */
export class Names {
  /** Records in the last request. */
  n = 0;
  dev: string[] = [];
  tag: string[] = [];
  devId = new Int32Array(64);
  tagId = new Int32Array(64);

  /** Makes room for `n` ids. */
  ensure(n: number): void {
    if (this.devId.length >= n) return;
    const cap = Math.max(n, 2 * this.devId.length);
    const devId = new Int32Array(cap), tagId = new Int32Array(cap);
    devId.set(this.devId);
    tagId.set(this.tagId);
    this.devId = devId;
    this.tagId = tagId;
  }

  /** Forgets every name (the string table was cleared). */
  clear(): void {
    this.n = 0;
    this.dev = [];
    this.tag = [];
  }
}
