/**
 * @module
 * The `sparkplug` sink's registry entry: its name, description and spec, and a `create` whose
 * implementation (`sink.ts`, where the sink's behaviour is described) loads with the first
 * `sparkplug` sink a gateway opens (`load()`), so that a gateway without one never carries it.
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type SparkplugConfig, SparkplugSpec } from "./spec.ts";

/** The `sparkplug` sink. */
export const sparkplugSink: SinkModule<SparkplugConfig> = {
  name: "sparkplug",
  description:
    "Sparkplug B 3.0 edge node: births with every tag, DDATA by alias through a durable queue, NDEATH will, rebirth and DCMD writes.",
  status: "beta",
  spec: SparkplugSpec,
  ...lazyCreate('sink "sparkplug"', async () => (await import("./sink.ts")).createSparkplugSink),
};
