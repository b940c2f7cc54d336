/**
 * @module
 * The simulated controller's memory: typed tags (controller and program scope), arrays of
 * up to 3 dimensions, UDTs laid out as Logix lays them (members aligned, BOOLs packed into
 * hidden SINT hosts) with templates that Read Template serves, and the Symbol object's
 * instances. Values live as the bytes a Logix controller holds, so that Read Tag, Read Tag
 * Fragmented and member access all slice the same memory.
 */

import {
  type AtomicType,
  decodeAtomic,
  decodeString,
  encodeAtomic,
  encodeString,
  type Scalar,
  STRING_HANDLE,
  STRING_SIZE,
  TYPE_CODES,
  TYPE_SIZES,
} from "../core/types.ts";

/** A member of a simulated UDT as a map declares it. */
export interface MemberSpec {
  type: string;
  /** Array length of the member (one dimension). */
  dims?: number;
}

/** A tag of a simulated controller as a map declares it. */
export interface SimTagSpec {
  /** An atomic type, STRING or the name of a structure of the map. */
  type: string;
  /** Array dimensions (`[10]`, `[4, 3]`). */
  dims?: number[];
  /** The initial value: a scalar, an array (flattened), or an object for a structure. */
  value?: unknown;
  /** A value generator for an atomic scalar (`simulators/generators.ts`), and its fields. */
  generator?: string;
  min?: number;
  max?: number;
  period?: string | number;
  step?: number;
  every?: string | number;
  seed?: number;
}

/** A template of the simulated controller. */
export interface Template {
  id: number;
  name: string;
  handle: number;
  size: number;
  members: TemplateMember[];
}

/** A member of a template, as Read Template describes it. */
export interface TemplateMember {
  name: string;
  /** Atomic type, or the nested template. */
  type: AtomicType | Template;
  offset: number;
  /** BOOL: the bit in the host byte; arrays: the length; else 0. */
  info: number;
  array: boolean;
  hidden: boolean;
}

/** A tag of the simulated controller. */
export interface SimTag {
  name: string;
  instance: number;
  type: AtomicType | Template;
  dims: number[];
  data: Uint8Array;
}

/** The memory at a path: what a Read or Write Tag addresses. */
export interface View {
  tag: SimTag;
  type: AtomicType | Template;
  /** Byte offset of the addressed element in the tag's data. */
  offset: number;
  /** Bytes of one element. */
  size: number;
  /** Elements from the addressed one to the end of the array (1 for a member). */
  available: number;
  /** A BOOL member: its bit in the byte at `offset`. */
  bit?: number;
}

/** A CIP error the store reports: general status and extended status. */
export class CipError extends Error {
  constructor(readonly status: number, readonly extended: number[] = [], message = "") {
    super(message || `CIP status 0x${status.toString(16)}`);
  }
}

const elemSize = (t: AtomicType | Template) =>
  typeof t === "string" ? (t === "BOOL" ? 1 : TYPE_SIZES[t]) : t.size;

/** The predefined STRING template (handle 0x0FCE). */
function stringTemplate(id: number): Template {
  return {
    id,
    name: "STRING",
    handle: STRING_HANDLE,
    size: STRING_SIZE,
    members: [
      { name: "LEN", type: "DINT", offset: 0, info: 0, array: false, hidden: false },
      { name: "DATA", type: "SINT", offset: 4, info: 82, array: true, hidden: false },
    ],
  };
}

/** A controller's tags, templates and symbols. */
export class TagStore {
  readonly tags = new Map<string, SimTag>();
  readonly programs = new Map<string, Map<string, SimTag>>();
  readonly templates = new Map<number, Template>();
  #byName = new Map<string, Template>();
  #nextInstance = 1;
  #nextTemplate = 0x100;

