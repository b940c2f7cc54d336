/**
 * @module
 * The `postgres` sink's fields (TypeBox): connection, target table, the mapping from record
 * fields to columns, table creation, conflict handling, timeout, and the shared delivery
 * fields and durable queue.
 */

import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { forwardFields } from "../_forward/spec.ts";

/** Record fields a column can take, with their SQL type when the sink creates the table. */
export const RECORD_FIELDS = {
  sourceTs: { sql: "timestamptz NOT NULL", what: "source time (timestamptz)" },
  sourceTsMs: { sql: "bigint NOT NULL", what: "source time, ms since the epoch" },
  gatewayTs: { sql: "timestamptz NOT NULL", what: "gateway time (timestamptz)" },
  gatewayTsMs: { sql: "bigint NOT NULL", what: "gateway time, ms since the epoch" },
  device: { sql: "text NOT NULL", what: "device name" },
  tag: { sql: "text NOT NULL", what: "tag name" },
  value: {
    sql: "double precision",
    what:
      "the value: numbers as numbers (NaN/Infinity as PostgreSQL spells them), booleans as 1/0, bigints and strings as text, arrays/objects as JSON text (fits a numeric, boolean, text or jsonb column; a value the column cannot take is dead-lettered)",
  },
  valueText: { sql: "text", what: "the value as text (JSON for arrays/objects)" },
  quality: { sql: "text NOT NULL", what: "`good`, `uncertain` or `bad`" },
  reason: { sql: "text", what: "why the quality is not good (null when good)" },
  seq: { sql: "bigint NOT NULL", what: "sequence number (per source)" },
  historical: {
    sql: "boolean NOT NULL",
    what: "true when replayed from the backlog after an outage or restart",
  },
} as const;

/** A record field that maps to a column. */
export type RecordField = keyof typeof RECORD_FIELDS;

/** Defaults of the `postgres` sink. */
export const PG_DEFAULTS = {
  columns: {
    sourceTs: "time",
    device: "device",
    tag: "tag",
    value: "value",
    quality: "quality",
    seq: "seq",
  } as Partial<Record<RecordField, string>>,
  createTable: false,
  onConflict: "error",
  timeout: "10s",
  batchSize: 1000,
} as const;

const IDENT = "^[A-Za-z_][A-Za-z0-9_$]*$";

const column = (f: RecordField): TSchema =>
  Type.Optional(Type.String({
    pattern: IDENT,
    description: `Column for the ${RECORD_FIELDS[f].what}.`,
    examples: [PG_DEFAULTS.columns[f] ?? f.toLowerCase()],
  }));

/** The `postgres` sink's fields. */
export const PostgresSpec = Type.Object({
  url: Type.String({
    pattern: "^postgres(ql)?://",
    description:
      "Connection URL `postgres://user@host:5432/database` (add `?sslmode=require` for TLS).",
    examples: ["postgres://bifrost@127.0.0.1:5432/plant"],
  }),
  password: Type.Optional(Type.String({
    description:
      "Password, if not in the URL; write `${PG_PASSWORD}` to take it from the environment.",
    examples: ["${PG_PASSWORD}"],
  })),
  table: Type.String({
    pattern: "^[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?$",
    description: "Table to insert into, optionally schema-qualified.",
    examples: ["readings", "plant.readings"],
  }),
  columns: Type.Optional(Type.Object(
    Object.fromEntries(
      (Object.keys(RECORD_FIELDS) as RecordField[]).map((f) => [f, column(f)]),
    ),
    {
      additionalProperties: false,
      default: PG_DEFAULTS.columns,
      description:
        "Which record field goes to which column (fields left out are not inserted). Default: sourceTs→time, device, tag, value, quality, seq.",
      examples: [PG_DEFAULTS.columns, {
        sourceTs: "ts",
        device: "machine",
        tag: "signal",
        value: "v",
        historical: "replayed",
      }],
    },
  )),
  createTable: Type.Optional(Type.Boolean({
    default: PG_DEFAULTS.createTable,
    description:
      "Create the table if it does not exist, typed from `columns` (timestamps timestamptz, value double precision, seq bigint). For TimescaleDB, then run `SELECT create_hypertable('readings', 'time', if_not_exists => true)` once; inserts need no change.",
    examples: [true],
  })),
  onConflict: Type.Optional(Type.Union([Type.Literal("error"), Type.Literal("ignore")], {
    default: PG_DEFAULTS.onConflict,
    description:
      "`ignore` adds `ON CONFLICT DO NOTHING`: with a unique index (e.g. on device, tag, time) a record delivered twice (lost confirmation, at-least-once) is stored once.",
    examples: ["error", "ignore"],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: PG_DEFAULTS.timeout,
    description: "Connect timeout, and the statement timeout of each insert.",
    examples: ["10s"],
  })),
  ...forwardFields(
    PG_DEFAULTS.batchSize,
    "Rows per INSERT (one statement, one transaction) at most.",
  ),
}, {
  additionalProperties: false,
  description:
    "Inserts records into a PostgreSQL (or TimescaleDB) table in batches through a durable queue: retried while the database is down, rows it refuses (constraint violations, bad values) go to a dead-letter table.",
  examples: [
    { url: "postgres://bifrost@127.0.0.1:5432/plant", table: "readings", createTable: true },
    {
      url: "postgres://bifrost@db.acme.local/plant?sslmode=require",
      password: "${PG_PASSWORD}",
      table: "plant.readings",
      columns: { sourceTs: "ts", device: "device", tag: "tag", value: "value", seq: "seq" },
      onConflict: "ignore",
    },
  ],
});

/** The `postgres` sink's config. */
export type PostgresConfig = Static<typeof PostgresSpec>;
