/**
 * @module
 * Values to write requests: one coil (FC5), coil arrays (FC15), one register (FC6) and
 * everything wider or longer (FC16), plus the values read back from what a tag reads.
 * Pure functions; register bits (FC22 or read-modify-write) are the driver's business since
 * they may take two round trips.
 */

import type { Value } from "../../../engine/plugin.ts";
import {
  writeMultipleCoilsRequest,
  writeMultipleRegistersRequest,
  writeSingleCoilRequest,
  writeSingleRegisterRequest,
} from "./pdu.ts";
import type { ResolvedTag } from "./tags.ts";
import {
  decodeRegisters,
  encodeRegisters,
  getBit,
  getRegisterBit,
  packBits,
  toBool,
} from "./values.ts";

/** Most coils one FC15 request writes. */
export const MAX_WRITE_BITS = 1968;
/** Most registers one FC16 request writes. */
export const MAX_WRITE_REGISTERS = 123;

/** The values of a write: `elements` of them; a tag of one value takes a scalar or `[x]`. */
export function writeValues(t: ResolvedTag, value: Value): Value[] {
  if (Array.isArray(value)) {
    if (value.length !== t.elements) {
      throw new RangeError(
        `Cannot write ${value.length} values to a tag of count ${t.elements}: give exactly ${t.elements}`,
      );
    }
    return value;
  }
  if (t.elements !== 1) {
    throw new RangeError(
      `Cannot write ${
        JSON.stringify(value)
      } to a tag of count ${t.elements}: give an array of ${t.elements} values`,
    );
  }
  return [value];
}

/**
 * The request PDU writing `value` to a coil or register tag (not a register bit). Throws a
 * `RangeError` when the value does not fit.
 */
export function writeRequest(t: ResolvedTag, value: Value): Uint8Array {
  const values = writeValues(t, value);
  if (t.table === "C") {
    const bits = values.map(toBool);
    if (bits.length === 1) return writeSingleCoilRequest(t.start, bits[0]!);
    if (bits.length > MAX_WRITE_BITS) {
      throw new RangeError(`Cannot write ${bits.length} coils at once: FC15 takes at most 1968`);
    }
    return writeMultipleCoilsRequest(t.start, bits.length, packBits(bits));
  }
  const bytes = new Uint8Array(2 * t.count);
  values.forEach((v, i) => {
    bytes.set(
      encodeRegisters(v, t.type, t.orders?.[i] ?? t.order, t.length),
      2 * i * t.size,
    );
  });
  if (values.length === 1 && bytes.length === 2) {
    return writeSingleRegisterRequest(t.start, (bytes[0]! << 8) | bytes[1]!);
  }
  if (t.count > MAX_WRITE_REGISTERS) {
    throw new RangeError(
      `Cannot write ${t.count} registers at once: FC16 takes at most ${MAX_WRITE_REGISTERS}`,
    );
  }
  return writeMultipleRegistersRequest(t.start, bytes);
}

/** Decodes one tag (one value, or an array for `count` > 1) from the data of its request. */
export function decodeItem(data: Uint8Array, at: number, tag: ResolvedTag): Value {
  if (tag.table === "C" || tag.table === "DI") {
    if (tag.elements === 1) return getBit(data, at);
    return Array.from({ length: tag.elements }, (_, i) => getBit(data, at + i));
  }
  if (tag.bit !== undefined) return getRegisterBit(data, 2 * at, tag.bit);
  if (tag.elements === 1) return decodeRegisters(data, 2 * at, tag.type, tag.order, tag.length);
  return Array.from(
    { length: tag.elements },
    (_, i) =>
      decodeRegisters(
        data,
        2 * (at + i * tag.size),
        tag.type,
        tag.orders?.[i] ?? tag.order,
        tag.length,
      ),
  );
}