  constructor(structures: Record<string, Record<string, MemberSpec | string>> = {}) {
    const s = stringTemplate(this.#nextTemplate++);
    this.templates.set(s.id, s);
    this.#byName.set("STRING", s);
    for (const name of Object.keys(structures)) this.#defineStruct(name, structures, []);
  }

  #type(
    name: string,
    structures: Record<string, Record<string, MemberSpec | string>>,
    stack: string[],
  ): AtomicType | Template {
    const upper = name.toUpperCase();
    if (upper in TYPE_CODES && upper !== "DWORD") return upper as AtomicType;
    const t = this.#byName.get(upper === "STRING" ? "STRING" : name);
    if (t) return t;
    if (structures[name]) return this.#defineStruct(name, structures, stack);
    throw new RangeError(`unknown type "${name}"`);
  }

  #defineStruct(
    name: string,
    structures: Record<string, Record<string, MemberSpec | string>>,
    stack: string[],
  ): Template {
    const have = this.#byName.get(name);
    if (have) return have;
    if (stack.includes(name)) throw new RangeError(`structure "${name}" contains itself`);
    const members: TemplateMember[] = [];
    let at = 0;
    let host = -1;
    let hostBits = 8;
    let align = 1;
    for (const [mname, raw] of Object.entries(structures[name]!)) {
      const spec = typeof raw === "string" ? { type: raw } : raw;
      const type = this.#type(spec.type, structures, [...stack, name]);
      if (type === "BOOL" && !spec.dims) {
        if (hostBits === 8) {
          host = at;
          members.push({
            name: `ZZZZZZZZZZ${name}${members.length}`,
            type: "SINT",
            offset: at,
            info: 0,
            array: false,
            hidden: true,
          });
          at += 1;
          hostBits = 0;
        }
        members.push({
          name: mname,
          type: "BOOL",
          offset: host,
          info: hostBits++,
          array: false,
          hidden: false,
        });
        continue;
      }
      hostBits = 8;
      const size = elemSize(type);
      const a = typeof type === "string" ? Math.min(size, 8) : 4;
      align = Math.max(align, a);
      at = Math.ceil(at / a) * a;
      const n = spec.dims ?? 0;
      members.push({ name: mname, type, offset: at, info: n, array: n > 0, hidden: false });
      at += size * Math.max(1, n);
    }
    const size = Math.ceil(Math.max(at, 1) / Math.max(align, 4)) * Math.max(align, 4);
    // A handle like the controller's (a CRC of the definition): any stable 16-bit value.
    let handle = 0;
    for (const c of name) handle = (handle * 31 + c.charCodeAt(0)) & 0xffff;
    const t: Template = { id: this.#nextTemplate++, name, handle, size, members };
    this.templates.set(t.id, t);
    this.#byName.set(name, t);
    return t;
  }

  /** Adds a tag (in `program`'s scope when given) and sets its initial value. */
  define(name: string, spec: SimTagSpec, program?: string): SimTag {
    const type = this.#type(spec.type, {}, []);
    const dims = spec.dims ?? [];
    if (dims.length > 3) throw new RangeError(`tag "${name}" has more than 3 dimensions`);
    const elements = dims.reduce((a, b) => a * b, 1);
    // BOOL arrays are bit-packed in DWORDs.
    const bytes = type === "BOOL" && dims.length > 0
      ? Math.ceil(elements / 32) * 4
      : elemSize(type) * elements;
    const tag: SimTag = {
      name,
      instance: this.#nextInstance++,
      type,
      dims,
      data: new Uint8Array(bytes),
    };
    const scope = program ? this.#program(program) : this.tags;
    scope.set(name, tag);
    if (spec.value !== undefined) this.setValue(tag, [], spec.value);
    return tag;
  }

  #program(name: string): Map<string, SimTag> {
    let p = this.programs.get(name);
    if (!p) this.programs.set(name, p = new Map());
    return p;
  }

  /** Finds a tag by the names of a request path (`Program:X` first for program scope). */
  find(names: readonly string[]): { tag: SimTag; rest: number } {
    const first = names[0] ?? "";
    if (/^Program:/i.test(first)) {
      const p = [...this.programs.entries()].find(([k]) =>
        `program:${k}`.toLowerCase() === first.toLowerCase()
      )?.[1];
      const tag = p && names[1] !== undefined ? findCi(p, names[1]) : undefined;
      if (!tag) throw new CipError(0x05, [], `no tag ${names.slice(0, 2).join(".")}`);
      return { tag, rest: 2 };
    }
    const tag = findCi(this.tags, first);
    if (!tag) throw new CipError(0x05, [], `no tag ${first}`);
    return { tag, rest: 1 };
  }

  /** Resolves a request path (names with their indexes) to memory. */
  resolve(names: readonly string[], indexes: readonly number[][]): View {
    const { tag, rest } = this.find(names);
    return this.resolveIn(tag, names, indexes, rest);
  }

  /** Resolves the members (`names` from `rest` on) of a tag. */
  resolveIn(
    tag: SimTag,
    names: readonly string[],
    indexes: readonly number[][],
    rest: number,
  ): View {
    let type = tag.type;
    let offset = 0;
    let available = 1;
    let bit: number | undefined;
    const boolArray = tag.type === "BOOL" && tag.dims.length > 0;
    let size = boolArray ? 4 : elemSize(type);
    const idx = indexes[rest - 1] ?? [];
    if (boolArray) {
      // A BOOL array is read by its DWORDs: the index addresses a DWORD, as on a Logix.
      const words = tag.data.length / 4;
      const i = idx[0] ?? 0;
      if (idx.length > 1 || i >= words) throw new CipError(0x05, [], `word ${i} out of ${words}`);
      offset = i * 4;
      available = words - i;
      type = "DWORD";
    } else if (tag.dims.length > 0) {
      if (idx.length !== 0 && idx.length !== tag.dims.length) {
        throw new CipError(0x04, [], "wrong number of indexes");
      }
      let flat = 0;
      for (const [k, d] of tag.dims.entries()) {
        const i = idx[k] ?? 0;
        if (i >= d) throw new CipError(0x05, [], `index ${i} out of ${d}`);
        flat = flat * d + i;
      }
      offset = flat * size;
      available = tag.dims.reduce((a, b) => a * b, 1) - flat;
    } else if (idx.length > 0) throw new CipError(0x04, [], "index on a scalar");
    for (let k = rest; k < names.length; k++) {
      if (typeof type === "string") throw new CipError(0x04, [], `${names[k]} is not a member`);
      const m = type.members.find((x) =>
        x.name.toLowerCase() === names[k]!.toLowerCase() && !x.hidden
      );
      if (!m) throw new CipError(0x04, [], `no member ${names[k]}`);
      offset += m.offset;
      type = m.type;
      size = elemSize(type);
      available = 1;
      bit = m.type === "BOOL" && !m.array ? m.info : undefined;
      const mi = indexes[k] ?? [];
      if (m.array) {
        const i = mi[0] ?? 0;
        if (i >= m.info) throw new CipError(0x05, [], `index ${i} out of ${m.info}`);
        offset += i * size;
        available = m.info - i;
      } else if (mi.length > 0) throw new CipError(0x04, [], "index on a scalar member");
    }
    return { tag, type, offset, size, available, ...(bit === undefined ? {} : { bit }) };
  }

  /** Sets a tag's value from a map or a test (scalars, flat arrays, objects for structures). */
  setValue(tag: SimTag, path: readonly string[], value: unknown): void {
    const v = this.resolveIn(tag, [tag.name, ...path], [], 1);
    const boolArray = tag.type === "BOOL" && tag.dims.length > 0 && path.length === 0;
    if (boolArray) {
      const bits = Array.isArray(value) ? value : [value];
      tag.data.fill(0);
      bits.forEach((b, i) => {
        if (b) tag.data[i >> 3]! |= 1 << (i & 7);
      });
      return;
    }
    const values = Array.isArray(value) ? value : [value];
    const count = path.length === 0 ? tag.data.length / v.size : v.available;
    for (let i = 0; i < Math.min(values.length, count); i++) {
      writeElement(tag.data, v.type, v.offset + i * v.size, values[i], v.bit);
    }
  }

  /** The value at a view, decoded (tests, generators): a scalar, an array, or an object. */
  getValue(v: View, count = 1): unknown {
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) {
      out.push(readElement(v.tag.data, v.type, v.offset + i * v.size, v.bit));
    }
    return count === 1 ? out[0] : out;
  }

  /** Every symbol instance of a scope, in instance order. */
  symbols(program?: string): SimTag[] {
    const scope = program === undefined ? this.tags : this.programs.get(program) ?? new Map();
    return [...scope.values()].sort((a, b) => a.instance - b.instance);
  }
}

