/**
 * @module
 * The `influxdb` sink's fields (TypeBox): server and API version (1.x `/write` with
 * database/retention policy and user/password, 2.x `/api/v2/write` with org/bucket/token),
 * measurement template, static tags, gzip, timeout, and the shared delivery fields and
 * durable queue.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { DEFAULT_RETRY_STATUSES } from "../_forward/errors.ts";
import { forwardFields } from "../_forward/spec.ts";

/** Defaults of the `influxdb` sink. */
export const INFLUX_DEFAULTS = {
  version: 1,
  measurement: "{device}",
  gzip: true,
  timeout: "10s",
  batchSize: 5000,
  retryStatuses: DEFAULT_RETRY_STATUSES,
} as const;

/** The `influxdb` sink's fields. */
export const InfluxSpec = Type.Object({
  url: Type.String({
    pattern: "^https?://",
    description: "Base URL of the InfluxDB server (no path).",
    examples: ["http://127.0.0.1:8086", "https://influx.acme.local:8086"],
  }),
  version: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], {
    default: INFLUX_DEFAULTS.version,
    description:
      "HTTP API: 1 is InfluxDB 1.x `/write` (needs `database`); 2 is InfluxDB 2.x/3.x `/api/v2/write` (needs `org`, `bucket`, `token`).",
    examples: [1, 2],
  })),
  database: Type.Optional(Type.String({
    minLength: 1,
    description: "Database (API 1). It must exist: `CREATE DATABASE plant`.",
    examples: ["plant"],
  })),
  retentionPolicy: Type.Optional(Type.String({
    minLength: 1,
    description: "Retention policy (API 1); default: the database's default policy.",
    examples: ["autogen", "one_year"],
  })),
  username: Type.Optional(Type.String({
    description: "User name (API 1, when auth is enabled).",
    examples: ["gateway"],
  })),
  password: Type.Optional(Type.String({
    description: "Password (API 1).",
    examples: ["${INFLUX_PASSWORD}"],
  })),
  org: Type.Optional(Type.String({
    minLength: 1,
    description: "Organisation (API 2).",
    examples: ["acme"],
  })),
  bucket: Type.Optional(Type.String({
    minLength: 1,
    description: "Bucket (API 2).",
    examples: ["plant"],
  })),
  token: Type.Optional(Type.String({
    minLength: 1,
    description: "API token (API 2), sent as `Authorization: Token …`.",
    examples: ["${INFLUX_TOKEN}"],
  })),
  measurement: Type.Optional(Type.String({
    minLength: 1,
    default: INFLUX_DEFAULTS.measurement,
    description:
      "Measurement name template: `{device}` and `{tag}` are replaced. Each point carries the tags `device`, `tag`, `quality` (and `historical=true` for replayed backlog), the field `value` (float, boolean, string, or integer for bigint values) and `reason` when the quality is not good; timestamps are the source time in ms.",
    examples: ["{device}", "plant", "{device}_{tag}"],
  })),
  tags: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), {
    description:
      "Static tags added to every point (`device`, `tag`, `quality`, `historical` are reserved).",
    examples: [{ site: "north", line: "3" }],
  })),
  gzip: Type.Optional(Type.Boolean({
    default: INFLUX_DEFAULTS.gzip,
    description: "Compress request bodies (`Content-Encoding: gzip`).",
    examples: [true],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: INFLUX_DEFAULTS.timeout,
    description: "How long one write request may take; a timed-out request is retried.",
    examples: ["10s"],
  })),
  retryStatuses: Type.Optional(Type.Array(Type.Integer({ minimum: 400, maximum: 499 }), {
    default: [...INFLUX_DEFAULTS.retryStatuses],
    description:
      "4xx statuses retried rather than dead-lettered (401/403: credentials, 404: database not found). 5xx, 408 and 429 are always retried; other 4xx (400: bad point, field type conflict) dead-letter the refused points.",
    examples: [[401, 403, 404, 407]],
  })),
  ...forwardFields(INFLUX_DEFAULTS.batchSize, "Points (lines) per write request at most."),
}, {
  additionalProperties: false,
  description:
    "Writes records to InfluxDB (line protocol over HTTP, API 1 or 2, batched and gzipped) through a durable queue: retried while the server is down, refused points go to a dead-letter table.",
  examples: [
    { url: "http://127.0.0.1:8086", database: "plant" },
    {
      url: "https://influx.acme.local:8086",
      version: 2,
      org: "acme",
      bucket: "plant",
      token: "${INFLUX_TOKEN}",
      tags: { site: "north" },
    },
  ],
});

/** The `influxdb` sink's config. */
export type InfluxConfig = Static<typeof InfluxSpec>;
