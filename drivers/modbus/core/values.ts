/**
 * @module
 * Values to and from Modbus registers. Register bytes are handled as they travel on the wire:
 * a `Uint8Array`, two bytes per register, high byte first.
 *
 * Byte orders name the bytes of the value from most significant (`A`) down:
 * - `ABCD` big-endian: registers in order, high byte first (the Modbus convention);
 * - `CDAB` word swap: registers in reverse order, high byte first (common on PLCs);
 * - `BADC` byte swap: registers in order, low byte first;
 * - `DCBA` little-endian: registers in reverse order, low byte first.
 * 64-bit values follow the same rule over four registers (`CDAB` reverses all four).
 * A float32 decodes to the shortest decimal that reads back as the same float32 (123.456,
 * not 123.45600128173828), so every sink prints what the PLC shows.
 * 16-bit values are byte-swapped by `BADC`/`DCBA`; strings (two characters per register,
 * first character in the high byte) likewise, and ignore word order.
 */

import { shortestFloat32, type Value } from "../../../engine/plugin.ts";
import type { ByteOrder, DataType } from "./spec.ts";

/** How many registers a value of `type` spans (`length` is the string length in registers). */
export function registerCount(type: DataType, length = 1): number {
  switch (type) {
    case "bool":
    case "int16":
    case "uint16":
      return 1;
    case "int32":
    case "uint32":
    case "float32":
      return 2;
    case "int64":
    case "uint64":
    case "float64":
      return 4;
    case "string":
      return length;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** Copies `n` registers into `scratch` in big-endian (ABCD) order. */
function toBigEndian(src: Uint8Array, at: number, n: number, order: ByteOrder): void {
  const swapBytes = order === "BADC" || order === "DCBA";
  const swapWords = order === "CDAB" || order === "DCBA";
  for (let r = 0; r < n; r++) {
    const from = at + 2 * (swapWords ? n - 1 - r : r);
    const hi = src[from]!;
    const lo = src[from + 1]!;
    scratch.setUint8(2 * r, swapBytes ? lo : hi);
    scratch.setUint8(2 * r + 1, swapBytes ? hi : lo);
  }
}

/** Writes `n` registers from big-endian `scratch` into `dst` in `order`. */
function fromBigEndian(dst: Uint8Array, at: number, n: number, order: ByteOrder): void {
  const swapBytes = order === "BADC" || order === "DCBA";
  const swapWords = order === "CDAB" || order === "DCBA";
  for (let r = 0; r < n; r++) {
    const to = at + 2 * (swapWords ? n - 1 - r : r);
    const hi = scratch.getUint8(2 * r);
    const lo = scratch.getUint8(2 * r + 1);
    dst[to] = swapBytes ? lo : hi;
    dst[to + 1] = swapBytes ? hi : lo;
  }
}

const textDecoder = new TextDecoder("utf-8", { fatal: false });
const textEncoder = new TextEncoder();

/**
 * Decodes a value from register bytes.
 *
 * @param bytes register bytes as on the wire
 * @param at byte offset of the value's first register in `bytes`
 * @param length string length in registers (strings only)
 * @example
 * ```ts
 * decodeRegisters(new Uint8Array([0x42, 0x28, 0, 0]), 0, "float32", "ABCD"); // 42
 * ```
 */
export function decodeRegisters(
  bytes: Uint8Array,
  at: number,
  type: DataType,
  order: ByteOrder,
  length = 1,
): Value {
  const n = registerCount(type, length);
  if (at < 0 || at + 2 * n > bytes.length) {
    throw new RangeError(
      `Cannot decode ${type} at byte ${at}: needs ${2 * n} bytes, ${bytes.length - at} left`,
    );
  }
  if (type === "string") {
    const swap = order === "BADC" || order === "DCBA";
    const out = new Uint8Array(2 * n);
    for (let i = 0; i < 2 * n; i += 2) {
      out[i] = bytes[at + i + (swap ? 1 : 0)]!;
      out[i + 1] = bytes[at + i + (swap ? 0 : 1)]!;
    }
    let end = out.indexOf(0);
    if (end < 0) end = out.length;
    return textDecoder.decode(out.subarray(0, end));
  }
  toBigEndian(bytes, at, n, order);
  switch (type) {
    case "bool":
      return scratch.getUint16(0) !== 0;
    case "int16":
      return scratch.getInt16(0);
    case "uint16":
      return scratch.getUint16(0);
    case "int32":
      return scratch.getInt32(0);
    case "uint32":
      return scratch.getUint32(0);
    case "float32":
      return shortestFloat32(scratch.getFloat32(0));
    case "int64":
      return scratch.getBigInt64(0);
    case "uint64":
      return scratch.getBigUint64(0);
    case "float64":
      return scratch.getFloat64(0);
  }
}

const INT_RANGES = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
} as const;
const BIG_RANGES = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const;

function toBigInt(value: Value, type: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?[0-9]+$/.test(value.trim())) return BigInt(value.trim());
  throw new RangeError(`Cannot encode ${JSON.stringify(String(value))} as ${type}: not an integer`);
}

function toNumber(value: Value, type: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  throw new RangeError(`Cannot encode ${JSON.stringify(value)} as ${type}: not a number`);
}