function findCi(m: Map<string, SimTag>, name: string): SimTag | undefined {
  return m.get(name) ?? [...m.values()].find((t) => t.name.toLowerCase() === name.toLowerCase());
}

/** Writes one element of `type` (atomic, STRING or structure from an object). */
export function writeElement(
  data: Uint8Array,
  type: AtomicType | Template,
  at: number,
  v: unknown,
  bit?: number,
): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (typeof type === "string") {
    if (bit !== undefined) {
      if (v) data[at]! |= 1 << bit;
      else data[at]! &= ~(1 << bit);
      return;
    }
    encodeAtomic(view, at, type, (typeof v === "object" ? 0 : v) as Scalar);
    return;
  }
  if (type.handle === STRING_HANDLE) {
    data.set(encodeString(String(v ?? "")), at);
    return;
  }
  if (v === null || typeof v !== "object") return;
  for (const m of type.members) {
    if (m.hidden || !(m.name in (v as Record<string, unknown>))) continue;
    const mv = (v as Record<string, unknown>)[m.name];
    if (m.array) {
      const arr = Array.isArray(mv) ? mv : [mv];
      for (let i = 0; i < Math.min(arr.length, m.info); i++) {
        writeElement(data, m.type, at + m.offset + i * elemSize(m.type), arr[i]);
      }
    } else writeElement(data, m.type, at + m.offset, mv, m.type === "BOOL" ? m.info : undefined);
  }
}

