/**
 * @module
 * Tags and devices of the flow resolved into what the planner and the codec need: table,
 * offset, span, type, element count and byte order, with defaults and device workarounds
 * (`addressOffset`, `swapWords`) applied. The checks here are the ones `validate()` reports
 * and `plan()` enforces.
 */

import type { RetryOptions } from "./retry.ts";
import { parseDuration, type TagConfig } from "../../../engine/plugin.ts";
import { isRegisterTable, type ModbusAddress, parseAddress, type Table } from "./address.ts";
import {
  BYTE_ORDERS,
  type ByteOrder,
  DATA_TYPES,
  type DataType,
  DEVICE_DEFAULTS,
  type ModbusDeviceFields,
  type ModbusWorkarounds,
} from "./spec.ts";
import { registerCount } from "./values.ts";

/** A tag ready to plan and decode. */
export interface ResolvedTag {
  name: string;
  table: Table;
  /** First register or bit, workarounds applied. */
  start: number;
  /** Registers (HR, IR) or bits (C, DI) spanned by all elements. */
  count: number;
  bit?: number;
  type: DataType;
  /** Byte order of the first element (swapWords applied). */
  order: ByteOrder;
  /** String length in registers. */
  length: number;
  /** Values read (`count` field); above 1 the value is an array. */
  elements: number;
  /** Registers or bits of one element. */
  size: number;
  /** Byte order per element, only when `swapWords` makes them differ. */
  orders?: ByteOrder[];
}

/** A `swapWords` range, resolved. */
export interface SwapRange {
  table: Table;
  start: number;
  end: number;
}

/** What a device contributes to the resolution of its tags. */
export interface TagContext {
  order: ByteOrder;
  addressOffset: number;
  swapWords: readonly SwapRange[];
}

/** Device fields with defaults applied and workarounds resolved. */
export type ResolvedDeviceFields = ModbusDeviceFields & {
  timeoutMs: number;
  retry: RetryOptions;
  /** Requests on the wire at once: `maxInFlight` with pipelining, else 1. */
  wireInFlight: number;
  tagContext: TagContext;
};

const TABLE_NAMES: Record<Table, string> = {
  HR: "holding register",
  IR: "input register",
  C: "coil",
  DI: "discrete input",
};

function shifted(a: ModbusAddress, offset: number, text: string): ModbusAddress {
  if (offset === 0) return a;
  const o = a.offset + offset;
  if (o < 0 || o > 65535) {
    throw new RangeError(
      `Cannot use address "${text}" with addressOffset ${offset}: the offset becomes ${o}, outside 0..65535`,
    );
  }
  return { ...a, offset: o };
}

function swapRanges(w: ModbusWorkarounds, offset: number): SwapRange[] {
  return (w.swapWords ?? []).map((r, i) => {
    const where = `workarounds.swapWords[${i}]`;
    const from = shifted(parseAddress(String(r.from)), offset, String(r.from));
    const to = shifted(parseAddress(String(r.to)), offset, String(r.to));
    if (!isRegisterTable(from.table) || from.bit !== undefined || to.bit !== undefined) {
      throw new RangeError(`Cannot use ${where}: it must name registers (HR, IR), got ${r.from}`);
    }
    if (to.table !== from.table || to.offset < from.offset) {
      throw new RangeError(
        `Cannot use ${where}: "to" (${r.to}) must be in the table of "from" (${r.from}) and not before it`,
      );
    }
    return { table: from.table, start: from.offset, end: to.offset };
  });
}

/**
 * Device fields with every default applied; throws a `RangeError` on a bad value. `kind`
 * "rtu" (serial or RTU over TCP) needs no host and never pipelines.
 */
export function deviceFields(
  config: Record<string, unknown>,
  kind: "tcp" | "rtu" = "tcp",
): ResolvedDeviceFields {
  const f = { ...DEVICE_DEFAULTS, ...config } as ModbusDeviceFields;
  if (kind === "tcp" && (typeof f.host !== "string" || f.host === "")) {
    throw new RangeError(
      `Cannot use host ${JSON.stringify(f.host)}: it must be a non-empty string`,
    );
  }
  if (!BYTE_ORDERS.includes(f.order)) {
    throw new RangeError(`Cannot use byte order "${f.order}": expected ${BYTE_ORDERS.join(", ")}`);
  }
  const w = (f.workarounds ?? {}) as ModbusWorkarounds;
  const addressOffset = w.addressOffset ?? 0;
  if (!Number.isInteger(addressOffset)) {
    throw new RangeError(`Cannot use addressOffset ${addressOffset}: expected an integer`);
  }
  return {
    ...f,
    workarounds: w,
    timeoutMs: parseDuration(f.timeout),
    retry: {
      retries: f.retries,
      busyRetries: f.busyRetries,
      busyRetryWaitMs: parseDuration(f.busyRetryWait),
    },
    wireInFlight: kind === "tcp" && f.pipelining === true ? Math.max(1, f.maxInFlight) : 1,
    tagContext: { order: f.order, addressOffset, swapWords: swapRanges(w, addressOffset) },
  };
}

