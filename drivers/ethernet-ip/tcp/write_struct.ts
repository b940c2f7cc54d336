/**
 * @module
 * Whole-structure writes: a UDT (or a structure member of one) written in one Write Tag with
 * the template's byte layout, from an object of its members (`driver.write` with a record value,
 * or `bifrost write 'eip://host/Line' '{"Speed":1.5,...}'`). The structure's current bytes are
 * read first (its handle, size, padding and hidden BOOL hosts come from the controller), every
 * visible member is set from the object, and the result goes out with the structure's handle.
 * The object must name every member of the template, no more: a whole-structure write sets the
 * whole structure, so a missing member is an error, not a silent zero. Flows never get here: the
 * engine's tag values are scalars and arrays, and a flow writes a UDT member by member.
 */

import type { Value } from "../../../engine/plugin.ts";
import type { TagAddress } from "../core/address.ts";
import type { StructTemplate } from "../core/template.ts";
import {
  type AtomicType,
  encodeAtomic,
  encodeString,
  type Scalar,
  STRING_HANDLE,
  STRING_SIZE,
  TYPE_CODES,
  TYPE_SIZES,
} from "../core/types.ts";
import { listScope, template } from "./browse.ts";
import type { CipClient } from "./client.ts";

type Template = StructTemplate & { handle: number };

/** Whether `v` is a record value (an object of members, not an array). */
export function isRecord(v: unknown): v is { [k: string]: Value } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The members of `value` encoded over `current` (the structure's bytes as read) by the template
 * of the structure at `address`; throws a RangeError naming the member and the reason.
 */
export async function encodeStructure(
  client: CipClient,
  address: TagAddress,
  handle: number,
  current: Uint8Array,
  value: Value,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const obj = toRecord(value);
  const tpl = await templateAt(client, address, signal);
  if (tpl.handle !== handle) {
    throw new RangeError(
      `the controller's structure (handle 0x${
        handle.toString(16)
      }) is not its template ${tpl.name} (handle 0x${tpl.handle.toString(16)}): downloaded since?`,
    );
  }
  const out = current.slice();
  await encodeInto(client, tpl, obj, out, 0, address.text, signal);
  return out;
}

function toRecord(value: Value): { [k: string]: Value } {
  if (isRecord(value)) return value;
  if (typeof value === "string") {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch (e) {
      throw new RangeError(
        `a structure is written from a JSON object of its members; this is not JSON (${
          (e as SyntaxError).message
        })`,
      );
    }
    if (isRecord(v)) return v;
  }
  throw new RangeError("a structure is written from an object of its members");
}

/** The template of the structure at `address`: its symbol's, then nested members' templates. */
async function templateAt(
  client: CipClient,
  address: TagAddress,
  signal: AbortSignal,
): Promise<Template> {
  let symbols;
  try {
    symbols = await listScope(client, address.program, signal);
  } catch (e) {
    throw new RangeError(
      `a whole-structure write needs the structure's template: ${
        (e as Error).message
      }; write its members one by one`,
    );
  }
  const first = address.parts[0]!.name.toLowerCase();
  const sym = symbols.find((s) => s.name.toLowerCase() === first);
  if (!sym || (sym.type & 0x8000) === 0) {
    throw new RangeError(`${address.parts[0]!.name} is not a structure in the symbol list`);
  }
  let tpl = await template(client, sym.type & 0x0fff, signal);
  for (const part of address.parts.slice(1)) {
    const m = tpl.members.find((x) => x.name.toLowerCase() === part.name.toLowerCase());
    if (!m || m.template === undefined) {
      throw new RangeError(`${part.name} is not a structure member of ${tpl.name}`);
    }
    tpl = await template(client, m.template, signal);
  }
  return tpl;
}

async function encodeInto(
  client: CipClient,
  tpl: Template,
  obj: { [k: string]: Value },
  out: Uint8Array,
  base: number,
  where: string,
  signal: AbortSignal,
): Promise<void> {
  const members = tpl.members.filter((m) => !m.hidden);
  const byName = new Map(members.map((m) => [m.name.toLowerCase(), m]));
  const known = members.map((m) => m.name).join(", ");
  for (const k of Object.keys(obj)) {
    if (!byName.has(k.toLowerCase())) {
      throw new RangeError(`${where} (${tpl.name}) has no member "${k}" (members: ${known})`);
    }
  }
  const given = new Map(Object.entries(obj).map(([k, v]) => [k.toLowerCase(), v]));
  const missing = members.filter((m) => !given.has(m.name.toLowerCase())).map((m) => m.name);
  if (missing.length > 0) {
    throw new RangeError(
      `${where} (${tpl.name}) misses member${missing.length > 1 ? "s" : ""} ${
        missing.map((n) => `"${n}"`).join(", ")
      }: a whole-structure write sets every member (${known})`,
    );
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const m of members) {
    const v = given.get(m.name.toLowerCase())!;
    const at = base + m.offset;
    const name = `${where}.${m.name}`;
    if (m.bit !== undefined) {
      const on = toBool(v, name);
      out[at] = on ? out[at]! | (1 << m.bit) : out[at]! & ~(1 << m.bit);
      continue;
    }
    const values = elements(v, m.array, name);
    if (m.template !== undefined) {
      const sub = await template(client, m.template, signal);
      if (sub.handle === STRING_HANDLE || sub.name === "STRING") {
        values.forEach((s, i) => {
          if (typeof s !== "string") throw new RangeError(`${name} is a STRING: expected text`);
          out.set(encodeString(s), at + i * STRING_SIZE);
        });
      } else if (m.array > 0) {
        throw new RangeError(
          `${name} is an array of ${sub.name}: write its elements' members one by one`,
        );
      } else {
        if (!isRecord(v)) throw new RangeError(`${name} is a ${sub.name}: expected an object`);
        await encodeInto(client, sub, v, out, at, name, signal);
      }
      continue;
    }
    const a = m.type as AtomicType | undefined;
    if (!a || !(a in TYPE_CODES)) {
      throw new RangeError(`${name} has a type this driver cannot write`);
    }
    values.forEach((x, i) => {
      const s: Scalar = a === "BOOL" ? toBool(x, name) : toNumber(x, name);
      const offset = at + i * TYPE_SIZES[a];
      if (offset + TYPE_SIZES[a] > out.length) {
        throw new RangeError(`${name} lies past the structure's end: the template does not fit`);
      }
      try {
        encodeAtomic(view, offset, a, s);
      } catch (e) {
        throw new RangeError(`${name} (${a}): ${(e as Error).message}`);
      }
    });
  }
}

function elements(v: Value, array: number, name: string): Value[] {
  if (array === 0) return [v];
  if (!Array.isArray(v) || v.length !== array) {
    throw new RangeError(`${name} is an array of ${array}: expected ${array} elements`);
  }
  return v;
}

function toBool(v: Value, name: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw new RangeError(`${name} is a BOOL: expected true or false, got ${JSON.stringify(v)}`);
}

function toNumber(v: Value, name: string): number | bigint {
  if (typeof v === "number" || typeof v === "bigint") return v;
  throw new RangeError(
    `${name} is a number: got ${typeof v === "string" ? JSON.stringify(v) : typeof v}`,
  );
}
