/**
 * @module
 * The `postgres` sink: records are inserted into a declared table (multi-row INSERT with
 * parameters, one statement and so one transaction per delivered chunk) through the
 * durable queue and the forwarder (`sinks/_forward`). Client: postgres.js (`npm:postgres`,
 * pure JavaScript over `node:net`; one connection, reconnected on demand, no prepared
 * statements since chunk sizes vary).
 *
 * Errors: SQLSTATE class 23 (integrity constraint violation: CHECK, NOT NULL, unique,
 * foreign key) and class 22 (data exception: a value the column cannot take) are
 * permanent: the chunk is bisected and the refused rows dead-lettered with PostgreSQL's
 * message; the rest is committed. Anything else (connection refused or lost, shutdown,
 * missing table, permissions) is retried, so rows wait in the queue until it is fixed.
 *
 * This entry is what the registry imports: the name, the spec and a `create` whose
 * implementation (`sink.ts`) loads with the first `postgres` sink a gateway opens (`load()`).
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type PostgresConfig, PostgresSpec } from "./spec.ts";

/** The `postgres` sink. */
export const postgresSink: SinkModule<PostgresConfig> = {
  name: "postgres",
  description:
    "Inserts records into a PostgreSQL/TimescaleDB table in batches through a durable queue (constraint violations dead-lettered).",
  status: "beta",
  spec: PostgresSpec,
  ...lazyCreate('sink "postgres"', async () => (await import("./sink.ts")).createPostgresSink),
};
