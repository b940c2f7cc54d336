/**
 * @module
 * Every request and response body of the REST API, declared once with TypeBox (as the flow
 * specs are): the routes validate requests against them and the OpenAPI document is
 * generated from them (see `openapi.ts`). Values travel as JSON; a 64-bit integer as a string.
 */

import { type Static, type TSchema, Type } from "@sinclair/typebox";

/** Every error response. */
export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "BAD_REQUEST, NOT_FOUND, WRITE_REJECTED, UNAUTHORIZED…" }),
    message: Type.String({ description: "What failed, where, and the value seen" }),
    field: Type.Optional(Type.String({ description: "JSON path of the field at fault" })),
  }),
});

/** A tag value: number, boolean, string, array or object (a 64-bit integer as a string). */
export const ValueSchema = Type.Unknown({ description: "The value (a bigint as a string)" });

/** One device and its health. */
export const DeviceSchema = Type.Object({
  name: Type.String(),
  driver: Type.String(),
  state: Type.String({ description: "idle, connecting, connected, backoff or closed" }),
  since: Type.Number({ description: "Last state change, ms since the epoch" }),
  lastError: Type.Optional(Type.String()),
  latencyMs: Type.Optional(Type.Number({ description: "Round trip of the last read, ms" })),
  answering: Type.Boolean(),
  connects: Type.Integer(),
  connectFailures: Type.Integer(),
  reads: Type.Integer(),
  readErrors: Type.Integer(),
  timeouts: Type.Integer(),
  malformed: Type.Integer(),
  subscriptions: Type.Integer(),
  tags: Type.Integer({ description: "Tags declared on the device" }),
});

/** The device list. */
export const DevicesSchema = Type.Object({ devices: Type.Array(DeviceSchema) });

/** One tag with its last value. */
export const TagSchema = Type.Object({
  device: Type.String(),
  name: Type.String(),
  type: Type.String(),
  kind: Type.Optional(Type.String()),
  writable: Type.Boolean(),
  unit: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  value: Type.Optional(ValueSchema),
  quality: Type.Optional(Type.String({ description: "good, uncertain or bad" })),
  reason: Type.Optional(Type.String()),
  sourceTs: Type.Optional(Type.Number()),
  gatewayTs: Type.Optional(Type.Number()),
});

/** The tag list. */
export const TagsSchema = Type.Object({ tags: Type.Array(TagSchema) });

/** Query of the tag list. */
export const TagsQuerySchema = Type.Object({
  device: Type.Optional(Type.String({ description: "Only this device's tags" })),
});

/** A tag to read. */
export const ReadItemSchema = Type.Object({
  device: Type.String({ minLength: 1 }),
  tag: Type.String({ minLength: 1 }),
}, { additionalProperties: false });

/** `POST /read`: one tag or a list. */
export const ReadRequestSchema = Type.Union([
  ReadItemSchema,
  Type.Array(ReadItemSchema, { minItems: 1, maxItems: 1000 }),
]);

