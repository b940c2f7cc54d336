/**
 * @module
 * A tag's value out of its Read Tag reply: the type the controller names is checked
 * against the declared one (or taken as it is for `auto`), elements decoded, BOOL array
 * bits and integer bits picked, REAL given as its shortest decimal.
 */

import { shortestFloat32, type Value } from "../../../engine/plugin.ts";
import type { ResolvedTag } from "./tags.ts";
import {
  type AtomicType,
  decodeAtomicAt,
  decodeValues,
  type Scalar,
  STRING_HANDLE,
  STRUCT_TAG,
  TYPE_CODES,
  TYPE_SIZES,
  typeOfCode,
  unpackBits,
  type WireType,
} from "./types.ts";

/** The wire type at the start of a reply's data and the bytes after it. */
export function wireType(data: Uint8Array): { wire: WireType; body: Uint8Array } {
  if (data.length < 2) throw new RangeError("the reply carries no type");
  const code = data[0]! | (data[1]! << 8);
  if (code === STRUCT_TAG) {
    if (data.length < 4) throw new RangeError("the reply's structure handle is cut short");
    return { wire: { struct: data[2]! | (data[3]! << 8) }, body: data.subarray(4) };
  }
  const atomic = typeOfCode(code);
  if (!atomic) {
    throw new RangeError(`the controller answered with unknown type 0x${code.toString(16)}`);
  }
  return { wire: { atomic }, body: data.subarray(2) };
}

/** The name of a wire type, for messages. */
export function wireName(w: WireType): string {
  if ("atomic" in w) return w.atomic;
  return w.struct === STRING_HANDLE ? "STRING" : `a structure (handle 0x${w.struct.toString(16)})`;
}

const ATOMIC_CODES: Record<string, number | undefined> = { ...TYPE_CODES, DWORD: undefined };

const INTEGERS = new Set([
  "SINT",
  "INT",
  "DINT",
  "LINT",
  "USINT",
  "UINT",
  "UDINT",
  "ULINT",
  "DWORD",
]);

/** Decodes a tag's value from its reply data (type included); throws a RangeError on a mismatch. */
export function decodeTag(t: ResolvedTag, data: Uint8Array): Value {
  // The common case, one atomic element of the declared type, without intermediate objects.
  const code = t.count === 1 && t.firstBit === undefined && t.bit === undefined
    ? ATOMIC_CODES[t.type]
    : undefined;
  if (code !== undefined && data.length >= 2 && (data[0]! | (data[1]! << 8)) === code) {
    const a = t.type as AtomicType;
    if (data.length >= 2 + TYPE_SIZES[a]) {
      const v = decodeAtomicAt(data, 2, a);
      return a === "REAL" ? shortestFloat32(v as number) : v;
    }
  }
  const { wire, body } = wireType(data);
  if (t.bit !== undefined) {
    if (!("atomic" in wire) || !INTEGERS.has(wire.atomic)) {
      throw new RangeError(
        `bit ${t.bit} needs an integer tag; the controller has ${wireName(wire)}`,
      );
    }
    const v = decodeValues(wire, body, 1) as Scalar;
    return typeof v === "bigint"
      ? ((v >> BigInt(t.bit)) & 1n) === 1n
      : ((Number(v) >>> t.bit) & 1) === 1;
  }
  if (t.firstBit !== undefined) {
    if (!("atomic" in wire) || wire.atomic !== "DWORD") {
      throw new RangeError(
        `a BOOL array element comes as DWORD; the controller has ${wireName(wire)}`,
      );
    }
    const words = decodeValues(wire, body, t.requestCount);
    const bits = unpackBits(Array.isArray(words) ? words : [words], t.firstBit, t.count);
    return t.count === 1 ? bits[0]! : bits;
  }
  if (t.type !== "auto" && wireName(wire) !== t.type) {
    throw new RangeError(`the controller has ${wireName(wire)}, the tag is declared ${t.type}`);
  }
  let count = t.requestCount;
  if (t.type === "auto" && "atomic" in wire) {
    count = Math.min(count, body.length / sizeOf(wire.atomic));
  }
  const v = decodeValues(wire, body, count);
  const real = "atomic" in wire && wire.atomic === "REAL";
  const fix = (x: Scalar): Value => real ? shortestFloat32(x as number) : x;
  return Array.isArray(v) ? v.map(fix) : fix(v);
}

function sizeOf(t: string): number {
  return { BOOL: 1, SINT: 1, USINT: 1, INT: 2, UINT: 2, DINT: 4, UDINT: 4, REAL: 4, DWORD: 4 }[t] ??
    8;
}