/** The largest finite float32, 3.4028234663852886e38. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A number a value stands for (numbers, booleans, bigints, numeric text), or undefined. */
function numberOf(value: Value): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/**
 * Why `value` cannot be written as `type` (`length` registers for a string), as the end of
 * a sentence (`"float32 holds at most 3.4028235e+38"`), or undefined when it fits. Stricter
 * than {@linkcode encodeRegisters}, which also lets NaN and infinities through (the
 * simulator stores them on purpose): this is what a write to a device must pass.
 */
export function valueIssue(value: Value, type: DataType, length = 1): string | undefined {
  switch (type) {
    case "string": {
      if (typeof value !== "string") return "a string tag takes text";
      const bytes = textEncoder.encode(value).length;
      if (bytes <= 2 * length) return undefined;
      return `a string of ${length} register${length === 1 ? "" : "s"} holds at most ${
        2 * length
      } bytes, this is ${bytes}`;
    }
    case "bool":
      if (typeof value === "boolean" || value === 0 || value === 1) return undefined;
      if (value === "true" || value === "false") return undefined;
      return "bool takes true, false, 0 or 1";
    case "int64":
    case "uint64": {
      let v: bigint;
      try {
        v = toBigInt(value, type);
      } catch {
        return `${type} holds whole numbers only`;
      }
      const [lo, hi] = BIG_RANGES[type];
      return v < lo || v > hi ? `${type} holds ${lo}..${hi}` : undefined;
    }
  }
  const n = numberOf(value);
  if (n === undefined) return `${type} takes a number`;
  if (type === "float32" || type === "float64") {
    if (!Number.isFinite(n)) return `${type} holds finite numbers only`;
    if (type === "float32" && n > FLOAT32_MAX) {
      return `float32 holds at most ${FLOAT32_MAX.toPrecision(8)}`;
    }
    if (type === "float32" && n < -FLOAT32_MAX) {
      return `float32 holds at least ${(-FLOAT32_MAX).toPrecision(8)}`;
    }
    return undefined;
  }
  const [lo, hi] = INT_RANGES[type];
  if (!Number.isInteger(n)) return `${type} holds whole numbers only`;
  return n < lo || n > hi ? `${type} holds ${lo}..${hi}` : undefined;
}

/**
 * Encodes a value into register bytes (`registerCount(type, length)` registers). Throws a
 * `RangeError` when the value does not fit the type.
 *
 * @example
 * ```ts
 * encodeRegisters(42, "float32", "CDAB"); // Uint8Array [0, 0, 0x42, 0x28]
 * ```
 */
export function encodeRegisters(
  value: Value,
  type: DataType,
  order: ByteOrder,
  length = 1,
): Uint8Array {
  const n = registerCount(type, length);
  const out = new Uint8Array(2 * n);
  if (type === "string") {
    if (typeof value !== "string") {
      throw new RangeError(`Cannot encode ${JSON.stringify(value)} as string: not a string`);
    }
    const raw = textEncoder.encode(value);
    if (raw.length > 2 * n) {
      throw new RangeError(
        `Cannot encode a ${raw.length}-byte string into ${n} registers (${2 * n} bytes)`,
      );
    }
    const swap = order === "BADC" || order === "DCBA";
    for (let i = 0; i < raw.length; i++) out[swap ? i ^ 1 : i] = raw[i]!;
    return out;
  }
  if (type === "int64" || type === "uint64") {
    const v = toBigInt(value, type);
    const [lo, hi] = BIG_RANGES[type];
    if (v < lo || v > hi) {
      throw new RangeError(`Cannot encode ${v} as ${type}: out of range ${lo}..${hi}`);
    }
    scratch.setBigUint64(0, BigInt.asUintN(64, v));
  } else {
    const v = toNumber(value, type);
    switch (type) {
      case "bool":
        scratch.setUint16(0, v !== 0 ? 1 : 0);
        break;
      case "float32":
        scratch.setFloat32(0, v);
        break;
      case "float64":
        scratch.setFloat64(0, v);
        break;
      default: {
        const [lo, hi] = INT_RANGES[type];
        if (!Number.isInteger(v) || v < lo || v > hi) {
          throw new RangeError(
            `Cannot encode ${v} as ${type}: ${
              Number.isInteger(v) ? `out of range ${lo}..${hi}` : "not an integer"
            }`,
          );
        }
        if (type === "int16" || type === "uint16") scratch.setUint16(0, v & 0xffff);
        else scratch.setUint32(0, v >>> 0);
      }
    }
  }
  fromBigEndian(out, 0, n, order);
  return out;
}

/** Reads bit `i` of packed coil/discrete-input bytes (LSB of the first byte is bit 0). */
export function getBit(bytes: Uint8Array, i: number): boolean {
  return ((bytes[i >> 3]! >> (i & 7)) & 1) === 1;
}

/** Reads bit `bit` (0 = least significant) of the register at byte offset `at`. */
export function getRegisterBit(bytes: Uint8Array, at: number, bit: number): boolean {
  const word = (bytes[at]! << 8) | bytes[at + 1]!;
  return ((word >> bit) & 1) === 1;
}

/** Packs booleans into coil bytes (LSB first), as FC15 and FC1/FC2 responses carry them. */
export function packBits(bits: readonly boolean[]): Uint8Array {
  const out = new Uint8Array((bits.length + 7) >> 3);
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Turns a value into a boolean for a coil or register bit; throws a `RangeError` otherwise. */
export function toBool(value: Value): boolean {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (value === "true" || value === "false") return value === "true";
  throw new RangeError(
    `Cannot encode ${JSON.stringify(value)} as bool: expected true, false, 0 or 1`,
  );
}
