/**
 * @module
 * The `influxdb` sink's registry entry: its name, description and spec, and a `create` whose
 * implementation (`sink.ts`, where the sink's behaviour is described) loads with the first
 * `influxdb` sink a gateway opens (`load()`), so that a gateway without one never carries it.
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
