/**
 * @module
 * Tags and devices of the flow resolved into what the planner and the codec need: table,
 * offset, span, type and byte order, with defaults applied. The checks here are the ones
 * `validate()` reports and `plan()` enforces.
 */

import type { TagConfig } from "../../engine/driver.ts";
import { parseDuration } from "../../engine/flow/duration.ts";
import { isRegisterTable, type ModbusAddress, parseAddress, type Table } from "./address.ts";
import {
  BYTE_ORDERS,
  type ByteOrder,
  DATA_TYPES,
  type DataType,
  DEVICE_DEFAULTS,
  type ModbusDeviceFields,
} from "./spec.ts";
import { registerCount } from "./values.ts";

/** A tag ready to plan and decode. */
export interface ResolvedTag {
  name: string;
  table: Table;
  /** First register or bit. */
  start: number;
  /** Registers (HR, IR) or bits (C, DI) spanned. */
  count: number;
  bit?: number;
  type: DataType;
  order: ByteOrder;
  /** String length in registers. */
  length: number;
}

const TABLE_NAMES: Record<Table, string> = {
  HR: "holding register",
  IR: "input register",
  C: "coil",
  DI: "discrete input",
};

/** Device fields with every default applied; throws a `RangeError` on a bad value. */
export function deviceFields(config: Record<string, unknown>): ModbusDeviceFields & {
  timeoutMs: number;
} {
  const f = { ...DEVICE_DEFAULTS, ...config } as ModbusDeviceFields;
  if (typeof f.host !== "string" || f.host === "") {
    throw new RangeError(
      `Cannot use host ${JSON.stringify(f.host)}: it must be a non-empty string`,
    );
  }
  if (!BYTE_ORDERS.includes(f.order)) {
    throw new RangeError(`Cannot use byte order "${f.order}": expected ${BYTE_ORDERS.join(", ")}`);
  }
  return { ...f, timeoutMs: parseDuration(f.timeout) };
}

/**
 * Resolves a tag; throws a `RangeError` saying what is wrong (bad address, type that does
 * not fit the table, missing string length, span past the end of the table).
 */
export function resolveTag(tag: TagConfig, deviceOrder: ByteOrder): ResolvedTag {
  const address: ModbusAddress = parseAddress(tag.address);
  const type = tag.type as DataType;
  if (!DATA_TYPES.includes(type)) {
    throw new RangeError(
      `Cannot use type "${tag.type}" for tag "${tag.name}": expected one of ${
        DATA_TYPES.join(", ")
      }`,
    );
  }
  const order = (tag.config.order as ByteOrder | undefined) ?? deviceOrder;
  if (!BYTE_ORDERS.includes(order)) {
    throw new RangeError(`Cannot use byte order "${order}" for tag "${tag.name}"`);
  }
  const where = `${TABLE_NAMES[address.table]} ${tag.address}`;
  if (!isRegisterTable(address.table)) {
    if (type !== "bool") {
      throw new RangeError(
        `Cannot read ${type} from ${where} of tag "${tag.name}": coils and discrete inputs hold single bits, use type bool or a register (HR, IR)`,
      );
    }
    return {
      name: tag.name,
      table: address.table,
      start: address.offset,
      count: 1,
      type,
      order,
      length: 1,
    };
  }
  if (address.bit !== undefined) {
    if (type !== "bool") {
      throw new RangeError(
        `Cannot read ${type} from ${where} of tag "${tag.name}": a register bit is a bool`,
      );
    }
    return {
      name: tag.name,
      table: address.table,
      start: address.offset,
      count: 1,
      bit: address.bit,
      type,
      order,
      length: 1,
    };
  }
  if (type === "bool") {
    throw new RangeError(
      `Cannot read bool from ${where} of tag "${tag.name}": name the bit of the register, e.g. ${tag.address}.0`,
    );
  }
  let length = 1;
  if (type === "string") {
    const l = tag.config.length;
    if (typeof l !== "number" || !Number.isInteger(l) || l < 1 || l > 125) {
      throw new RangeError(
        `Cannot read string tag "${tag.name}" without a length: set length (registers, 1..125), got ${
          JSON.stringify(l)
        }`,
      );
    }
    length = l;
  }
  const count = registerCount(type, length);
  if (address.offset + count > 65536) {
    throw new RangeError(
      `Cannot read ${type} at ${where} of tag "${tag.name}": it needs ${count} registers and runs past the last register (65535)`,
    );
  }
  return {
    name: tag.name,
    table: address.table,
    start: address.offset,
    count,
    type,
    order,
    length,
  };
}
