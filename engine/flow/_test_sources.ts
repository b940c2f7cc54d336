/**
 * @module
 * Small driver, step and sink modules for the flow loader's tests, so that they do not
 * depend on the real registries.
 */

import { Type } from "@sinclair/typebox";
import type { DeviceConfig, DriverIssue, DriverModule } from "../driver.ts";
import type { SinkModule } from "../sink.ts";
import type { StepModule } from "../step.ts";
import type { SchemaSources } from "./schema.ts";
import { relative } from "node:path";
import { DURATION_PATTERN } from "./duration.ts";
import { loadFlowsWith, type LoadOptions, type LoadResult } from "./load.ts";
import { formatIssue } from "./positions.ts";

function unsupported(): never {
  throw new Error("not used in loader tests");
}

/** A Modbus-like driver: addresses `HR<n>`, 2 ms per tag. */
export const fakeDriver: DriverModule = {
  name: "fake-tcp",
  description: "A test driver",
  status: "experimental",
  deviceSpec: Type.Object({
    host: Type.String({ description: "Host", examples: ["10.0.0.5"] }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, default: 502, description: "Port" }),
    ),
    timeout: Type.Optional(
      Type.String({ pattern: DURATION_PATTERN, default: "1s", description: "Timeout" }),
    ),
  }),
  tagSpec: Type.Object({
    address: Type.String({ pattern: "^HR[0-9]+$", description: "Register" }),
    type: Type.Optional(
      Type.Union([Type.Literal("int16"), Type.Literal("float32")], { default: "int16" }),
    ),
  }),
  create: unsupported,
  validate(device: DeviceConfig): DriverIssue[] {
    const seen = new Map<string, string>();
    const issues: DriverIssue[] = [];
    for (const t of device.tags.values()) {
      const other = seen.get(t.address);
      if (other) {
        issues.push({
          message: `tag "${t.name}" overlaps tag "${other}" at ${t.address}`,
          path: ["tags", t.name, "address"],
        });
      }
      seen.set(t.address, t.name);
    }
    return issues;
  },
  minIntervalMs: (_device, tags) => 20 * tags.length,
  valueKind: (tag) => tag.type === "float32" ? "float" : "integer",
};

/** A driver that can push: its polls may `subscribe:` with a `samplingMs` option. */
export const pushTestDriver: DriverModule = {
  name: "fake-push",
  description: "A test driver that pushes",
  status: "experimental",
  deviceSpec: Type.Object({ server: Type.String({ description: "Server" }) }),
  tagSpec: Type.Object({
    address: Type.String({ description: "Value name" }),
    type: Type.Union([Type.Literal("float"), Type.Literal("int")]),
  }),
  subscribeSpec: Type.Object({
    samplingMs: Type.Optional(
      Type.Integer({ minimum: 1, default: 100, description: "Sampling interval, ms" }),
    ),
  }, { additionalProperties: false }),
  create: unsupported,
  valueKind: (tag) => tag.type === "float" ? "float" : "integer",
};

/** A step with defaults. */
export const scaleTestStep: StepModule = {
  name: "scale",
  description: "Scales",
  status: "stable",
  spec: Type.Object({
    gain: Type.Optional(Type.Number({ default: 1 })),
    offset: Type.Optional(Type.Number({ default: 0 })),
  }),
  create: unsupported,
};

/** A step whose `validate()` checks that its file exists. */
export const functionTestStep: StepModule = {
  name: "function",
  description: "Runs a file",
  status: "beta",
  spec: Type.Object({ file: Type.String() }),
  create: unsupported,
  async validate(config, ctx) {
    try {
      await Deno.stat(`${ctx.flowDir}/${config.file}`);
      return [];
    } catch {
      return [{ message: `function file "${config.file}" does not exist`, path: ["file"] }];
    }
  },
};

/** A sink. */
export const consoleTestSink: SinkModule = {
  name: "console",
  description: "Prints",
  status: "stable",
  spec: Type.Object({
    format: Type.Optional(
      Type.Union([Type.Literal("text"), Type.Literal("json")], { default: "text" }),
    ),
  }),
  create: unsupported,
};

/** The test registries. */
export const testSources: SchemaSources = {
  drivers: [fakeDriver],
  steps: [scaleTestStep, functionTestStep],
  sinks: [consoleTestSink],
};

/** Loads `files` from a temporary directory; issue files are shown relative to it. */
export async function loadFiles(
  files: Record<string, string>,
  options: LoadOptions = {},
): Promise<LoadResult & { lines: string[]; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_flow_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = `${dir}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, text);
    }
    const r = await loadFlowsWith(dir, testSources, options);
    const lines = [...r.errors, ...r.warnings].map((i) =>
      formatIssue({ ...i, file: relative(dir, i.file) })
    );
    return { ...r, lines, dir };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
