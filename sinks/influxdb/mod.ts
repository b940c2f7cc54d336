/**
 * @module
 * The `influxdb` sink: records become line protocol points (see `line.ts`), written in
 * gzipped batches to InfluxDB's HTTP API (1.x `/write` or 2.x `/api/v2/write`, precision
 * ms) through the durable queue and the forwarder (`sinks/_forward`). 204 confirms a batch;
 * a 400 (bad point, field type conflict; InfluxDB keeps the good points of a partial write)
 * dead-letters the refused points after bisection, re-sending good points, which InfluxDB
 * overwrites in place (same series and time), so no duplicate is stored.
 *
 * This entry is what the registry imports: the name, the spec and a `create` whose
 * implementation (`sink.ts`) loads with the first `influxdb` sink a gateway opens (`load()`).
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type InfluxConfig, InfluxSpec } from "./spec.ts";

/** The `influxdb` sink. */
export const influxdbSink: SinkModule<InfluxConfig> = {
  name: "influxdb",
  description:
    "Writes records to InfluxDB 1.x/2.x as line protocol, batched and gzipped, through a durable queue.",
  status: "beta",
  spec: InfluxSpec,
  ...lazyCreate('sink "influxdb"', async () => (await import("./sink.ts")).createInfluxSink),
};
