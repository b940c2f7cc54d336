/**
 * @module
 * The `function` step's config spec (its own module so that the step and its checks both
 * import it without importing each other).
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, PermissionsSpec } from "../../engine/plugin.ts";

/** A memory size: a whole number of MB or GB. */
const MEMORY_PATTERN = "^[1-9][0-9]*(MB|GB)$";

/** The MB of a size written like `64MB` or `1GB` (the spec's pattern). */
export function parseMemory(size: string): number {
  const n = parseInt(size, 10);
  return size.endsWith("GB") ? n * 1024 : n;
}

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
      "Time limit of one batch; past it the batch is marked bad and the process restarted.",
    examples: ["1s", "200ms"],
  })),
  memory: Type.Optional(Type.String({
    pattern: MEMORY_PATTERN,
    default: "128MB",
    description:
      "Memory limit of the function (its heap, in MB or GB); past it the batch is marked bad " +
      "and the function's process restarted.",
    examples: ["64MB", "1GB"],
  })),
  maxOutput: Type.Optional(Type.Integer({
    minimum: 1,
    description:
      "The most records the function may return for one batch; more marks the batch bad. " +
      "Default: 10 times the batch's records plus 1000.",
    examples: [5000],
  })),
  permissions: Type.Optional(PermissionsSpec),
  with: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    description: "Parameters handed to the function as `ctx.params`.",
    examples: [{ alpha: 0.2 }],
  })),
}, {
  additionalProperties: false,
  description: "Runs a user edge function (TypeScript) in its own process.",
  examples: [{ file: "functions/smooth.ts", with: { alpha: 0.2 } }],
});

/** The `function` step's config. */
export type FunctionConfig = Static<typeof FunctionSpec>;
