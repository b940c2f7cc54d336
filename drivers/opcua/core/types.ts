/**
 * @module
 * OPC UA built-in types as a flow names them (`Double`, `Int64`, `String[]`...), the value
 * kind each is carried as, and the conversion of a node-opcua `Variant` value to the record
 * model and back. Pure functions: no client is loaded here.
 */

import {
  shortestFloat32,
  type TagConfig,
  type Value,
  type ValueKind,
} from "../../../engine/plugin.ts";

/** The scalar built-in types a tag may declare (OPC UA Part 6, 5.1.2). */
export const SCALAR_TYPES = [
  "Boolean",
  "SByte",
  "Byte",
  "Int16",
  "UInt16",
  "Int32",
  "UInt32",
  "Int64",
  "UInt64",
  "Float",
  "Double",
  "String",
  "DateTime",
  "Guid",
  "ByteString",
  "XmlElement",
  "NodeId",
  "ExpandedNodeId",
  "StatusCode",
  "QualifiedName",
  "LocalizedText",
] as const;

/** A scalar built-in type name. */
export type ScalarType = (typeof SCALAR_TYPES)[number];

/** Every `type:` a tag may declare: a scalar, an array of it (`Double[]`), or `Event`. */
export const TAG_TYPES: readonly string[] = [
  ...SCALAR_TYPES,
  ...SCALAR_TYPES.map((t) => `${t}[]`),
  "Event",
];

/** The OPC UA `DataType` enumeration values of the scalar types (node-opcua's `DataType`). */
export const DATA_TYPE_IDS: Record<ScalarType, number> = {
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
  Guid: 14,
  ByteString: 15,
  XmlElement: 16,
  NodeId: 17,
  ExpandedNodeId: 18,
  StatusCode: 19,
  QualifiedName: 20,
  LocalizedText: 21,
};

/** The type name of a `DataType` id, when it is a scalar built-in type. */
export function typeName(id: number): ScalarType | undefined {
  return TYPE_BY_ID[id];
}

const TYPE_BY_ID: (ScalarType | undefined)[] = [];
for (const t of SCALAR_TYPES) TYPE_BY_ID[DATA_TYPE_IDS[t]] = t;

/** A declared type split into its scalar type and whether it is an array. */
export interface ParsedType {
  scalar: ScalarType | "auto";
  array: boolean;
}

/** Splits `Double[]` into `{ scalar: "Double", array: true }`; `auto` (or empty) is learnt. */
export function parseType(type: string): ParsedType {
  if (type === "" || type === "auto" || type === "Event") return { scalar: "auto", array: false };
  const array = type.endsWith("[]");
  const scalar = array ? type.slice(0, -2) : type;
  if (!(SCALAR_TYPES as readonly string[]).includes(scalar)) {
    throw new RangeError(`Unknown OPC UA type "${type}" (known: ${SCALAR_TYPES.join(", ")})`);
  }
  return { scalar: scalar as ScalarType, array };
}

/** The value kind of one element of a scalar type. */
export function scalarKind(t: ScalarType | "auto"): ValueKind {
  switch (t) {
    case "Boolean":
      return "boolean";
    case "SByte":
    case "Byte":
    case "Int16":
    case "UInt16":
    case "Int32":
    case "UInt32":
      return "integer";
    case "Int64":
    case "UInt64":
      return "bigint";
    case "Float":
    case "Double":
      return "float";
    case "ByteString":
      return "bytes";
    default:
      return "string";
  }
}

/**
 * How a tag's values are carried: arrays as `array`, 64-bit integers as `bigint`, DateTime,
 * Guid, NodeId, LocalizedText... as text, ByteString as hex. A tag of type `auto` (a URL
 * without a type) is carried as text for writes; its reads give whatever the server's type
 * gives.
 */
export function opcuaValueKind(tag: TagConfig): ValueKind {
  // An event's value is an object (eventId, message, severity...); writes take the text
  // `<eventId>[: comment]` that acknowledges it.
  if (tag.type === "Event") return "string";
  const t = parseType(tag.type);
  return t.array ? "array" : scalarKind(t.scalar);
}

/** Integer ranges of the integer types, for write checks. */
export const INTEGER_RANGES: Partial<Record<ScalarType, [bigint, bigint]>> = {
  SByte: [-128n, 127n],
  Byte: [0n, 255n],
  Int16: [-32768n, 32767n],
  UInt16: [0n, 65535n],
  Int32: [-2147483648n, 2147483647n],
  UInt32: [0n, 4294967295n],
  Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  UInt64: [0n, 2n ** 64n - 1n],
};

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** A node-opcua 64-bit value (`[high, low]` of uint32) as a bigint. */
function int64(v: unknown, signed: boolean): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (Array.isArray(v) && v.length === 2) {
    const u = (BigInt(v[0] >>> 0) << 32n) | BigInt(v[1] >>> 0);
    return signed ? BigInt.asIntN(64, u) : u;
  }
  return BigInt(String(v));
}

/** One element of a variant of type `t` (a node-opcua scalar) as a record value. */
export function elementValue(t: ScalarType, v: unknown): Value {
  if (v === null || v === undefined) return null;
  switch (t) {
    case "Boolean":
      return Boolean(v);
    case "Int64":
      return int64(v, true);
    case "UInt64":
      return int64(v, false);
    case "Float":
      return shortestFloat32(Math.fround(v as number));
    case "SByte":
    case "Byte":
    case "Int16":
    case "UInt16":
    case "Int32":
    case "UInt32":
    case "Double":
      return v as number;
    case "DateTime":
      return v instanceof Date ? (isNaN(v.getTime()) ? null : v.toISOString()) : String(v);
    case "ByteString":
      return v instanceof Uint8Array ? hex(v) : String(v);
    case "LocalizedText":
      return (v as { text?: string | null }).text ?? "";
    case "QualifiedName": {
      const q = v as { namespaceIndex?: number; name?: string | null };
      return q.namespaceIndex ? `${q.namespaceIndex}:${q.name ?? ""}` : q.name ?? "";
    }
    case "StatusCode":
      return (v as { name?: string }).name ?? String(v);
    case "Guid":
      return String(v).toLowerCase();
    default:
      return String(v);
  }
}

/** A variant's value (`dataType` its `DataType` id, `value` its JS value) as a record value. */
export function variantValue(dataType: number, value: unknown, isArray: boolean): Value {
  const t = typeName(dataType);
  if (t === undefined) {
    // Structures, enumerations (Int32 on the wire), Variant: their JSON.
    if (value === null || value === undefined) return null;
    return typeof value === "object" ? JSON.stringify(value) : value as Value;
  }
  if (isArray) {
    const out: Value[] = [];
    const a = value as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) out.push(elementValue(t, a[i]));
    return out;
  }
  return elementValue(t, value);
}
