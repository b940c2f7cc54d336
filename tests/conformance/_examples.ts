/**
 * @module
 * Spec examples for the conformance suites: every `examples` entry of a spec (the whole
 * object's and each field's, nested objects included), placed into a config, and the flow
 * schema of the registries that must accept them.
 */

import { flowValidator } from "../../engine/flow/validate.ts";
import { registries } from "../../app/registries.ts";

type Json = Record<string, unknown>;

/** Every `examples` entry of a spec: the path of its field (empty: the whole object) and the example. */
export function specExamples(spec: unknown, path: string[] = []): [string[], unknown][] {
  if (spec === null || typeof spec !== "object") return [];
  const s = JSON.parse(JSON.stringify(spec)) as Json;
  const out: [string[], unknown][] = [];
  if (Array.isArray(s.examples)) { for (const e of s.examples) out.push([path, e]); }
  for (const [k, p] of Object.entries((s.properties ?? {}) as Json)) {
    out.push(...specExamples(p, [...path, k]));
  }
  return out;
}

/** A copy of `base` with `value` at `path` (the whole of it for an empty path). */
export function setAt(base: Json, path: string[], value: unknown): Json {
  if (path.length === 0) return structuredClone(value) as Json;
  const copy = structuredClone(base);
  let node = copy;
  for (const k of path.slice(0, -1)) {
    if (node[k] === null || typeof node[k] !== "object") node[k] = {};
    node = node[k] as Json;
  }
  node[path.at(-1)!] = structuredClone(value);
  return copy;
}

/** Why the flow schema of the registries refuses `flow`, or undefined when it accepts it. */
export function schemaProblem(flow: Json, what: string): string | undefined {
  const validate = flowValidator(registries);
  if (validate(structuredClone(flow))) return undefined;
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  return `${what}: ${[...new Set(errors)].join("; ")}`;
}
