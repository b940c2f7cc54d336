/**
 * @module
 * `permissions:` of an edge function, the same for a `function` step and a trigger: what the
 * function's process may do besides computing (nothing by default). Paths under `read` are
 * relative to the flow directory.
 */

import { isAbsolute, resolve } from "node:path";
import { type Static, Type } from "@sinclair/typebox";

const Names = (description: string, examples: string[][]) =>
  Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description, default: [], examples }));

/** The `permissions:` field's schema. */
export const PermissionsSpec = Type.Object({
  net: Names("Hosts (`host` or `host:port`) the function may connect to.", [[
    "127.0.0.1:1883",
  ]]),
  read: Names("Paths (relative to the flow directory) the function may read.", [[
    "data/limits.json",
  ]]),
  env: Names("Environment variables the function may read.", [["PLANT_ID"]]),
}, {
  additionalProperties: false,
  default: {},
  description: "What the function may do besides computing; nothing by default.",
  examples: [{ net: ["127.0.0.1:8080"] }, { read: ["data/limits.json"], env: ["PLANT_ID"] }],
});

/** `permissions:` as written. */
export type PermissionsConfig = Static<typeof PermissionsSpec>;

/** The permissions a function's process gets: `read` made absolute against `flowDir`. */
export function resolvePermissions(
  p: PermissionsConfig | undefined,
  flowDir: string,
): { net: string[]; env: string[]; read: string[] } {
  return {
    net: p?.net ?? [],
    env: p?.env ?? [],
    read: (p?.read ?? []).map((r) => isAbsolute(r) ? r : resolve(flowDir, r)),
  };
}
