/**
 * @module
 * The flow language's JSON Schema (draft 2020-12), assembled from the config spec of every
 * registered driver, step and sink. This is the one source: `schemas/flow.schema.json`, the
 * reference docs and runtime parsing (ajv with defaults) all come from it.
 */

import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import type { DriverModule } from "../driver.ts";
import type { SinkModule } from "../sink.ts";
import type { StepModule } from "../step.ts";
import { DURATION_PATTERN } from "./duration.ts";
import { PermissionsSpec } from "./permissions.ts";

/** Names of devices, tags, polls, steps and sinks. */
export const NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]*$";

/** The `$id` of the generated schema. */
export const SCHEMA_ID = "https://bifrost.dev/schemas/flow.schema.json";

const Name = Type.String({ pattern: NAME_PATTERN, description: "A name (letters, digits, _ . -)" });

const From = Type.Union([Name, Type.Array(Name, { minItems: 1 })], {
  description:
    "What feeds this: the name of a poll, a step or a device (all its polls), or a list of them (fan-in).",
  examples: ["fast", ["fast", "slow"]],
});

/** Linear scaling of a tag. */
export const TagScaleSpec = Type.Object({
  gain: Type.Optional(Type.Number({ description: "eng = raw * gain + offset", default: 1 })),
  offset: Type.Optional(Type.Number({ description: "eng = raw * gain + offset", default: 0 })),
  rawMin: Type.Optional(Type.Number({ description: "Two-point scaling: raw low end" })),
  rawMax: Type.Optional(Type.Number({ description: "Two-point scaling: raw high end" })),
  engMin: Type.Optional(Type.Number({ description: "Two-point scaling: engineering low end" })),
  engMax: Type.Optional(Type.Number({ description: "Two-point scaling: engineering high end" })),
  clampMin: Type.Optional(Type.Number({ description: "Lowest engineering value let through" })),
  clampMax: Type.Optional(Type.Number({ description: "Highest engineering value let through" })),
}, {
  additionalProperties: false,
  description: "Scaling from raw to engineering units: gain/offset or two-point, then clamp.",
  examples: [{ gain: 0.1 }, { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 }],
});

const TagCommon = {
  unit: Type.Optional(Type.String({ description: "Engineering unit", examples: ["°C", "bar"] })),
  description: Type.Optional(Type.String()),
  scale: Type.Optional(TagScaleSpec),
  writable: Type.Optional(
    Type.Boolean({
      default: false,
      description: "Whether `bifrost write` and the API may write it",
    }),
  ),
};

function propsOf(s: TSchema): Record<string, TSchema> {
  return (s as TObject).properties ?? {};
}

function requiredOf(s: TSchema): string[] {
  return (s as TObject).required ?? [];
}

function deviceSchema(d: DriverModule): TSchema {
  const tag = Type.Object({ ...propsOf(d.tagSpec), ...TagCommon }, {
    additionalProperties: false,
    required: requiredOf(d.tagSpec),
  });
  return Type.Object({
    driver: Type.Literal(d.name, { description: d.description }),
    description: Type.Optional(Type.String()),
    // No `default`: ajv would write `required: false` into every device it validates.
    required: Type.Optional(Type.Boolean({
      description:
        "Whether the gateway is ready (`GET /readyz`) only while this device is connected (default false).",
    })),
    ...propsOf(d.deviceSpec),
    tags: Type.Record(Type.String({ pattern: NAME_PATTERN }), tag, {
      additionalProperties: false,
      description: "The device's tags, by name.",
    }),
    simulator: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
      description:
        "Value generators of the virtual device that `bifrost run --simulate` starts in place of the real one.",
    })),
  }, {
    additionalProperties: false,
    required: ["driver", "tags", ...requiredOf(d.deviceSpec)],
    title: `${d.name} device`,
  });
}

function useSchema(m: StepModule | SinkModule, kind: string): TSchema {
  return Type.Object({
    use: Type.Literal(m.name, { description: m.description }),
    from: From,
    description: Type.Optional(Type.String()),
    ...propsOf(m.spec),
  }, {
    additionalProperties: false,
    required: ["use", "from", ...requiredOf(m.spec)],
    title: `${m.name} ${kind}`,
  });
}

const PollSpec = Type.Object({
  device: Type.String({ pattern: NAME_PATTERN, description: "The device to read" }),
  tags: Type.Union([
    Type.Literal("*"),
    Type.Array(Type.String({ pattern: NAME_PATTERN }), { minItems: 1 }),
  ], { description: "Tag names, or `*` for every tag of the device", examples: [["temp1"], "*"] }),
  every: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description: "Interval, from 10ms up",
    examples: ["500ms", "1s", "5m"],
  })),
  cron: Type.Optional(Type.String({
    description: "6-field cron with seconds",
    examples: ["*/5 * * * * *", "0 0 * * * *"],
  })),
  subscribe: Type.Optional(Type.Object({}, {
    additionalProperties: true,
    description:
      "Instead of a schedule, the device pushes the tags' values (drivers that can push, e.g. OPC UA): the driver's options, checked against its `subscribeSpec` (`{}` for its defaults).",
    examples: [{}, { samplingInterval: "500ms" }],
  })),
  description: Type.Optional(Type.String()),
}, {
  additionalProperties: false,
  required: ["device", "tags"],
  oneOf: [{ required: ["every"] }, { required: ["cron"] }, { required: ["subscribe"] }],
  description:
    "Reads a set of tags of one device on a schedule (`every` or `cron`), or subscribes to them (`subscribe`, for drivers that push): exactly one of the three.",
});

