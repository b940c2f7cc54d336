/**
 * @module
 * Tags resolved for the wire: each declared tag's request path, the elements to ask for,
 * how to pick its value out of the reply (a BOOL array element out of its DWORD, a bit out
 * of an integer), and the reply size the planner budgets for it.
 */

import type { TagConfig, ValueKind } from "../../../engine/plugin.ts";
import { encodePath, parseAddress, type TagAddress } from "./address.ts";
import { DATA_TYPES, type DataType, STRING_SIZE, TYPE_SIZES } from "./types.ts";

/** A declared type, or `auto`: learnt from the controller's reply (URLs of `bifrost read`). */
export type TagType = DataType | "auto";

/** A tag ready for the wire. */
export interface ResolvedTag {
  /** The tag's index in the plan. */
  index: number;
  tag: TagConfig;
  address: TagAddress;
  type: TagType;
  /** Elements the flow asks for. */
  count: number;
  /** The request path (without the bit). */
  path: Uint8Array;
  /** Elements the request asks for (DWORDs for BOOL array elements). */
  requestCount: number;
  /** A BOOL array element: the first bit within the first DWORD asked. */
  firstBit?: number;
  /** A bit of an integer. */
  bit?: number;
  /** Data bytes the reply carries (type header excluded), for the planner. */
  replyBytes: number;
  /** A whole-structure read: the member tags cut out of it (see `struct.ts`). */
  members?: MemberSlot[];
  /** The structure handle a whole-structure read expects. */
  handle?: number;
}

/** The path of a tag packed into a Multiple Service Packet: the packet holds its bytes. */
export const NO_PATH: Uint8Array = new Uint8Array(0);

/** A tag's request path, encoded again when its plan let it go (see `planPackets`). */
export function pathOf(t: ResolvedTag): Uint8Array {
  return t.path.length > 0 ? t.path : (t.path = encodePath(
    t.address,
    t.firstBit === undefined
      ? undefined
      : [t.address.parts[t.address.parts.length - 1]!.indexes[0]! >> 5],
  ));
}

/** A member tag placed in its structure (see `struct.ts`). */
export interface MemberSlot {
  t: ResolvedTag;
  /** Byte offset of the member's first element in the structure. */
  offset: number;
  /** A BOOL member's bit in the byte at `offset`. */
  bit?: number;
}

/** The plan indexes a resolved tag reports (its members' for a whole-structure read). */
export function indexesOf(t: ResolvedTag): number[] {
  return t.members ? t.members.map((m) => m.t.index) : [t.index];
}

/** Resolves a tag; throws a RangeError saying what is wrong with its address or type. */
export function resolveTag(tag: TagConfig, index = 0): ResolvedTag {
  const address = parseAddress(tag.address);
  const type = (tag.type === "" || tag.type === "auto" ? "auto" : tag.type) as TagType;
  if (type !== "auto" && !(DATA_TYPES as readonly string[]).includes(type)) {
    throw new RangeError(
      `Cannot use type "${tag.type}" for tag "${tag.name}": expected one of ${
        DATA_TYPES.join(", ")
      }`,
    );
  }
  const count = typeof tag.config.count === "number" ? tag.config.count : 1;
  const last = address.parts[address.parts.length - 1]!;
  if (address.bit !== undefined) {
    if (type !== "BOOL" && type !== "auto") {
      throw new RangeError(
        `Tag "${tag.name}" addresses bit ${address.bit} of an integer: its type must be BOOL, not ${type}`,
      );
    }
    if (count !== 1) throw new RangeError(`Tag "${tag.name}" addresses one bit: count must be 1`);
    return {
      index,
      tag,
      address,
      type: "BOOL",
      count,
      path: encodePath(address),
      requestCount: 1,
      bit: address.bit,
      replyBytes: 8,
    };
  }
  if (type === "BOOL" && last.indexes.length > 0) {
    if (last.indexes.length > 1) {
      throw new RangeError(`Tag "${tag.name}": a BOOL array has one dimension`);
    }
    const i = last.indexes[0]!;
    const words = Math.ceil(((i & 31) + count) / 32);
    return {
      index,
      tag,
      address,
      type,
      count,
      path: encodePath(address, [i >> 5]),
      requestCount: words,
      firstBit: i & 31,
      replyBytes: words * 4,
    };
  }
  const size = type === "auto" ? 8 : type === "STRING" ? STRING_SIZE : TYPE_SIZES[type];
  return {
    index,
    tag,
    address,
    type,
    count,
    path: encodePath(address),
    requestCount: count,
    replyBytes: size * count + (type === "STRING" || type === "auto" ? 2 : 0),
  };
}

/**
 * How a tag's values are carried: an array above one element, else by type (LINT and
 * ULINT as bigint). A tag of type `auto` (a URL without a type) is carried as the text
 * typed for a write; its reads give whatever the controller's type gives.
 */
export function eipValueKind(tag: TagConfig): ValueKind {
  const count = tag.config.count;
  if (typeof count === "number" && count > 1) return "array";
  switch (tag.type) {
    case "BOOL":
      return "boolean";
    case "LINT":
    case "ULINT":
      return "bigint";
    case "REAL":
    case "LREAL":
      return "float";
    case "STRING":
    case "":
    case "auto":
      return "string";
    case "SINT":
    case "INT":
    case "DINT":
    case "USINT":
    case "UINT":
    case "UDINT":
      return "integer";
    default:
      throw new RangeError(
        `Cannot tell the value kind of tag "${tag.name}": unknown type "${tag.type}"`,
      );
  }
}
