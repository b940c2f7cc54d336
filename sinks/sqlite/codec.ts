/**
 * @module
 * The block codec: the records of one device from one batch, packed column by column into
 * one BLOB. Fixed-width columns (typed arrays) make encoding a few `set()` calls and let a
 * query test the series column and decode only the records it wants.
 *
 * Layout (little-endian, as typed arrays are on every platform Deno runs on):
 *
 * | bytes | content |
 * |---|---|
 * | 0 | format version (1) |
 * | 1..3 | modes of sourceTs, gatewayTs, seq: 0 = Float64, 1 = Int32 delta |
 * | 4..7 | n (u32) |
 * | 8..15 | base of sourceTs (f64) |
 * | 16..23 | base of seq (f64) |
 * | 24..31 | reserved |
 * | 32.. | Float64 columns: num, then sourceTs / gatewayTs / seq when in mode 0 |
 * | | Int32 columns: series id, then sourceTs / gatewayTs / seq when in mode 1 |
 * | | flags, one byte a record: kind (bits 0-2), quality (bits 3-4), has reason (bit 5) |
 * | | variable part: for each record in order, the text of a string, bigint or JSON value, then its reason, each as u32 length + UTF-8 |
 *
 * In mode 1, sourceTs is `base + delta`, gatewayTs is `sourceTs + delta` and seq is
 * `base + delta`; the encoder picks it when every value fits. Numbers keep their bits
 * (NaN, -0 and infinities round-trip), which SQLite's REAL column could not do.
 */

import { type Batch, type Value, ValueKind } from "../../engine/record.ts";

/** Format version written in byte 0. */
export const BLOCK_VERSION = 1;
const HEADER = 32;
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reusable scratch space of an encoder (one per store). */
export class BlockEncoder {
  #buf = new ArrayBuffer(64 * 1024);

  #ensure(bytes: number): ArrayBuffer {
    if (bytes > this.#buf.byteLength) {
      let size = this.#buf.byteLength * 2;
      while (size < bytes) size *= 2;
      this.#buf = new ArrayBuffer(size);
    }
    return this.#buf;
  }

  /**
   * Encodes records `idx[0..n)` of `b`, whose series ids are `series[0..n)`. The result is a
   * view of scratch space: valid until the next call (SQLite copies it when binding).
   */
  encode(b: Batch, idx: ArrayLike<number>, series: ArrayLike<number>, n: number): Uint8Array {
    const ts0 = b.sourceTs[idx[0]!]!, seq0 = b.seq[idx[0]!]!;
    let tsMode = 1, gwMode = 1, seqMode = 1, varEst = 0;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const ts = b.sourceTs[i]!, dt = ts - ts0, dg = b.gatewayTs[i]! - ts, ds = b.seq[i]! - seq0;
      if (!fitsI32(dt)) tsMode = 0;
      if (!fitsI32(dg)) gwMode = 0;
      if (!fitsI32(ds)) seqMode = 0;
      const k = b.kind[i]!;
      if (k >= ValueKind.string && k <= ValueKind.json) varEst += 4 + 3 * textOf(b, i).length;
      const r = b.reason[i];
      if (r !== undefined) varEst += 4 + 3 * r.length;
    }
    const f64 = 1 + (1 - tsMode) + (1 - gwMode) + (1 - seqMode);
    const i32 = 1 + tsMode + gwMode + seqMode;
    const flagsAt = HEADER + 8 * n * f64 + 4 * n * i32;
    const buf = this.#ensure(flagsAt + n + varEst);
    const u8 = new Uint8Array(buf);
    const dv = new DataView(buf);
    u8[0] = BLOCK_VERSION, u8[1] = tsMode, u8[2] = gwMode, u8[3] = seqMode;
    dv.setUint32(4, n, true);
    dv.setFloat64(8, ts0, true);
    dv.setFloat64(16, seq0, true);
    dv.setFloat64(24, 0, true);
    let off = HEADER;
    const f64col = () => {
      const a = new Float64Array(buf, off, n);
      off += 8 * n;
      return a;
    };
    const num = f64col();
    const tsF = tsMode ? undefined : f64col();
    const gwF = gwMode ? undefined : f64col();
    const seqF = seqMode ? undefined : f64col();
    const i32col = () => {
      const a = new Int32Array(buf, off, n);
      off += 4 * n;
      return a;
    };
    const ser = i32col();
    const tsI = tsMode ? i32col() : undefined;
    const gwI = gwMode ? i32col() : undefined;
    const seqI = seqMode ? i32col() : undefined;
    let v = flagsAt + n;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const ts = b.sourceTs[i]!;
      num[j] = b.num[i]!;
      ser[j] = series[j]!;
      if (tsI) tsI[j] = ts - ts0;
      else tsF![j] = ts;
      if (gwI) gwI[j] = b.gatewayTs[i]! - ts;
      else gwF![j] = b.gatewayTs[i]!;
      if (seqI) seqI[j] = b.seq[i]! - seq0;
      else seqF![j] = b.seq[i]!;
      const k = b.kind[i]!;
      const r = b.reason[i];
      u8[flagsAt + j] = k | (b.quality[i]! << 3) | (r !== undefined ? 32 : 0);
      if (k >= ValueKind.string && k <= ValueKind.json) v = putText(u8, dv, v, textOf(b, i));
      if (r !== undefined) v = putText(u8, dv, v, r);
    }
    return u8.subarray(0, v);
  }
}

