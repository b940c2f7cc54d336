/**
 * @module
 * UDT templates (Template object, class 0x6C) as Read Template returns them: one 8-byte
 * entry per member (info, type, offset), then the structure's name (`Name;n...`) and the
 * member names, NUL-terminated. Pure functions.
 */

import { typeOfCode } from "./types.ts";

/** A member of a structure. */
export interface StructMember {
  name: string;
  /** Atomic type name, `STRING`, or undefined for a nested structure (see `template`). */
  type?: string;
  /** The template instance of a nested structure. */
  template?: number;
  offset: number;
  /** Array length (0 when not an array). */
  array: number;
  /** A BOOL member's bit in its host byte. */
  bit?: number;
  /** Hidden host members of BOOLs (`ZZZZZZZZZZ...`) and names starting with `__`. */
  hidden: boolean;
}

/** A decoded template. */
export interface StructTemplate {
  name: string;
  members: StructMember[];
}

/** Decodes a template definition of `memberCount` members. */
export function decodeTemplate(def: Uint8Array, memberCount: number): StructTemplate {
  if (def.length < memberCount * 8) throw new RangeError("the template definition is cut short");
  const v = new DataView(def.buffer, def.byteOffset, def.byteLength);
  const strings = new TextDecoder("latin1").decode(def.subarray(memberCount * 8)).split("\0");
  const name = (strings[0] ?? "").split(";")[0]!;
  const members: StructMember[] = [];
  for (let i = 0; i < memberCount; i++) {
    const info = v.getUint16(i * 8, true);
    const type = v.getUint16(i * 8 + 2, true);
    const offset = v.getUint32(i * 8 + 4, true);
    const mname = strings[i + 1] ?? `member${i}`;
    const struct = (type & 0x8000) !== 0;
    const atomic = struct ? undefined : typeOfCode(type & 0xff);
    const array = (type & 0x2000) !== 0 ? info : 0;
    const m: StructMember = {
      name: mname,
      offset,
      array,
      hidden: mname.startsWith("ZZZZZZZZZZ") || mname.startsWith("__"),
    };
    if (struct) m.template = type & 0x0fff;
    else if (atomic) m.type = atomic;
    if (atomic === "BOOL" && !array) m.bit = info;
    members.push(m);
  }
  return { name, members };
}
