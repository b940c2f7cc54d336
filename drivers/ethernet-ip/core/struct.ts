/**
 * @module
 * Structure reads decoded by the template. A UDT maps onto engine values as one tag per
 * member (`Line.Speed`, `Line.Running`): each member tag can always be read on its own by its
 * symbolic path. When two or more members of one structure are in a poll and the controller
 * gives the structure's template (Symbol and Template objects), the planner reads the whole
 * structure once and every member is cut out of it at its template offset; a controller
 * that refuses the template keeps the member-by-member reads.
 */

import { shortestFloat32, type Value } from "../../../engine/plugin.ts";
import { encodePath, formatAddress } from "./address.ts";
import type { MemberSlot, ResolvedTag } from "./tags.ts";
import type { StructMember } from "./template.ts";
import {
  type AtomicType,
  decodeAtomic,
  decodeString,
  STRING_SIZE,
  TYPE_CODES,
  TYPE_SIZES,
} from "./types.ts";

export type { MemberSlot };

/** The key of the structure a member tag belongs to (`Program:P|Line[2]`), or undefined. */
export function parentKey(t: ResolvedTag): string | undefined {
  const a = t.address;
  if (a.parts.length !== 2 || a.bit !== undefined || t.type === "auto") return undefined;
  if (t.firstBit !== undefined) return undefined;
  const p = a.parts[0]!;
  return `${a.program ?? ""}|${p.name}[${p.indexes.join(",")}]`.toLowerCase();
}

/** The read of a whole structure standing for its members' tags. */
export function structRead(members: MemberSlot[], handle: number, size: number): ResolvedTag {
  const first = members[0]!.t;
  const parent = {
    text: "",
    parts: [first.address.parts[0]!],
    ...(first.address.program ? { program: first.address.program } : {}),
  };
  const text = formatAddress(parent);
  return {
    index: -1,
    tag: {
      name: members.map((m) => m.t.tag.name).join(", "),
      address: text,
      type: "struct",
      writable: false,
      config: {},
    },
    address: { ...parent, text },
    type: "auto",
    count: 1,
    path: encodePath(parent),
    requestCount: 1,
    replyBytes: size + 2,
    members,
    handle,
  };
}

/** Places a member tag in a template; undefined when it cannot be cut out of the structure. */
export function slotOf(
  t: ResolvedTag,
  m: StructMember | undefined,
  stringTemplate: boolean,
): MemberSlot | undefined {
  if (!m || m.hidden) return undefined;
  const idx = t.address.parts[1]!.indexes;
  if (m.bit !== undefined) {
    return t.type === "BOOL" && idx.length === 0 ? { t, offset: m.offset, bit: m.bit } : undefined;
  }
  const type = m.template !== undefined ? (stringTemplate ? "STRING" : undefined) : m.type;
  if (type !== t.type) return undefined;
  const size = type === "STRING" ? STRING_SIZE : TYPE_SIZES[type as AtomicType];
  const first = idx[0] ?? 0;
  if (idx.length > 1 || (m.array === 0 && (idx.length > 0 || t.count > 1))) return undefined;
  if (m.array > 0 && first + t.count > m.array) return undefined;
  return { t, offset: m.offset + first * size };
}

/** A member's value out of the structure's bytes. */
export function memberValue(s: MemberSlot, body: Uint8Array): Value {
  const t = s.t;
  if (s.bit !== undefined) return ((body[s.offset]! >> s.bit) & 1) === 1;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Value[] = [];
  for (let i = 0; i < t.count; i++) {
    if (t.type === "STRING") out.push(decodeString(body, s.offset + i * STRING_SIZE));
    else {
      const a = t.type as AtomicType;
      if (!(a in TYPE_CODES)) throw new RangeError(`cannot cut a ${t.type} out of a structure`);
      const at = s.offset + i * TYPE_SIZES[a];
      if (at + TYPE_SIZES[a] > body.length) {
        throw new RangeError("the structure is shorter than its template");
      }
      const v = decodeAtomic(view, at, a);
      out.push(a === "REAL" ? shortestFloat32(v as number) : a === "BOOL" ? v : v);
    }
  }
  return t.count === 1 ? out[0]! : out;
}
