/**
 * @module
 * Human wording of JSON Schema errors: what failed, where (`device "boiler-plc"`), and the
 * value seen, with "did you mean" for misspelt fields and choices. Values that came from
 * the environment are shown as their reference (`${PORT}`), never as the value.
 */

import { DURATION_PATTERN } from "./duration.ts";
import { quoteSource } from "./parse.ts";
import { type Anchor, toPointer } from "./positions.ts";
import { NAME_PATTERN } from "./schema.ts";
import { suggestion } from "./suggest.ts";

/** An ajv error, or a folded group of them (`x-…` keywords). */
export interface Item {
  path: string[];
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  data: unknown;
  schema: unknown;
  parentSchema: Record<string, unknown> | undefined;
  message: string;
}

/** Where a message points and what it says. */
export interface Located {
  path: string[];
  message: string;
  anchor: Anchor;
}

const KINDS: Record<string, string> = {
  devices: "device",
  polls: "poll",
  steps: "step",
  sinks: "sink",
  triggers: "trigger",
};

/** `device "boiler-plc"`, `tag "temp1" of device "boiler-plc"`, `the flow file`, … */
export function contextOf(path: readonly string[]): string {
  if (path.length === 0) return "the flow file";
  const [section, name, ...rest] = path;
  const kind = KINDS[section!];
  if (path.length === 1) return `section "${section}"`;
  if (!kind) return `"${path.at(-1)}"`;
  const entity = `${kind} "${name}"`;
  if (rest.length === 0) return entity;
  if (section === "devices" && rest[0] === "tags" && rest.length >= 2) {
    const tag = `tag "${rest[1]}" of ${entity}`;
    return rest.length === 2 ? tag : `"${rest.at(-1)}" of ${tag}`;
  }
  return `"${fieldName(path)}" of ${entity}`;
}

function fieldName(path: readonly string[]): string {
  const last = path.at(-1) ?? "";
  if (/^\d+$/.test(last) && path.length >= 2) return `${path.at(-2)}[${last}]`;
  return last;
}

function field(path: readonly string[]): string {
  return path.length === 0 ? "the flow file" : `"${fieldName(path)}"`;
}

/** A value as messages show it. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  // A string is quoted short: a value can be a whole file of garbage.
  return typeof v === "string" ? quoteSource(v) : String(v);
}

/** "an integer", "a list", … for a JSON Schema type. */
export function typePhrase(t: string): string {
  return ({
    integer: "an integer",
    number: "a number",
    string: "a string",
    boolean: "true or false",
    object: "a map",
    array: "a list",
    null: "empty",
  } as Record<string, string>)[t] ?? t;
}

