/**
 * @module
 * Logix atomic data types: their CIP type codes, sizes, and the codec between the bytes of a
 * Read/Write Tag reply or request and Bifrost values (pure functions, no sockets). STRING
 * is the Logix predefined structure (DINT LEN + SINT[82] DATA); BOOL arrays travel as
 * bit-packed DWORDs (type 0xD3).
 */

/** Atomic type codes of Logix controllers. */
export const TYPE_CODES = {
  BOOL: 0xc1,
  SINT: 0xc2,
  INT: 0xc3,
  DINT: 0xc4,
  LINT: 0xc5,
  USINT: 0xc6,
  UINT: 0xc7,
  UDINT: 0xc8,
  ULINT: 0xc9,
  REAL: 0xca,
  LREAL: 0xcb,
  DWORD: 0xd3,
} as const;

/** A Logix atomic type name. */
export type AtomicType = keyof typeof TYPE_CODES;

/** The types a tag may declare (`STRING` included). */
export const DATA_TYPES = [
  "BOOL",
  "SINT",
  "INT",
  "DINT",
  "LINT",
  "USINT",
  "UINT",
  "UDINT",
  "ULINT",
  "REAL",
  "LREAL",
  "STRING",
] as const;
/** A declared tag type. */
export type DataType = (typeof DATA_TYPES)[number];

/** Byte size of each atomic type on the wire (BOOL is one byte alone, one bit in arrays). */
export const TYPE_SIZES: Record<AtomicType, number> = {
  BOOL: 1,
  SINT: 1,
  INT: 2,
  DINT: 4,
  LINT: 8,
  USINT: 1,
  UINT: 2,
  UDINT: 4,
  ULINT: 8,
  REAL: 4,
  LREAL: 8,
  DWORD: 4,
};

/** The structure handle of the Logix STRING type (a CRC of its definition). */
export const STRING_HANDLE = 0x0fce;
/** Characters a Logix STRING holds. */
export const STRING_CAPACITY = 82;
/** Bytes of a Logix STRING: DINT LEN + SINT[82], padded to a multiple of 4. */
export const STRING_SIZE = 88;
/** The type code that introduces a structure in a reply: 0x02A0 then the handle. */
export const STRUCT_TAG = 0x02a0;

const BY_CODE = new Map<number, AtomicType>(
  Object.entries(TYPE_CODES).map(([k, v]) => [v, k as AtomicType]),
);

/** The atomic type of a code, or undefined. */
export function typeOfCode(code: number): AtomicType | undefined {
  return BY_CODE.get(code);
}

/** The wire type of a reply: an atomic type, or a structure with its handle. */
export type WireType = { atomic: AtomicType } | { struct: number };

/** A value of one element. */
export type Scalar = number | bigint | boolean | string;

/** Decodes element `i` of `type` at `view` offset `at` (little-endian, as CIP is). */
export function decodeAtomic(view: DataView, at: number, type: AtomicType): Scalar {
  switch (type) {
    case "BOOL":
      return view.getUint8(at) !== 0;
    case "SINT":
      return view.getInt8(at);
    case "USINT":
      return view.getUint8(at);
    case "INT":
      return view.getInt16(at, true);
    case "UINT":
      return view.getUint16(at, true);
    case "DINT":
      return view.getInt32(at, true);
    case "UDINT":
    case "DWORD":
      return view.getUint32(at, true);
    case "LINT":
      return view.getBigInt64(at, true);
    case "ULINT":
      return view.getBigUint64(at, true);
    case "REAL":
      return view.getFloat32(at, true);
    case "LREAL":
      return view.getFloat64(at, true);
  }
}

/** 8 bytes the wide and floating-point types are copied into to be read (no view per value). */
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/**
 * {@linkcode decodeAtomic} straight from the bytes `b` at `at`, for one value read where it
 * arrives: no `DataView` of the reply (integers of up to 32 bits are put together from their
 * bytes; the others are read through a shared 8-byte scratch view).
 */
export function decodeAtomicAt(b: Uint8Array, at: number, type: AtomicType): Scalar {
  switch (type) {
    case "BOOL":
      return b[at] !== 0;
    case "SINT":
      return (b[at]! << 24) >> 24;
    case "USINT":
      return b[at]!;
    case "INT":
      return ((b[at]! | (b[at + 1]! << 8)) << 16) >> 16;
    case "UINT":
      return b[at]! | (b[at + 1]! << 8);
    case "DINT":
      return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
    case "UDINT":
    case "DWORD":
      return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }
  const size = TYPE_SIZES[type];
  for (let i = 0; i < size; i++) scratch[i] = b[at + i]!;
  return decodeAtomic(scratchView, 0, type);
}