const WORD_SWAPPED: Record<ByteOrder, ByteOrder> = {
  ABCD: "CDAB",
  CDAB: "CDAB",
  BADC: "DCBA",
  DCBA: "DCBA",
};

function orderAt(
  ctx: TagContext,
  table: Table,
  start: number,
  type: DataType,
  order: ByteOrder,
): ByteOrder {
  if (registerCount(type) < 2 || type === "string") return order;
  for (const r of ctx.swapWords) {
    if (r.table === table && start >= r.start && start <= r.end) return WORD_SWAPPED[order];
  }
  return order;
}

function countOf(tag: TagConfig): number {
  const c = tag.config.count ?? 1;
  if (typeof c !== "number" || !Number.isInteger(c) || c < 1 || c > 2000) {
    throw new RangeError(
      `Cannot use count ${JSON.stringify(c)} for tag "${tag.name}": expected an integer 1..2000`,
    );
  }
  return c;
}

/**
 * Resolves a tag; throws a `RangeError` saying what is wrong (bad address, type that does
 * not fit the table, missing string length, span past the end of the table). `ctx` is the
 * device's order and workarounds, or just a byte order.
 */
export function resolveTag(tag: TagConfig, ctx: ByteOrder | TagContext): ResolvedTag {
  const c: TagContext = typeof ctx === "string"
    ? { order: ctx, addressOffset: 0, swapWords: [] }
    : ctx;
  const text = String(tag.address);
  const raw = tag.config.address;
  if (typeof raw === "number" && raw < 10000) {
    const hint = raw >= 1 ? ` ("${String(raw).padStart(5, "0")}") or write C${raw - 1}` : "";
    throw new RangeError(
      `Cannot parse Modbus address ${raw} of tag "${tag.name}": YAML read it as an integer and dropped its leading zeros; quote coil numbers${hint}`,
    );
  }
  const address = shifted(parseAddress(text), c.addressOffset, text);
  const type = tag.type as DataType;
  if (!DATA_TYPES.includes(type)) {
    throw new RangeError(
      `Cannot use type "${tag.type}" for tag "${tag.name}": expected one of ${
        DATA_TYPES.join(", ")
      }`,
    );
  }
  const tagOrder = (tag.config.order as ByteOrder | undefined) ?? c.order;
  if (!BYTE_ORDERS.includes(tagOrder)) {
    throw new RangeError(`Cannot use byte order "${tagOrder}" for tag "${tag.name}"`);
  }
  const elements = countOf(tag);
  const where = `${TABLE_NAMES[address.table]} ${text}`;
  const base = { name: tag.name, table: address.table, start: address.offset, type };
  if (!isRegisterTable(address.table)) {
    if (type !== "bool") {
      throw new RangeError(
        `Cannot read ${type} from ${where} of tag "${tag.name}": coils and discrete inputs hold single bits, use type bool or a register (HR, IR)`,
      );
    }
    if (address.offset + elements > 65536) {
      throw new RangeError(
        `Cannot read ${elements} bits at ${where} of tag "${tag.name}": they run past the last address (65535)`,
      );
    }
    return { ...base, count: elements, order: tagOrder, length: 1, elements, size: 1 };
  }
  if (address.bit !== undefined) {
    if (type !== "bool") {
      throw new RangeError(
        `Cannot read ${type} from ${where} of tag "${tag.name}": a register bit is a bool`,
      );
    }
    if (elements !== 1) {
      throw new RangeError(
        `Cannot read ${elements} values from register bit ${where} of tag "${tag.name}": count is for whole registers, coils and discrete inputs; read the register as uint16 instead`,
      );
    }
    return {
      ...base,
      count: 1,
      bit: address.bit,
      order: tagOrder,
      length: 1,
      elements: 1,
      size: 1,
    };
  }
  if (type === "bool") {
    throw new RangeError(
      `Cannot read bool from ${where} of tag "${tag.name}": name the bit of the register, e.g. ${text}.0`,
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
  const size = registerCount(type, length);
  const count = size * elements;
  if (address.offset + count > 65536) {
    throw new RangeError(
      `Cannot read ${type} at ${where} of tag "${tag.name}": it needs ${count} registers and runs past the last register (65535)`,
    );
  }
  const orders = Array.from(
    { length: elements },
    (_, i) => orderAt(c, address.table, address.offset + i * size, type, tagOrder),
  );
  const out: ResolvedTag = { ...base, count, order: orders[0]!, length, elements, size };
  if (orders.some((o) => o !== orders[0])) out.orders = orders;
  return out;
}
