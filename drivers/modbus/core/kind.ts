/**
 * @module
 * The value kind of a Modbus tag (the driver contract's `valueKind`): from its `type` and
 * `count`, decided once when the flow loads.
 */

import type { TagConfig, ValueKind } from "../../../engine/plugin.ts";
import type { DataType } from "./spec.ts";

const KINDS: Record<DataType, ValueKind> = {
  bool: "boolean",
  int16: "integer",
  uint16: "integer",
  int32: "integer",
  uint32: "integer",
  int64: "bigint",
  uint64: "bigint",
  float32: "float",
  float64: "float",
  string: "string",
};

/**
 * How a Modbus tag's values are carried: an array when `count` is above 1, else by type
 * (64-bit integers as `bigint`).
 *
 * @example
 * ```ts
 * modbusValueKind({ name: "t", address: "HR0", type: "float32", writable: false, config: {} }); // "float"
 * ```
 */
export function modbusValueKind(tag: TagConfig): ValueKind {
  const count = tag.config.count;
  if (typeof count === "number" && count > 1) return "array";
  const kind = KINDS[tag.type as DataType];
  if (kind === undefined) {
    throw new RangeError(
      `Cannot tell the value kind of tag "${tag.name}": unknown type "${tag.type}"`,
    );
  }
  return kind;
}
