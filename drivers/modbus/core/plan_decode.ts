/**
 * @module
 * How a planned request decodes its tags. A plan keeps every tag as a few numbers in typed
 * arrays (index in the plan, decoder code, byte offset in the response PDU, bit number), 8
 * bytes a tag, instead of an object and a closure per tag (some 330 bytes). The arrays are
 * one set per plan, not per request: a typed array view alone takes about 100 bytes of heap,
 * so four per request would cost more than the slots of a 100-tag device. A read decodes
 * them in one loop with a switch on the code, straight into a {@linkcode ReadSink}, so that
 * a poll allocates no object per tag. Single bits and 16/32-bit values, the bulk of real tag
 * lists, decode here without a view or a type dispatch; the rest (arrays, strings, 64-bit
 * types) keep their {@linkcode ResolvedTag} and go through `decodeItem`, with the same values.
 */

import {
  type BifrostError,
  type ReadSink,
  shortestFloat32,
  type Value,
} from "../../../engine/plugin.ts";
import type { ByteOrder } from "./spec.ts";
import type { ResolvedTag } from "./tags.ts";
import { decodeItem } from "./write.ts";

/** Decoder codes; a 32-bit type's four byte orders follow each other in `BYTE_ORDER_RANK` order. */
export const Decoder = {
  /** Arrays, strings, 64-bit types: `decodeItem` with the tag's {@linkcode ResolvedTag}. */
  GENERIC: 0,
  /** A coil or discrete input: bit `bit` of the byte at `offset`. */
  BIT: 1,
  /** A register bit: bit `bit` (0 = least significant) of the register at `offset`. */
  REGISTER_BIT: 2,
  UINT16: 3,
  /** uint16 in BADC / DCBA order (bytes swapped). */
  UINT16_SWAPPED: 4,
  INT16: 5,
  INT16_SWAPPED: 6,
  /** uint32 in ABCD; +1 CDAB, +2 BADC, +3 DCBA. */
  UINT32: 7,
  INT32: 11,
  FLOAT32: 15,
} as const;

/** Offset of each byte order from a 32-bit type's code. */
const BYTE_ORDER_RANK: Record<ByteOrder, number> = { ABCD: 0, CDAB: 1, BADC: 2, DCBA: 3 };

/**
 * The tags of a plan as parallel typed arrays, one entry (slot) per tag, in one buffer of 8
 * bytes a tag; each request owns a contiguous range of slots.
 */
export interface PlanSlots {
  /** Index of each tag in `plan.tags`. */
  readonly index: Uint32Array;
  /** {@linkcode Decoder} code of each tag. */
  readonly code: Uint8Array;
  /** Byte offset of each tag in its response PDU (its first register, or the byte of its first bit). */
  readonly offset: Uint16Array;
  /** Bit number of bit tags (register bit, or bit in the byte at `offset`); 0 otherwise. */
  readonly bit: Uint8Array;
}

/** The slots of one request: `slots[first..end)`. */
export interface SlotRange {
  readonly slots: PlanSlots;
  readonly first: number;
  readonly end: number;
  /** The tags of code `GENERIC` in the range, in slot order; empty for ordinary tags. */
  readonly generic: readonly ResolvedTag[];
}

/** Parallel arrays for `n` slots, in one buffer. */
export function planSlots(n: number): PlanSlots {
  const buffer = new ArrayBuffer(8 * n);
  return {
    index: new Uint32Array(buffer, 0, n),
    offset: new Uint16Array(buffer, 4 * n, n),
    code: new Uint8Array(buffer, 6 * n, n),
    bit: new Uint8Array(buffer, 7 * n, n),
  };
}

/**
 * Fills slot `i` of `s` for `tag`, sitting `at` registers (or bits) after its request's
 * start; returns whether the tag needs the generic path (the caller keeps it then).
 */
export function setSlot(
  s: PlanSlots,
  i: number,
  tag: ResolvedTag,
  at: number,
): boolean {
  if (tag.table === "C" || tag.table === "DI") {
    s.offset[i] = 2 + (at >> 3);
    s.bit[i] = at & 7;
    s.code[i] = tag.elements === 1 ? Decoder.BIT : Decoder.GENERIC;
    return tag.elements !== 1;
  }
  s.offset[i] = 2 + 2 * at;
  if (tag.bit !== undefined) {
    s.bit[i] = tag.bit;
    s.code[i] = Decoder.REGISTER_BIT;
    return false;
  }
  const swapped = tag.order === "BADC" || tag.order === "DCBA";
  let code: number = Decoder.GENERIC;
  if (tag.elements === 1) {
    switch (tag.type) {
      case "uint16":
        code = swapped ? Decoder.UINT16_SWAPPED : Decoder.UINT16;
        break;
      case "int16":
        code = swapped ? Decoder.INT16_SWAPPED : Decoder.INT16;
        break;
      case "uint32":
        code = Decoder.UINT32 + BYTE_ORDER_RANK[tag.order];
        break;
      case "int32":
        code = Decoder.INT32 + BYTE_ORDER_RANK[tag.order];
        break;
      case "float32":
        code = Decoder.FLOAT32 + BYTE_ORDER_RANK[tag.order];
        break;
    }
  }
  s.code[i] = code;
  return code === Decoder.GENERIC;
}