/** HTTP methods a trigger may answer. */
export const TRIGGER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** A trigger's path: segments of letters, digits, `_ . ~ -`, and `:name` parameters. */
export const TRIGGER_PATH_PATTERN = "^(/(:?[A-Za-z0-9_.~-]+))+$";

const TriggerSpec = Type.Object({
  http: Type.Optional(Type.Object({
    method: Type.Optional(Type.Union(TRIGGER_METHODS.map((m) => Type.Literal(m)), {
      default: "POST",
      description: "The HTTP method the trigger answers",
    })),
    path: Type.String({
      pattern: TRIGGER_PATH_PATTERN,
      description:
        "Where the trigger is served, as written (`:name` segments are path parameters); not under /api/v1, /metrics, /healthz, /readyz, /ws, /dashboard or /hooks/deploy",
      examples: ["/hooks/pump", "/hooks/pump/:id"],
    }),
  }, {
    additionalProperties: false,
    required: ["path"],
    description: "The HTTP request that runs the trigger",
  })),
  cron: Type.Optional(Type.String({
    description:
      "Instead of a request, a schedule (6-field cron with seconds): the function runs with an empty request and its answer is dropped (what it emits is kept).",
    examples: ["0 */5 * * * *"],
  })),
  function: Type.String({
    minLength: 1,
    description:
      "The edge function's TypeScript file, relative to the flow directory: `export default function (req, ctx)`.",
    examples: ["../functions/pump.ts"],
  }),
  body: Type.Optional(Type.Object({}, {
    additionalProperties: true,
    description:
      "JSON Schema (2020-12) of the request body; a body that fails it gets 400 with the failing field.",
    examples: [{ type: "object", required: ["speed"], properties: { speed: { type: "number" } } }],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "2s",
    description: "Time limit of one request; past it the answer is 504 and the process restarted.",
    examples: ["2s", "500ms"],
  })),
  memory: Type.Optional(Type.String({
    pattern: "^[1-9][0-9]*(MB|GB)$",
    default: "128MB",
    description: "Heap limit of the function's process (MB or GB).",
    examples: ["64MB"],
  })),
  permissions: Type.Optional(PermissionsSpec),
  with: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    description: "Parameters handed to the function as `ctx.params`.",
  })),
  description: Type.Optional(Type.String()),
}, {
  additionalProperties: false,
  required: ["function"],
  oneOf: [{ required: ["http"] }, { required: ["cron"] }],
  description:
    "A trigger: an HTTP request (`http`) or a schedule (`cron`) runs a user edge function: exactly one of the two.",
});

function byKind(schemas: TSchema[], key: string, title: string): TSchema {
  if (schemas.length === 0) {
    return { type: "object", title, not: {}, description: "None registered" } as unknown as TSchema;
  }
  return {
    type: "object",
    title,
    required: [key],
    discriminator: { propertyName: key },
    oneOf: schemas,
  } as unknown as TSchema;
}

/** The registries the schema is built from. */
export interface SchemaSources {
  drivers: readonly DriverModule[];
  steps: readonly StepModule[];
  sinks: readonly SinkModule[];
}

/** Builds the flow file schema. */
export function buildFlowSchema(src: SchemaSources): Record<string, unknown> {
  const nameKey = Type.String({ pattern: NAME_PATTERN });
  const flow = Type.Object({
    $schema: Type.Optional(Type.String()),
    version: Type.Optional(Type.Literal(1, { description: "Flow language version" })),
    devices: Type.Optional(Type.Record(
      nameKey,
      byKind(src.drivers.map(deviceSchema), "driver", "Device"),
      { additionalProperties: false, description: "Devices (PLCs, meters, controllers) by name." },
    )),
    polls: Type.Optional(
      Type.Record(nameKey, PollSpec, {
        additionalProperties: false,
        description: "Poll groups by name.",
      }),
    ),
    steps: Type.Optional(Type.Record(
      nameKey,
      byKind(src.steps.map((s) => useSchema(s, "step")), "use", "Step"),
      {
        additionalProperties: false,
        description: "Processing steps by name, wired by `from:` into a graph.",
      },
    )),
    sinks: Type.Optional(Type.Record(
      nameKey,
      byKind(src.sinks.map((s) => useSchema(s, "sink")), "use", "Sink"),
      { additionalProperties: false, description: "Destinations by name." },
    )),
    triggers: Type.Optional(Type.Record(nameKey, TriggerSpec, {
      additionalProperties: false,
      description:
        "HTTP triggers by name: a request to the trigger's path runs its edge function in its own process.",
    })),
  }, { additionalProperties: false });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCHEMA_ID,
    title: "Bifrost flow",
    description: "A Bifrost flow file: devices, polls, steps and sinks.",
    ...JSON.parse(JSON.stringify(flow)),
  };
}
