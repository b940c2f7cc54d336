/**
 * @module
 * The Sparkplug B payload codec (Eclipse Tahu's `sparkplug_b.proto`, package
 * `org.eclipse.tahu.protobuf`): `Payload { timestamp = 1; metrics = 2; seq = 3; uuid = 4;
 * body = 5 }` and `Metric { name = 1; alias = 2; timestamp = 3; datatype = 4;
 * is_historical = 5; is_transient = 6; is_null = 7; properties = 9; int_value = 10;
 * long_value = 11; float_value = 12; double_value = 13; boolean_value = 14;
 * string_value = 15; bytes_value = 16 }`. Pure functions, bytes in and out.
 *
 * Value fields per datatype follow the Sparkplug 3.0 spec and Tahu: Int8, Int16, Int32,
 * UInt8 and UInt16 in `int_value` (uint32); Int64, UInt32, UInt64 and DateTime in
 * `long_value` (uint64). Signed values are written as two's complement of the field's
 * width, sign-extended to 32 bits for Int8/16/32 (what Tahu's JavaScript encoder writes:
 * Int8 -1 is `0xFFFFFFFF`) and to 64 bits for Int64. The decoder is lenient: it reads the
 * type's width from either field, so an 8-bit two's complement (`0xFF`) also decodes to -1.
 * Fields are written in field-number order, as protobuf.js writes them, so the bytes equal
 * Tahu's for the same input. DataSet, Template and metadata are skipped when decoding.
 */

import { ProtoReader, ProtoWriter, WireType } from "./_protobuf.ts";

/** Sparkplug B datatypes (the `DataType` enum of `sparkplug_b.proto`). */
export const DataType = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
} as const;
/** A datatype code. */
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** A metric's value as the codec sees it (64-bit integers beyond 2^53 as bigint). */
export type MetricValue = number | bigint | boolean | string | Uint8Array | null;

/** One metric of a payload. */
export interface Metric {
  name?: string;
  alias?: number | bigint;
  /** ms since the epoch. */
  timestamp?: number;
  datatype: DataTypeCode | number;
  isHistorical?: boolean;
  isTransient?: boolean;
  /** Written as `is_null = true` and no value; also implied by `value: null`. */
  isNull?: boolean;
  /** String properties (e.g. `engUnit`), written as a PropertySet of String values. */
  properties?: Record<string, string>;
  value?: MetricValue;
}

/** A Sparkplug B payload. */
export interface Payload {
  /** ms since the epoch. */
  timestamp?: number;
  metrics: Metric[];
  seq?: number | bigint;
  uuid?: string;
  body?: Uint8Array;
}

const M = {
  name: 1,
  alias: 2,
  timestamp: 3,
  datatype: 4,
  isHistorical: 5,
  isTransient: 6,
  isNull: 7,
  properties: 9,
  int: 10,
  long: 11,
  float: 12,
  double: 13,
  boolean: 14,
  string: 15,
  bytes: 16,
} as const;

function intOf(v: MetricValue): number | bigint {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Math.trunc(v);
  throw new TypeError(`Cannot encode ${typeof v} as an integer metric value`);
}

function numOf(v: MetricValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new TypeError(`Cannot encode ${typeof v} as a floating-point metric value`);
}

function writeValue(w: ProtoWriter, datatype: number, v: MetricValue): void {
  switch (datatype) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16: {
      const i = intOf(v);
      w.uint32(M.int, typeof i === "bigint" ? Number(BigInt.asUintN(32, i)) : i);
      return;
    }
    case DataType.Int64:
    case DataType.UInt32:
    case DataType.UInt64:
    case DataType.DateTime:
      w.uint64(M.long, intOf(v));
      return;
    case DataType.Float:
      w.float(M.float, numOf(v));
      return;
    case DataType.Double:
      w.double(M.double, numOf(v));
      return;
    case DataType.Boolean:
      w.bool(M.boolean, typeof v === "boolean" ? v : numOf(v) !== 0);
      return;
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      w.string(M.string, typeof v === "string" ? v : String(v));
      return;
    case DataType.Bytes:
    case DataType.File:
      if (!(v instanceof Uint8Array)) throw new TypeError(`Cannot encode ${typeof v} as bytes`);
      w.bytes(M.bytes, v);
      return;
    default:
      throw new RangeError(`Cannot encode a value of Sparkplug datatype ${datatype}`);
  }
}

function encodeProperties(props: Record<string, string>): Uint8Array {
  const w = new ProtoWriter();
  const entries = Object.entries(props);
  for (const [k] of entries) w.string(1, k);
  for (const [, v] of entries) {
    const pv = new ProtoWriter();
    pv.uint32(1, DataType.String);
    pv.string(8, v);
    w.bytes(2, pv.finish());
  }
  return w.finish();
}

/** Encodes one metric (the embedded message, without its key and length). */
export function encodeMetric(m: Metric): Uint8Array {
  const w = new ProtoWriter();
  if (m.name !== undefined) w.string(M.name, m.name);
  if (m.alias !== undefined) w.uint64(M.alias, m.alias);
  if (m.timestamp !== undefined) w.uint64(M.timestamp, m.timestamp);
  w.uint32(M.datatype, m.datatype);
  if (m.isHistorical !== undefined) w.bool(M.isHistorical, m.isHistorical);
  if (m.isTransient !== undefined) w.bool(M.isTransient, m.isTransient);
  const isNull = m.isNull === true || m.value === null;
  if (isNull) w.bool(M.isNull, true);
  if (m.properties !== undefined) w.bytes(M.properties, encodeProperties(m.properties));
  if (!isNull && m.value !== undefined) writeValue(w, m.datatype, m.value);
  return w.finish();
}