/** Registers (or bits) from the request's start to slot `i`'s tag (generic path). */
function atOf(s: PlanSlots, i: number, tag: ResolvedTag): number {
  const o = s.offset[i]! - 2;
  return tag.table === "C" || tag.table === "DI" ? (o << 3) | s.bit[i]! : o >> 1;
}

const scratch = new DataView(new ArrayBuffer(4));

/**
 * Decodes every tag of a request from `p`, its checked response PDU (FC1-4: data from byte
 * 2), into `sink`, all stamped `ts`. Allocates nothing for ordinary tags (the generic ones
 * build their arrays and strings). The switch sits in the loop itself, the arrays in locals:
 * a decoder function per slot, too big for V8 to inline, cost four times as much.
 */
export function decodeInto(r: SlotRange, p: Uint8Array, ts: number, sink: ReadSink): void {
  const { index, code, offset, bit } = r.slots;
  let g = 0;
  for (let i = r.first; i < r.end; i++) {
    const o = offset[i]!;
    let v: Value;
    // Literal cases (see `Decoder`) make a jump table.
    switch (code[i]) {
      case 1: // BIT
        v = ((p[o]! >> bit[i]!) & 1) === 1;
        break;
      case 2: // REGISTER_BIT
        v = ((((p[o]! << 8) | p[o + 1]!) >> bit[i]!) & 1) === 1;
        break;
      case 3: // UINT16
        v = (p[o]! << 8) | p[o + 1]!;
        break;
      case 4: // UINT16_SWAPPED
        v = (p[o + 1]! << 8) | p[o]!;
        break;
      case 5: // INT16
        v = (((p[o]! << 8) | p[o + 1]!) << 16) >> 16;
        break;
      case 6: // INT16_SWAPPED
        v = (((p[o + 1]! << 8) | p[o]!) << 16) >> 16;
        break;
      case 7: // UINT32 ABCD
        v = ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
        break;
      case 8: // UINT32 CDAB
        v = ((p[o + 2]! << 24) | (p[o + 3]! << 16) | (p[o]! << 8) | p[o + 1]!) >>> 0;
        break;
      case 9: // UINT32 BADC
        v = ((p[o + 1]! << 24) | (p[o]! << 16) | (p[o + 3]! << 8) | p[o + 2]!) >>> 0;
        break;
      case 10: // UINT32 DCBA
        v = ((p[o + 3]! << 24) | (p[o + 2]! << 16) | (p[o + 1]! << 8) | p[o]!) >>> 0;
        break;
      case 11: // INT32 ABCD
        v = (p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!;
        break;
      case 12: // INT32 CDAB
        v = (p[o + 2]! << 24) | (p[o + 3]! << 16) | (p[o]! << 8) | p[o + 1]!;
        break;
      case 13: // INT32 BADC
        v = (p[o + 1]! << 24) | (p[o]! << 16) | (p[o + 3]! << 8) | p[o + 2]!;
        break;
      case 14: // INT32 DCBA
        v = (p[o + 3]! << 24) | (p[o + 2]! << 16) | (p[o + 1]! << 8) | p[o]!;
        break;
      case 15: // FLOAT32 ABCD
        scratch.setUint32(0, (p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!);
        v = shortestFloat32(scratch.getFloat32(0));
        break;
      case 16: // FLOAT32 CDAB
        scratch.setUint32(0, (p[o + 2]! << 24) | (p[o + 3]! << 16) | (p[o]! << 8) | p[o + 1]!);
        v = shortestFloat32(scratch.getFloat32(0));
        break;
      case 17: // FLOAT32 BADC
        scratch.setUint32(0, (p[o + 1]! << 24) | (p[o]! << 16) | (p[o + 3]! << 8) | p[o + 2]!);
        v = shortestFloat32(scratch.getFloat32(0));
        break;
      case 18: // FLOAT32 DCBA
        scratch.setUint32(0, (p[o + 3]! << 24) | (p[o + 2]! << 16) | (p[o + 1]! << 8) | p[o]!);
        v = shortestFloat32(scratch.getFloat32(0));
        break;
      default: {
        const tag = r.generic[g++]!;
        v = decodeItem(p.subarray(2), atOf(r.slots, i, tag), tag);
      }
    }
    sink.value(index[i]!, v, ts);
  }
}

/** Marks every tag of a request bad with `error`. */
export function failInto(r: SlotRange, error: BifrostError, sink: ReadSink): void {
  const index = r.slots.index;
  for (let i = r.first; i < r.end; i++) sink.fail(index[i]!, error);
}
