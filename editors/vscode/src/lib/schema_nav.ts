/**
 * @module
 * Bifrost's flow JSON Schema read at a cursor: the fields an object may still take (for
 * completion) and what a field is (for hover), choosing a device's or step's branch by its
 * discriminator (`driver`, `use`) when the file says which. The fallback for editors without
 * the YAML language server.
 */

import { parse } from "yaml";
import { enclosing } from "./completion.ts";
import type { Pos } from "./flow_index.ts";

type Schema = {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string };
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  items?: Schema;
};

/** A field an object may take. */
export interface FieldInfo {
  name: string;
  type: string;
  description?: string;
}

type Obj = Record<string, unknown> | undefined;

/** The object branches of `s` that fit `obj` (by discriminator when known). */
function branches(s: Schema, obj: Obj): Schema[] {
  const alts = s.oneOf ?? s.anyOf;
  let out: Schema[] = [s];
  if (alts) {
    const p = s.discriminator?.propertyName;
    const v = p && obj ? obj[p] : undefined;
    const chosen = v === undefined ? alts : alts.filter((b) => b.properties?.[p!]?.const === v);
    out = [s, ...(chosen.length ? chosen : alts).flatMap((b) => branches(b, obj))];
  }
  if (s.allOf) out.push(...s.allOf.flatMap((b) => branches(b, obj)));
  return out;
}

function childOf(s: Schema, key: string, obj: Obj): Schema[] {
  const out: Schema[] = [];
  for (const b of branches(s, obj)) {
    const direct = b.properties?.[key];
    if (direct) {
      out.push(direct);
      continue;
    }
    const pattern = Object.entries(b.patternProperties ?? {}).find(([re]) =>
      new RegExp(re).test(key)
    );
    if (pattern) out.push(pattern[1]);
    else if (typeof b.additionalProperties === "object") out.push(b.additionalProperties);
  }
  return out;
}

/** The schemas of the value at `path` and the value itself. */
function walk(schema: Schema, doc: unknown, path: string[]): { schemas: Schema[]; value: unknown } {
  let schemas = [schema];
  let value: unknown = doc;
  for (const key of path) {
    const obj = value && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
    schemas = schemas.flatMap((s) => childOf(s, key, obj));
    value = obj?.[key];
  }
  return { schemas, value };
}

function typeText(s: Schema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(" | ");
  return Array.isArray(s.type)
    ? s.type.join(" | ")
    : s.type ?? (s.oneOf ? "one of several" : "any");
}

function parsed(text: string): unknown {
  try {
    return parse(text, { uniqueKeys: false });
  } catch {
    return undefined;
  }
}

/** The fields the object at the cursor may still take, when a key is being typed there. */
export function fieldsAt(schema: unknown, text: string, pos: Pos): FieldInfo[] {
  const lines = text.split(/\r?\n/);
  const before = (lines[pos.line] ?? "").slice(0, pos.character);
  const m = /^(\s*)(?:-\s+)?[A-Za-z0-9_.-]*$/.exec(before);
  if (!m) return [];
  const path = enclosing(lines, pos.line - 1, m[1]!.length);
  const { schemas, value } = walk(schema as Schema, parsed(text), path);
  const obj = value && typeof value === "object" ? value as Record<string, unknown> : {};
  const seen = new Map<string, FieldInfo>();
  for (const s of schemas) {
    for (const b of branches(s, obj)) {
      for (const [name, p] of Object.entries(b.properties ?? {})) {
        if (name in obj || seen.has(name)) continue;
        seen.set(name, {
          name,
          type: typeText(p),
          ...(p.description ? { description: p.description } : {}),
        });
      }
    }
  }
  return [...seen.values()];
}

/** Markdown describing the field whose key is under the cursor. */
export function describeAt(schema: unknown, text: string, pos: Pos): string | undefined {
  const lines = text.split(/\r?\n/);
  const line = lines[pos.line] ?? "";
  const m = /^(\s*)(?:-\s+)?([A-Za-z0-9_.$-]+)\s*:/.exec(line);
  if (!m) return undefined;
  const start = line.indexOf(m[2]!, m[1]!.length);
  if (pos.character < start || pos.character > start + m[2]!.length) return undefined;
  const path = [...enclosing(lines, pos.line - 1, m[1]!.length), m[2]!];
  const { schemas } = walk(schema as Schema, parsed(text), path);
  const s = schemas.find((x) => x.description || x.title);
  if (!s) return undefined;
  const parts = [`**${m[2]}**: \`${typeText(s)}\``];
  if (s.description) parts.push(s.description);
  else if (s.title) parts.push(s.title);
  if (s.default !== undefined) parts.push(`Default: \`${JSON.stringify(s.default)}\``);
  if (s.examples?.length) {
    parts.push(`Examples: ${s.examples.map((e) => `\`${JSON.stringify(e)}\``).join(", ")}`);
  }
  return parts.join("\n\n");
}