/** Reads one element of `type`. */
export function readElement(
  data: Uint8Array,
  type: AtomicType | Template,
  at: number,
  bit?: number,
): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (typeof type === "string") {
    if (bit !== undefined) return ((data[at]! >> bit) & 1) === 1;
    return decodeAtomic(view, at, type);
  }
  if (type.handle === STRING_HANDLE) return decodeString(data, at);
  const out: Record<string, unknown> = {};
  for (const m of type.members) {
    if (m.hidden) continue;
    if (m.array) {
      out[m.name] = Array.from(
        { length: m.info },
        (_, i) => readElement(data, m.type, at + m.offset + i * elemSize(m.type)),
      );
    } else {out[m.name] = readElement(
        data,
        m.type,
        at + m.offset,
        m.type === "BOOL" ? m.info : undefined,
      );}
  }
  return out;
}

/** The CIP type code of a view (atomic), or undefined for a structure. */
export function typeCode(t: AtomicType | Template): number | undefined {
  return typeof t === "string" ? TYPE_CODES[t] : undefined;
}

/** The symbol type word of a tag: bit 15 structure, bits 13-14 dimensions, 0-11 code. */
export function symbolType(tag: SimTag): number {
  const base = typeof tag.type === "string" ? TYPE_CODES[tag.type] : 0x8000 | tag.type.id;
  return base | (Math.min(tag.dims.length, 3) << 13);
}

/** The bytes of a template's definition (member infos, then "Name;n..." and member names). */
export function templateDefinition(t: Template): Uint8Array {
  const out: number[] = [];
  for (const m of t.members) {
    const info = m.info;
    const code = typeof m.type === "string" ? TYPE_CODES[m.type] : 0x8000 | m.type.id;
    const type = code | (m.array ? 0x2000 : 0);
    out.push(
      info & 0xff,
      info >> 8,
      type & 0xff,
      type >> 8,
      m.offset & 0xff,
      (m.offset >> 8) & 0xff,
      (m.offset >> 16) & 0xff,
      m.offset >>> 24,
    );
  }
  const names = [
    `${t.name};n${t.handle.toString(16).padStart(4, "0")}`,
    ...t.members.map((m) => m.name),
  ];
  for (const n of names) {
    for (const c of n) out.push(c.charCodeAt(0));
    out.push(0);
  }
  return new Uint8Array(out);
}