function orList(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? "";
  return `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

const BOUNDS: Record<string, string> = {
  minimum: "at least",
  maximum: "at most",
  exclusiveMinimum: "greater than",
  exclusiveMaximum: "less than",
};

const NAME_RULE = 'names start with a letter or "_" and use only letters, digits, "_", "." and "-"';

/** The message and position of one (possibly folded) schema error. */
export function messageOf(i: Item, substituted: ReadonlyMap<string, string>): Located {
  const p = i.params;
  const ref = substituted.get(toPointer(i.path));
  const got = ref === undefined ? `got ${showValue(i.data)}` : `got the value of ${ref}`;
  const f = field(i.path);
  const at = (message: string, path = i.path, anchor: Anchor = "value"): Located => ({
    path,
    message,
    anchor,
  });
  switch (i.keyword) {
    case "type":
      return at(`${f} must be ${orList(String(p.type).split(",").map(typePhrase))}, ${got}`);
    case "x-alt": {
      const alts = p.alts as string[];
      const consts = alts.filter((a) => a.startsWith('"')).map((a) => JSON.parse(a) as string);
      const hint = typeof i.data === "string" && ref === undefined
        ? suggestion(i.data, consts)
        : "";
      return at(`${f} must be ${orList(alts)}, ${got}${hint}`);
    }
    case "additionalProperties": {
      const name = String(p.additionalProperty);
      const known = Object.keys((i.parentSchema?.properties ?? {}) as object);
      const hint = suggestion(name, known);
      const message = i.path.length === 0
        ? `unknown section "${name}"${hint}`
        : `unknown field "${name}" in ${contextOf(i.path)}${hint}`;
      return at(message, [...i.path, name], "key");
    }
    case "required":
      return at(
        `${contextOf(i.path)} is missing required field "${p.missingProperty}"`,
        i.path,
        "key",
      );
    case "x-required-alt":
      return at(
        `${contextOf(i.path)} needs ${orList((p.names as string[]).map((n) => `"${n}"`))}`,
        i.path,
        "key",
      );
    case "x-both": {
      // Name the alternatives the value has, not every one of them.
      const data = i.data !== null && typeof i.data === "object" ? i.data : {};
      const given = (p.names as string[]).filter((n) => n in data);
      const names = (given.length > 1 ? given : p.names as string[]).map((n) => `"${n}"`);
      return at(
        names.length > 1
          ? `${contextOf(i.path)} has both ${orList(names).replace(/ or /, " and ")}: use only one`
          : `${f} matches more than one alternative`,
        i.path,
        "key",
      );
    }
    case "propertyNames": {
      const name = String(p.propertyName);
      const last = i.path.at(-1) ?? "";
      const kind = last === "tags" ? "tag" : KINDS[last] ?? "";
      return at(
        `invalid ${kind ? kind + " " : ""}name "${name}": ${NAME_RULE}`,
        [...i.path, name],
        "key",
      );
    }
    case "discriminator": {
      const tag = String(p.tag);
      if (p.error === "tag") return at(`"${tag}" must be a string, ${got}`, [...i.path, tag]);
      const choices =
        ((i.parentSchema?.oneOf ?? []) as { properties?: Record<string, { const?: unknown }> }[])
          .map((s) => String(s.properties?.[tag]?.const));
      const kind = tag === "driver" ? "driver" : KINDS[i.path[0] ?? ""] ?? tag;
      const value = substituted.get(toPointer([...i.path, tag])) ?? JSON.stringify(p.tagValue);
      const hint = typeof p.tagValue === "string" && !substituted.has(toPointer([...i.path, tag]))
        ? suggestion(p.tagValue, choices)
        : "";
      if (hint) return at(`unknown ${kind} ${value}${hint}`, [...i.path, tag]);
      return at(`unknown ${kind} ${value} (expected one of: ${choices.join(", ")})`, [
        ...i.path,
        tag,
      ]);
    }
    case "pattern": {
      if (p.pattern === DURATION_PATTERN) {
        return at(`${f} must be a duration such as "500ms", "10s" or "5m", ${got}`);
      }
      if (p.pattern === NAME_PATTERN) return at(`${f} must be a name (${NAME_RULE}), ${got}`);
      return at(`${f} must match the pattern ${p.pattern}, ${got}`);
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      const hint = typeof i.data === "string" && ref === undefined
        ? suggestion(i.data, allowed.map(String))
        : "";
      return at(`${f} must be one of: ${allowed.map(String).join(", ")}; ${got}${hint}`);
    }
    case "const":
      return at(`${f} must be ${JSON.stringify(p.allowedValue)}, ${got}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return at(`${f} must be ${BOUNDS[i.keyword]} ${p.limit}, ${got}`);
    case "minItems":
    case "maxItems": {
      const n = Number(p.limit);
      const word = i.keyword === "minItems" ? "at least" : "at most";
      return at(`${f} must have ${word} ${n} item${n === 1 ? "" : "s"}`);
    }
    case "minLength":
      return at(
        Number(p.limit) === 1
          ? `${f} must not be empty`
          : `${f} must have at least ${p.limit} characters, ${got}`,
      );
    case "maxLength":
      return at(`${f} must have at most ${p.limit} characters`);
    case "not": {
      const kind = KINDS[i.path[0] ?? ""] ?? "module";
      return at(
        `${contextOf(i.path)} cannot be used: no ${kind} types are registered`,
        i.path,
        "key",
      );
    }
    default:
      return at(`${f} ${i.message}, ${got}`);
  }
}