function fitsI32(d: number): boolean {
  return Number.isInteger(d) && d >= I32_MIN && d <= I32_MAX && !Object.is(d, -0);
}

function putText(u8: Uint8Array, dv: DataView, at: number, s: string): number {
  const { written } = encoder.encodeInto(s, u8.subarray(at + 4));
  dv.setUint32(at, written, true);
  return at + 4 + written;
}

/** The text stored for a string, bigint or JSON value of record `i`. */
export function textOf(b: Batch, i: number): string {
  switch (b.kind[i]) {
    case ValueKind.string:
      return b.obj[i] as string;
    case ValueKind.bigint:
      return String(b.obj[i]);
    default:
      return JSON.stringify(
        b.obj[i],
        (_k, v) => typeof v === "bigint" ? { $bigint: v.toString() } : v,
      );
  }
}

/** A decoded block: columns to read records from by index. */
export interface Block {
  n: number;
  series: Int32Array;
  num: Float64Array;
  flags: Uint8Array;
  sourceTs(j: number): number;
  gatewayTs(j: number): number;
  seq(j: number): number;
  /** Texts of the variable part, `undefined` where a record has none. */
  text: (string | undefined)[];
  reason: (string | undefined)[];
}

/** Opens a block for reading. Throws a RangeError for a block of another format. */
export function decodeBlock(data: Uint8Array): Block {
  // Typed-array views need 8-byte alignment; SQLite hands each BLOB in its own buffer.
  const u8 = data.byteOffset % 8 === 0 ? data : data.slice();
  const buf = u8.buffer as ArrayBuffer, base = u8.byteOffset;
  if (u8[0] !== BLOCK_VERSION) {
    throw new RangeError(`Cannot decode history block: format ${u8[0]} is not ${BLOCK_VERSION}`);
  }
  const dv = new DataView(buf, base, u8.byteLength);
  const [tsMode, gwMode, seqMode] = [u8[1]!, u8[2]!, u8[3]!];
  const n = dv.getUint32(4, true), ts0 = dv.getFloat64(8, true), seq0 = dv.getFloat64(16, true);
  let off = base + HEADER;
  const f64 = () => (off += 8 * n, new Float64Array(buf, off - 8 * n, n));
  const i32 = () => (off += 4 * n, new Int32Array(buf, off - 4 * n, n));
  const num = f64();
  const tsF = tsMode ? undefined : f64(), gwF = gwMode ? undefined : f64();
  const seqF = seqMode ? undefined : f64();
  const series = i32();
  const tsI = tsMode ? i32() : undefined, gwI = gwMode ? i32() : undefined;
  const seqI = seqMode ? i32() : undefined;
  const flags = new Uint8Array(buf, off, n);
  off += n;
  const text: (string | undefined)[] = [], reason: (string | undefined)[] = [];
  let v = off - base;
  const take = (): string => {
    const len = dv.getUint32(v, true);
    const s = decoder.decode(u8.subarray(v + 4, v + 4 + len));
    v += 4 + len;
    return s;
  };
  for (let j = 0; j < n && v < u8.byteLength; j++) {
    const k = flags[j]! & 7;
    if (k >= ValueKind.string && k <= ValueKind.json) text[j] = take();
    if (flags[j]! & 32) reason[j] = take();
  }
  const sourceTs = tsI ? (j: number) => ts0 + tsI[j]! : (j: number) => tsF![j]!;
  return {
    n,
    series,
    num,
    flags,
    sourceTs,
    gatewayTs: gwI ? (j) => sourceTs(j) + gwI[j]! : (j) => gwF![j]!,
    seq: seqI ? (j) => seq0 + seqI[j]! : (j) => seqF![j]!,
    text,
    reason,
  };
}

/** The value of record `j` of a block. */
export function blockValue(bl: Block, j: number): Value {
  switch (bl.flags[j]! & 7) {
    case ValueKind.number:
      return bl.num[j]!;
    case ValueKind.boolean:
      return bl.num[j] !== 0;
    case ValueKind.string:
      return bl.text[j] ?? "";
    case ValueKind.bigint:
      return BigInt(bl.text[j] ?? "0");
    case ValueKind.json:
      return JSON.parse(
        bl.text[j] ?? "null",
        (_k, v) =>
          v !== null && typeof v === "object" && !Array.isArray(v) &&
            Object.keys(v).length === 1 && typeof v.$bigint === "string"
            ? BigInt(v.$bigint)
            : v,
      ) as Value;
    default:
      return null;
  }
}
