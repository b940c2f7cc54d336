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
 * | 1..4 | modes of sourceTs, gatewayTs, seq and series id (below) |
 * | 8..11 | n (u32) |
 * | 12..15 | base of the series ids (i32) |
 * | 16..23 | base of sourceTs (f64) |
 * | 24..31 | base of seq (f64) |
 * | 32..39 | gatewayTs - sourceTs when constant (f64) |
 * | 40.. | Float64 columns: num, then sourceTs / gatewayTs / seq in mode 0 |
 * | | Int32 columns: those in mode 1 (series id first) |
 * | | flags, one byte a record: kind (bits 0-2), quality (bits 3-4), has reason (bit 5), reason same as the previous one given (bit 6) |
 * | | variable part: for each record in order, the text of a string, bigint or JSON value, then its reason unless bit 6, each as u32 length + UTF-8 |
 *
 * Modes: 0 = a Float64 column; 1 = an Int32 column of deltas (sourceTs and seq from their
 * base, gatewayTs from sourceTs, series from its base); 2 = no column: every sourceTs is the
 * base, every gatewayTs is sourceTs + the constant, seq and series are base + index. A poll
 * of one device (same timestamps, consecutive seq, the device's series in order) takes mode 2
 * everywhere: 9 bytes a numeric record. Numbers keep their bits (NaN, -0 and infinities
 * round-trip), which SQLite's REAL column could not do.
 */

import { type Batch, StorageKind, type Value } from "../../engine/plugin.ts";

/** Format version written in byte 0. */
export const BLOCK_VERSION = 1;
const HEADER = 40;
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reusable scratch space of an encoder (one per store). Its typed-array views are made once
 * per buffer size and columns are addressed by element offset, so encoding a block allocates
 * only the returned view: the sink encodes about 1,000 blocks a second at 100k series, and a
 * dozen views and arrays per block were about 1.2 KB of garbage each.
 */
export class BlockEncoder {
  #buf = new ArrayBuffer(0);
  #u8 = new Uint8Array(0);
  #dv = new DataView(this.#buf);
  #f64 = new Float64Array(0);
  #i32 = new Int32Array(0);
  #texts: (string | undefined)[] = [];

  constructor() {
    this.#ensure(64 * 1024);
  }

  #ensure(bytes: number): void {
    if (bytes <= this.#buf.byteLength) return;
    let size = Math.max(this.#buf.byteLength * 2, 8);
    while (size < bytes) size *= 2;
    this.#buf = new ArrayBuffer(size);
    this.#u8 = new Uint8Array(this.#buf);
    this.#dv = new DataView(this.#buf);
    this.#f64 = new Float64Array(this.#buf);
    this.#i32 = new Int32Array(this.#buf);
  }

  /**
   * Encodes records `idx[0..n)` of `b`, whose series ids are `series[0..n)`. The result is a
   * view of scratch space: valid until the next call (SQLite copies it when binding).
   */
  encode(b: Batch, idx: ArrayLike<number>, series: ArrayLike<number>, n: number): Uint8Array {
    const i0 = idx[0]!;
    const ts0 = b.sourceTs[i0]!, seq0 = b.seq[i0]!, ser0 = series[0]!;
    const gw0 = b.gatewayTs[i0]! - ts0;
    let tsMode = 2, gwMode = 2, seqMode = 2, serMode = 2, varEst = 0;
    const texts = this.#texts;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const ts = b.sourceTs[i]!, gw = b.gatewayTs[i]!, sq = b.seq[i]!;
      // Each mode must give back the very same number (Object.is: -0 and fractions too).
      if (tsMode === 2 && !Object.is(ts, ts0)) tsMode = 1;
      if (tsMode === 1) {
        const dt = ts - ts0;
        if (!(fitsI32(dt) && Object.is(ts0 + dt, ts))) tsMode = 0;
      }
      if (gwMode === 2 && !Object.is(ts + gw0, gw)) gwMode = 1;
      if (gwMode === 1) {
        const dg = gw - ts;
        if (!(fitsI32(dg) && Object.is(ts + dg, gw))) gwMode = 0;
      }
      if (seqMode === 2 && !Object.is(seq0 + j, sq)) seqMode = 1;
      if (seqMode === 1) {
        const ds = sq - seq0;
        if (!(fitsI32(ds) && Object.is(seq0 + ds, sq))) seqMode = 0;
      }
      if (serMode === 2 && series[j]! - ser0 !== j) serMode = 1;
      const k = b.kind[i]!;
      if (k >= StorageKind.string && k <= StorageKind.json) {
        const t = textOf(b, i);
        texts[j] = t;
        varEst += 4 + 3 * t.length;
      }
      const r = b.reason[i];
      if (r !== undefined) varEst += 4 + 3 * r.length;
    }
    const f64Cols = 1 + (tsMode === 0 ? 1 : 0) + (gwMode === 0 ? 1 : 0) + (seqMode === 0 ? 1 : 0);
    const i32Cols = (serMode === 1 ? 1 : 0) + (tsMode === 1 ? 1 : 0) + (gwMode === 1 ? 1 : 0) +
      (seqMode === 1 ? 1 : 0);
    const flagsAt = HEADER + 8 * n * f64Cols + 4 * n * i32Cols;
    this.#ensure(flagsAt + n + varEst);
    const u8 = this.#u8, dv = this.#dv, f64 = this.#f64, i32 = this.#i32;
    u8[0] = BLOCK_VERSION, u8[1] = tsMode, u8[2] = gwMode, u8[3] = seqMode, u8[4] = serMode;
    u8[5] = u8[6] = u8[7] = 0;
    dv.setUint32(8, n, true);
    dv.setInt32(12, ser0, true);
    dv.setFloat64(16, ts0, true);
    dv.setFloat64(24, seq0, true);
    dv.setFloat64(32, gw0, true);
    // Element offsets of the columns (-1: none). HEADER is a multiple of 8 and Float64 columns
    // come first, so every column is aligned for its element size.
    let off = HEADER + 8 * n;
    const num = HEADER / 8;
    const tsF = tsMode === 0 ? (off += 8 * n) / 8 - n : -1;
    const gwF = gwMode === 0 ? (off += 8 * n) / 8 - n : -1;
    const seqF = seqMode === 0 ? (off += 8 * n) / 8 - n : -1;
    const ser = serMode === 1 ? (off += 4 * n) / 4 - n : -1;
    const tsI = tsMode === 1 ? (off += 4 * n) / 4 - n : -1;
    const gwI = gwMode === 1 ? (off += 4 * n) / 4 - n : -1;
    const seqI = seqMode === 1 ? (off += 4 * n) / 4 - n : -1;
    let v = flagsAt + n;
    let lastReason: string | undefined;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const ts = b.sourceTs[i]!;
      f64[num + j] = b.num[i]!;
      if (ser >= 0) i32[ser + j] = series[j]! - ser0;
      if (tsI >= 0) i32[tsI + j] = ts - ts0;
      else if (tsF >= 0) f64[tsF + j] = ts;
      if (gwI >= 0) i32[gwI + j] = b.gatewayTs[i]! - ts;
      else if (gwF >= 0) f64[gwF + j] = b.gatewayTs[i]!;
      if (seqI >= 0) i32[seqI + j] = b.seq[i]! - seq0;
      else if (seqF >= 0) f64[seqF + j] = b.seq[i]!;
      const k = b.kind[i]!;
      const r = b.reason[i];
      const same = r !== undefined && r === lastReason;
      u8[flagsAt + j] = k | (b.quality[i]! << 3) | (r !== undefined ? 32 : 0) | (same ? 64 : 0);
      if (k >= StorageKind.string && k <= StorageKind.json) v = putText(u8, dv, v, texts[j]!);
      if (r !== undefined && !same) v = putText(u8, dv, v, r), lastReason = r;
    }
    texts.length = 0;
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
    case StorageKind.string:
      return b.obj[i] as string;
    case StorageKind.bigint:
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
  /** The text of a string, bigint or JSON value of record `j`. */
  text(j: number): string | undefined;
  /** The reason of record `j`, if it has one. */
  reason(j: number): string | undefined;
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
  const [tsMode, gwMode, seqMode, serMode] = [u8[1]!, u8[2]!, u8[3]!, u8[4]!];
  const n = dv.getUint32(8, true), ser0 = dv.getInt32(12, true);
  const ts0 = dv.getFloat64(16, true), seq0 = dv.getFloat64(24, true);
  const gw0 = dv.getFloat64(32, true);
  let off = base + HEADER;
  const f64 = (m: number) =>
    m === 0 ? (off += 8 * n, new Float64Array(buf, off - 8 * n, n)) : undefined;
  const i32 = (m: number) =>
    m === 1 ? (off += 4 * n, new Int32Array(buf, off - 4 * n, n)) : undefined;
  const num = f64(0)!, tsF = f64(tsMode), gwF = f64(gwMode), seqF = f64(seqMode);
  const serI = i32(serMode), tsI = i32(tsMode), gwI = i32(gwMode), seqI = i32(seqMode);
  const series = new Int32Array(n);
  for (let j = 0; j < n; j++) series[j] = ser0 + (serI ? serI[j]! : j);
  const flags = new Uint8Array(buf, off, n);
  off += n;
  // Offsets into the variable part (0 = none), found by walking the lengths; the texts
  // themselves are decoded only for the records a query returns.
  let textAt: Int32Array | undefined, reasonAt: Int32Array | undefined;
  let v = off - base, lastReason = 0;
  for (let j = 0; j < n && v < u8.byteLength; j++) {
    const f = flags[j]!, k = f & 7;
    if (k >= StorageKind.string && k <= StorageKind.json) {
      (textAt ??= new Int32Array(n))[j] = v;
      v += 4 + dv.getUint32(v, true);
    }
    if (f & 64) (reasonAt ??= new Int32Array(n))[j] = lastReason;
    else if (f & 32) {
      (reasonAt ??= new Int32Array(n))[j] = lastReason = v;
      v += 4 + dv.getUint32(v, true);
    }
  }
  const at = (offsets: Int32Array | undefined, j: number): string | undefined => {
    const o = offsets?.[j];
    if (!o) return undefined;
    return decoder.decode(u8.subarray(o + 4, o + 4 + dv.getUint32(o, true)));
  };
  const sourceTs = tsI ? (j: number) => ts0 + tsI[j]! : tsF ? (j: number) => tsF[j]! : () => ts0;
  return {
    n,
    series,
    num,
    flags,
    sourceTs,
    gatewayTs: gwI ? (j) => sourceTs(j) + gwI[j]! : gwF ? (j) => gwF[j]! : (j) => sourceTs(j) + gw0,
    seq: seqI ? (j) => seq0 + seqI[j]! : seqF ? (j) => seqF[j]! : (j) => seq0 + j,
    text: (j) => at(textAt, j),
    reason: (j) => at(reasonAt, j),
  };
}

/** The value of record `j` of a block. */
export function blockValue(bl: Block, j: number): Value {
  switch (bl.flags[j]! & 7) {
    case StorageKind.number:
      return bl.num[j]!;
    case StorageKind.boolean:
      return bl.num[j] !== 0;
    case StorageKind.string:
      return bl.text(j) ?? "";
    case StorageKind.bigint:
      return BigInt(bl.text(j) ?? "0");
    case StorageKind.json:
      return JSON.parse(
        bl.text(j) ?? "null",
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
