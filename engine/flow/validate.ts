/**
 * @module
 * Layer 2 of flow loading: the JSON Schema built from the registries, run by ajv (draft
 * 2020-12, all errors, discriminator, defaults applied in place), and every ajv error turned
 * into a human message at the source position of its node. Errors of `anyOf`/`oneOf`
 * alternatives are folded into one message ("must be a string or a list") or, when one
 * alternative clearly applies, into that alternative's own errors.
 *
 * Runtime validation uses a copy of the schema where name-keyed records
 * (`patternProperties`) become `propertyNames` + `additionalProperties`, so that an entity
 * with an invalid name is still validated and its name is reported.
 */

import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { buildFlowSchema, type SchemaSources } from "./schema.ts";
import { type ConfigIssue, fromPointer, issueAt, type YamlSource } from "./positions.ts";
import { type Item, messageOf, typePhrase } from "./messages.ts";

const compiled = new WeakMap<SchemaSources, ValidateFunction>();

function recordsToPropertyNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(recordsToPropertyNames);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = recordsToPropertyNames(v);
  const pp = out.patternProperties as Record<string, unknown> | undefined;
  if (
    pp && Object.keys(pp).length === 1 && !out.properties &&
    (out.additionalProperties === undefined || out.additionalProperties === false)
  ) {
    const [pattern, schema] = Object.entries(pp)[0]!;
    delete out.patternProperties;
    out.propertyNames = { pattern };
    out.additionalProperties = schema;
  }
  return out;
}

/** The runtime validator of the flow schema of `sources` (compiled once per sources object). */
export function flowValidator(sources: SchemaSources): ValidateFunction {
  let v = compiled.get(sources);
  if (!v) {
    const ajv = new Ajv2020({
      allErrors: true,
      discriminator: true,
      strict: false,
      useDefaults: true,
      verbose: true,
    });
    v = ajv.compile(recordsToPropertyNames(buildFlowSchema(sources)) as Record<string, unknown>);
    compiled.set(sources, v);
  }
  return v;
}

function toItem(e: ErrorObject): Item {
  return {
    path: fromPointer(e.instancePath),
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    params: e.params as Record<string, unknown>,
    data: e.data,
    schema: e.schema,
    parentSchema: e.parentSchema as Record<string, unknown> | undefined,
    message: e.message ?? "is invalid",
  };
}

const SHAPE = new Set(["type", "const", "enum", "x-alt"]);

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function alternative(branch: Item[]): string[] {
  const c = branch.find((i) => i.keyword === "const");
  if (c) return [JSON.stringify(c.params.allowedValue)];
  const alts: string[] = [];
  for (const i of branch) {
    if (i.keyword === "x-alt") alts.push(...(i.params.alts as string[]));
    if (i.keyword === "enum") {
      alts.push(...(i.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)));
    }
    if (i.keyword === "type") alts.push(...String(i.params.type).split(",").map(typePhrase));
  }
  return alts;
}

/** Folds the errors of `anyOf`/`oneOf` alternatives, innermost first. */
function foldAlternatives(items: Item[]): Item[] {
  const composites = items.filter((i) => i.keyword === "anyOf" || i.keyword === "oneOf")
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  let live = items;
  for (const c of composites) {
    const prefix = c.schemaPath + "/";
    const inBranch = (i: Item) =>
      i.schemaPath.startsWith(prefix) && c.path.every((s, n) => i.path[n] === s);
    const branches = new Map<number, Item[]>();
    for (const i of live) {
      if (!inBranch(i)) continue;
      const n = Number(/^(\d+)/.exec(i.schemaPath.slice(prefix.length))?.[1]);
      if (!branches.has(n)) branches.set(n, []);
      branches.get(n)!.push(i);
    }
    const rest = live.filter((i) => i !== c && !inBranch(i));
    const all = [...branches.values()];
    if (Array.isArray(c.params.passingSchemas)) {
      const names = ((c.schema ?? []) as { required?: string[] }[]).flatMap((s) =>
        s.required ?? []
      );
      live = [...rest, { ...c, keyword: "x-both", params: { names } }];
      continue;
    }
    if (
      all.length > 0 &&
      all.every((b) => b.every((i) => i.keyword === "required" && samePath(i.path, c.path)))
    ) {
      const names = all.map((b) => String(b[0]!.params.missingProperty));
      live = [...rest, { ...c, keyword: "x-required-alt", params: { names } }];
      continue;
    }
    const applies = all.find((b) =>
      !b.some((i) => SHAPE.has(i.keyword) && samePath(i.path, c.path))
    );
    if (applies) {
      live = [...rest, ...applies];
      continue;
    }
    const alts = [...new Set(all.flatMap(alternative))];
    live = [...rest, { ...c, keyword: "x-alt", params: { alts } }];
  }
  return live;
}

function dropNoise(items: Item[]): Item[] {
  return items.filter((i) => {
    if (i.schemaPath.includes("/propertyNames/")) return false;
    if (i.keyword === "discriminator" && i.params.error === "tag") {
      return i.params.tagValue !== undefined;
    }
    return true;
  });
}

/**
 * Validates one substituted flow document (`data`, mutated: defaults are filled in) and
 * returns the schema issues located in `src`. `substituted` maps JSON pointers of values
 * taken from the environment to their reference text, which messages show instead of the
 * (secret) value.
 */
export function validateFlowSchema(
  src: YamlSource,
  data: unknown,
  sources: SchemaSources,
  substituted: ReadonlyMap<string, string> = new Map(),
): ConfigIssue[] {
  const validate = flowValidator(sources);
  if (validate(data)) return [];
  const items = foldAlternatives(dropNoise((validate.errors ?? []).map(toItem)));
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const item of items) {
    const m = messageOf(item, substituted);
    const issue = issueAt(src, m.path, m.message, { anchor: m.anchor });
    const key = `${issue.line}:${issue.column}:${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