/** One tag read on demand. */
export const ReadResultSchema = Type.Object({
  device: Type.String(),
  tag: Type.String(),
  ok: Type.Boolean(),
  value: Type.Optional(ValueSchema),
  quality: Type.String({ description: "good, uncertain or bad" }),
  reason: Type.Optional(Type.String({ description: "Why the value is uncertain" })),
  ts: Type.Number({ description: "When the value was read, ms since the epoch" }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

/** Results of a read, in request order. */
export const ReadResponseSchema = Type.Object({ results: Type.Array(ReadResultSchema) });

/** A value to write. */
export const WriteItemSchema = Type.Object({
  device: Type.String({ minLength: 1 }),
  tag: Type.String({ minLength: 1 }),
  value: Type.Union([
    Type.Number(),
    Type.Boolean(),
    Type.String(),
    Type.Array(Type.Unknown()),
  ], { description: "A JSON value of the tag's kind, or its text (as `bifrost write` takes)" }),
}, { additionalProperties: false });

/** `POST /write`: one value or a list (all checked before any is written). */
export const WriteRequestSchema = Type.Union([
  WriteItemSchema,
  Type.Array(WriteItemSchema, { minItems: 1, maxItems: 100 }),
]);

/** One write's outcome. */
export const WriteResultSchema = Type.Object({
  device: Type.String(),
  tag: Type.String(),
  ok: Type.Boolean(),
  value: ValueSchema,
  previous: Type.Optional(ValueSchema),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

/** Outcomes of a write, in request order. */
export const WriteResponseSchema = Type.Object({ results: Type.Array(WriteResultSchema) });

const Counters = Type.Record(Type.String(), Type.Number());

/** Polls, subscriptions, steps and sinks with their counters. */
export const StatsSchema = Type.Object({
  polls: Type.Record(Type.String(), Counters),
  subscriptions: Type.Record(Type.String(), Counters),
  steps: Type.Record(Type.String(), Counters),
  sinks: Type.Record(Type.String(), Type.Object({ use: Type.String(), counters: Counters })),
});

/** The running flows. */
export const FlowsSchema = Type.Object({
  revision: Type.String({ description: "sha256 of the validated flow set, first 16 hex digits" }),
  valid: Type.Boolean({ description: "The running flows passed validation (run refuses others)" }),
  errors: Type.Array(Type.String()),
  dir: Type.String(),
  files: Type.Array(Type.String()),
  devices: Type.Integer(),
  polls: Type.Integer(),
  steps: Type.Integer(),
  sinks: Type.Integer(),
  reload: Type.Optional(Type.Object({
    revision: Type.Integer({ description: "Applied revisions: 1 is the flows started with" }),
    appliedAt: Type.Number({ description: "When the running revision was applied, ms" }),
    ok: Type.Boolean({ description: "The last change on disk was applied in full" }),
    errors: Type.Array(Type.String(), {
      description: "Why the last change was rejected (file:line:column: message)",
    }),
    attemptedAt: Type.Optional(Type.Number({ description: "The last attempt, ms" })),
    changes: Type.Optional(Type.String({ description: "What the last applied change changed" })),
  }, { description: "The hot reload (absent with --no-reload)" })),
});

/** Query of a tag's history. */
export const HistoryQuerySchema = Type.Object({
  device: Type.String({ minLength: 1 }),
  tag: Type.String({ minLength: 1 }),
  from: Type.Optional(Type.String({
    description: "ms since the epoch or an ISO 8601 time; default: an hour before `to`",
  })),
  to: Type.Optional(
    Type.String({ description: "ms since the epoch or an ISO 8601 time; default: now" }),
  ),
  points: Type.Optional(
    Type.String({ description: "Most points returned (1..5000), default 500" }),
  ),
  sink: Type.Optional(Type.String({ description: "The SQLite sink to read (when several)" })),
});

/** A tag's history: raw records, or one point per time bucket (mean, min, max). */
export const HistorySchema = Type.Object({
  device: Type.String(),
  tag: Type.String(),
  sink: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
  downsampled: Type.Boolean(),
  records: Type.Integer({ description: "Records in the range" }),
  truncated: Type.Boolean({
    description: "The range holds more than 100,000 records: only the first were read",
  }),
  points: Type.Array(Type.Object({
    ts: Type.Number(),
    value: ValueSchema,
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    count: Type.Integer(),
    quality: Type.String(),
  })),
});

/** Query of the audit log. */
export const AuditQuerySchema = Type.Object({
  limit: Type.Optional(Type.String({ description: "Most entries, newest first (default 100)" })),
  device: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
});

/** One audited write. */
export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  ts: Type.Number(),
  who: Type.String({ description: "The token's id, or `local` on an open loopback API" }),
  device: Type.String(),
  tag: Type.String(),
  oldValue: Type.Optional(ValueSchema),
  newValue: ValueSchema,
  result: Type.String({ description: "ok, or the error code" }),
  message: Type.Optional(Type.String()),
});

/** The audit log, newest first. */
export const AuditSchema = Type.Object({ entries: Type.Array(AuditEntrySchema) });

/** Static types of the schemas. */
export type ReadItem = Static<typeof ReadItemSchema>;
/** A write request item. */
export type WriteItem = Static<typeof WriteItemSchema>;
/** Any schema. */
export type Schema = TSchema;
