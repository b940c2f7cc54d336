/**
 * @module
 * Bifrost tag types and values on one side, Sparkplug datatypes and metric values on the
 * other. A record's value that the metric's datatype cannot carry (out of range, not a
 * number) is published as `is_null` rather than wrapped or truncated.
 */

import type { Value } from "../../engine/plugin.ts";
import { DataType, type DataTypeCode, type MetricValue } from "./payload.ts";

/** Sparkplug datatype of each Bifrost tag type. */
export const TAG_DATATYPES: Readonly<Record<string, DataTypeCode>> = {
  bool: DataType.Boolean,
  boolean: DataType.Boolean,
  int8: DataType.Int8,
  uint8: DataType.UInt8,
  int16: DataType.Int16,
  uint16: DataType.UInt16,
  int32: DataType.Int32,
  uint32: DataType.UInt32,
  int64: DataType.Int64,
  uint64: DataType.UInt64,
  float32: DataType.Float,
  float64: DataType.Double,
  double: DataType.Double,
  string: DataType.String,
  datetime: DataType.DateTime,
};

/** The datatype of a Bifrost tag type; undefined when the type has no Sparkplug match. */
export function tagDataType(type: string): DataTypeCode | undefined {
  return TAG_DATATYPES[type.toLowerCase()];
}

/** The datatype that best carries a value whose tag type is unknown. */
export function inferDataType(v: Value): DataTypeCode {
  switch (typeof v) {
    case "boolean":
      return DataType.Boolean;
    case "bigint":
      return v < 0n ? DataType.Int64 : DataType.UInt64;
    case "number":
      return DataType.Double;
    default:
      return DataType.String;
  }
}

const INT_RANGES: Partial<Record<number, [number, number]>> = {
  [DataType.Int8]: [-128, 127],
  [DataType.UInt8]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
  [DataType.DateTime]: [0, Number.MAX_SAFE_INTEGER],
};

/** True for the integer datatypes (Int8..UInt64). */
export function isIntegerType(dt: number): boolean {
  return dt >= DataType.Int8 && dt <= DataType.UInt64;
}

function toNumber(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toBigInt(v: Value): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  const n = toNumber(v);
  return n === undefined || !Number.isFinite(n) ? undefined : BigInt(Math.round(n));
}

/**
 * A record's value as a value of metric datatype `dt`; `null` when the datatype cannot
 * carry it (published as `is_null`).
 */
export function toMetricValue(dt: number, v: Value): MetricValue {
  if (v === null) return null;
  const range = INT_RANGES[dt];
  if (range) {
    const n = toNumber(v);
    if (n === undefined || !Number.isFinite(n)) return null;
    const i = Math.round(n);
    return i < range[0] || i > range[1] ? null : i;
  }
  switch (dt) {
    case DataType.Int64:
    case DataType.UInt64: {
      const b = toBigInt(v);
      if (b === undefined) return null;
      const ok = dt === DataType.Int64
        ? b >= -(2n ** 63n) && b < 2n ** 63n
        : b >= 0n && b < 2n ** 64n;
      if (!ok) return null;
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(b)
        : b;
    }
    case DataType.Float:
    case DataType.Double: {
      const n = toNumber(v);
      return n === undefined ? null : n;
    }
    case DataType.Boolean:
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "false") return v === "true";
      return typeof v === "number" || typeof v === "bigint" ? Number(v) !== 0 : null;
    case DataType.String:
    case DataType.Text:
      return typeof v === "string"
        ? v
        : JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x);
    default:
      return null;
  }
}

/** A decoded metric value (from a DCMD) as a Bifrost value; undefined when unsupported. */
export function fromMetricValue(v: MetricValue | undefined): Value | undefined {
  if (v === undefined || v instanceof Uint8Array) return undefined;
  return v;
}

/** Names of the datatypes, for messages. */
export function dataTypeName(dt: number): string {
  for (const [k, v] of Object.entries(DataType)) if (v === dt) return k;
  return `datatype ${dt}`;
}