/** Encodes one element of `type` at `view` offset `at`; throws RangeError when it does not fit. */
export function encodeAtomic(view: DataView, at: number, type: AtomicType, v: Scalar): void {
  switch (type) {
    case "BOOL":
      view.setUint8(at, v ? 0xff : 0);
      return;
    case "SINT":
      view.setInt8(at, intIn(v, -128, 127, type));
      return;
    case "USINT":
      view.setUint8(at, intIn(v, 0, 255, type));
      return;
    case "INT":
      view.setInt16(at, intIn(v, -32768, 32767, type), true);
      return;
    case "UINT":
      view.setUint16(at, intIn(v, 0, 65535, type), true);
      return;
    case "DINT":
      view.setInt32(at, intIn(v, -2147483648, 2147483647, type), true);
      return;
    case "UDINT":
    case "DWORD":
      view.setUint32(at, intIn(v, 0, 4294967295, type), true);
      return;
    case "LINT":
      view.setBigInt64(at, bigIn(v, -(2n ** 63n), 2n ** 63n - 1n, type), true);
      return;
    case "ULINT":
      view.setBigUint64(at, bigIn(v, 0n, 2n ** 64n - 1n, type), true);
      return;
    case "REAL":
      view.setFloat32(at, num(v, type), true);
      return;
    case "LREAL":
      view.setFloat64(at, num(v, type), true);
      return;
  }
}

function num(v: Scalar, type: string): number {
  const n = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`${String(v)} is not a number for ${type}`);
  return n;
}

function intIn(v: Scalar, min: number, max: number, type: string): number {
  const n = num(v, type);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${String(v)} does not fit ${type} (${min}..${max})`);
  }
  return n;
}

function bigIn(v: Scalar, min: bigint, max: bigint, type: string): bigint {
  let b: bigint;
  try {
    b = typeof v === "bigint" ? v : BigInt(typeof v === "boolean" ? (v ? 1 : 0) : v);
  } catch {
    throw new RangeError(`${String(v)} is not an integer for ${type}`);
  }
  if (b < min || b > max) {
    throw new RangeError(`${String(v)} does not fit ${type} (${min}..${max})`);
  }
  return b;
}

/** Decodes a Logix STRING (LEN then DATA) at `at`. */
export function decodeString(bytes: Uint8Array, at: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Math.max(
    0,
    Math.min(view.getInt32(at, true), STRING_CAPACITY, bytes.length - at - 4),
  );
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[at + 4 + i]!);
  return s;
}

/** Encodes a Logix STRING (88 bytes); throws RangeError beyond 82 characters or non-Latin-1. */
export function encodeString(s: string): Uint8Array {
  if (s.length > STRING_CAPACITY) {
    throw new RangeError(`"${s}" has ${s.length} characters; a STRING holds ${STRING_CAPACITY}`);
  }
  const out = new Uint8Array(STRING_SIZE);
  new DataView(out.buffer).setInt32(0, s.length, true);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new RangeError(`"${s}" has a character a STRING cannot hold: "${s[i]}"`);
    out[4 + i] = c;
  }
  return out;
}

/**
 * Decodes `count` elements of a reply's data. BOOL arrays come as DWORDs; `bits` > 0 unpacks
 * that many BOOLs from them. A count of 1 gives a scalar, more an array.
 */
export function decodeValues(
  wire: WireType,
  data: Uint8Array,
  count: number,
): Scalar | Scalar[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Scalar[] = [];
  if ("struct" in wire) {
    if (wire.struct !== STRING_HANDLE) {
      throw new RangeError(`structure 0x${wire.struct.toString(16)} needs its template`);
    }
    for (let i = 0; i < count && (i + 1) * STRING_SIZE <= data.length; i++) {
      out.push(decodeString(data, i * STRING_SIZE));
    }
  } else {
    const size = TYPE_SIZES[wire.atomic];
    const n = Math.min(count, Math.floor(data.length / size));
    for (let i = 0; i < n; i++) out.push(decodeAtomic(view, i * size, wire.atomic));
  }
  if (out.length < count) {
    throw new RangeError(`the reply holds ${out.length} of ${count} elements`);
  }
  return count === 1 ? out[0]! : out;
}

/** Unpacks `bits` BOOLs from DWORD words, starting at bit `first`. */
export function unpackBits(words: readonly Scalar[], first: number, bits: number): boolean[] {
  const out: boolean[] = [];
  for (let i = first; i < first + bits; i++) {
    const w = Number(words[i >> 5] ?? 0);
    out.push(((w >>> (i & 31)) & 1) === 1);
  }
  return out;
}
