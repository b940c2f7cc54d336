/**
 * @module
 * The `function` step's config spec (its own module so that the step and its checks both
 * import it without importing each other).
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";

const Names = (description: string, examples: string[][]) =>
  Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description, default: [], examples }));

/** The `function` step's fields. */
export const FunctionSpec = Type.Object({
  file: Type.String({
    minLength: 1,
    description: "The function's TypeScript file, relative to the flow directory.",
    examples: ["functions/smooth.ts"],
  }),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "1s",
    description:
      "Time limit of one batch; past it the batch is marked bad and the worker restarted.",
    examples: ["1s", "200ms"],
  })),
  permissions: Type.Optional(Type.Object({
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
  })),
  with: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    description: "Parameters handed to the function as `ctx.params`.",
    examples: [{ alpha: 0.2 }],
  })),
}, {
  additionalProperties: false,
  description: "Runs a user edge function (TypeScript) in its own worker.",
  examples: [{ file: "functions/smooth.ts", with: { alpha: 0.2 } }],
});

/** The `function` step's config. */
export type FunctionConfig = Static<typeof FunctionSpec>;