/**
 * Encodes a payload.
 *
 * @example
 * ```ts
 * const bytes = encodePayload({
 *   timestamp: Date.now(),
 *   seq: 1,
 *   metrics: [{ alias: 3, datatype: DataType.Float, value: 21.5 }],
 * });
 * ```
 */
export function encodePayload(p: Payload): Uint8Array {
  const w = new ProtoWriter();
  if (p.timestamp !== undefined) w.uint64(1, p.timestamp);
  for (const m of p.metrics) w.bytes(2, encodeMetric(m));
  if (p.seq !== undefined) w.uint64(3, p.seq);
  if (p.uuid !== undefined) w.string(4, p.uuid);
  if (p.body !== undefined) w.bytes(5, p.body);
  return w.finish();
}

function toNumber(v: number | bigint): number {
  return typeof v === "number" ? v : Number(v);
}

/** A 64-bit value as a number when it is safe, else as a bigint. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

interface RawMetric {
  metric: Metric;
  int?: number | bigint;
  long?: number | bigint;
  other?: MetricValue;
}

/** The value of a decoded metric from whichever field holds it, read at the type's width. */
function valueOf(datatype: number, r: RawMetric): MetricValue | undefined {
  const raw = r.int ?? r.long;
  const big = raw === undefined ? undefined : BigInt(raw);
  switch (datatype) {
    case DataType.Int8:
      return big === undefined ? undefined : Number(BigInt.asIntN(8, big));
    case DataType.Int16:
      return big === undefined ? undefined : Number(BigInt.asIntN(16, big));
    case DataType.Int32:
      return big === undefined ? undefined : Number(BigInt.asIntN(32, big));
    case DataType.UInt8:
      return big === undefined ? undefined : Number(BigInt.asUintN(8, big));
    case DataType.UInt16:
      return big === undefined ? undefined : Number(BigInt.asUintN(16, big));
    case DataType.UInt32:
      return big === undefined ? undefined : Number(BigInt.asUintN(32, big));
    case DataType.Int64:
      return big === undefined ? undefined : narrow(BigInt.asIntN(64, big));
    case DataType.UInt64:
    case DataType.DateTime:
      return big === undefined ? undefined : narrow(BigInt.asUintN(64, big));
    default:
      return r.other ?? (raw === undefined ? undefined : raw);
  }
}

function decodeProperties(bytes: Uint8Array): Record<string, string> {
  const r = new ProtoReader(bytes);
  const keys: string[] = [];
  const values: (string | undefined)[] = [];
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1 && wire === WireType.bytes) keys.push(r.string());
    else if (field === 2 && wire === WireType.bytes) {
      const pv = new ProtoReader(r.bytes());
      let s: string | undefined;
      while (!pv.done) {
        const k = pv.key();
        if (k.field === 8 && k.wire === WireType.bytes) s = pv.string();
        else pv.skip(k.wire);
      }
      values.push(s);
    } else r.skip(wire);
  }
  const out: Record<string, string> = {};
  keys.forEach((k, i) => {
    const v = values[i];
    if (v !== undefined) out[k] = v;
  });
  return out;
}

function decodeMetric(bytes: Uint8Array): Metric {
  const r = new ProtoReader(bytes);
  const raw: RawMetric = { metric: { datatype: 0 } };
  const m = raw.metric;
  while (!r.done) {
    const { field, wire } = r.key();
    const varint = wire === WireType.varint;
    if (field === M.name && wire === WireType.bytes) m.name = r.string();
    else if (field === M.alias && varint) m.alias = r.varint();
    else if (field === M.timestamp && varint) m.timestamp = toNumber(r.varint());
    else if (field === M.datatype && varint) m.datatype = r.uint32();
    else if (field === M.isHistorical && varint) m.isHistorical = r.varint() !== 0;
    else if (field === M.isTransient && varint) m.isTransient = r.varint() !== 0;
    else if (field === M.isNull && varint) m.isNull = r.varint() !== 0;
    else if (field === M.properties && wire === WireType.bytes) {
      m.properties = decodeProperties(r.bytes());
    } else if (field === M.int && varint) raw.int = r.uint32();
    else if (field === M.long && varint) raw.long = r.varint();
    else if (field === M.float && wire === WireType.fixed32) raw.other = r.float();
    else if (field === M.double && wire === WireType.fixed64) raw.other = r.double();
    else if (field === M.boolean && varint) raw.other = r.varint() !== 0;
    else if (field === M.string && wire === WireType.bytes) raw.other = r.string();
    else if (field === M.bytes && wire === WireType.bytes) raw.other = r.bytes().slice();
    else r.skip(wire);
  }
  if (m.isNull) m.value = null;
  else {
    const v = valueOf(m.datatype, raw);
    if (v !== undefined) m.value = v;
  }
  return m;
}

/**
 * Decodes a payload (NCMD/DCMD from a host application, or anything a Sparkplug node
 * publishes). Throws RangeError on malformed bytes.
 */
export function decodePayload(bytes: Uint8Array): Payload {
  const r = new ProtoReader(bytes);
  const p: Payload = { metrics: [] };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 0) throw new RangeError(`Malformed payload: field 0 at byte ${r.pos}`);
    if (field === 1 && wire === WireType.varint) p.timestamp = toNumber(r.varint());
    else if (field === 2 && wire === WireType.bytes) p.metrics.push(decodeMetric(r.bytes()));
    else if (field === 3 && wire === WireType.varint) p.seq = r.varint();
    else if (field === 4 && wire === WireType.bytes) p.uuid = r.string();
    else if (field === 5 && wire === WireType.bytes) p.body = r.bytes().slice();
    else r.skip(wire);
  }
  return p;
}
