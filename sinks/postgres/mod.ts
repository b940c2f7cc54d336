/**
 * @module
 * The `postgres` sink's registry entry: its name, description and spec, and a `create` whose
 * implementation (`sink.ts`, where the sink's behaviour is described) loads with the first
 * `postgres` sink a gateway opens (`load()`), so that a gateway without one never carries it.
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
