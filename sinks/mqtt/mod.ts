/**
 * @module
 * The `mqtt` sink's registry entry: its name, description and spec, and a `create` whose
 * implementation (`sink.ts`, where the sink's behaviour is described) loads with the first
 * `mqtt` sink a gateway opens (`load()`), so that a gateway without one never carries it.
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type MqttConfig, MqttSpec } from "./spec.ts";

/** The `mqtt` sink. */
export const mqttSink: SinkModule<MqttConfig> = {
  name: "mqtt",
  description:
    "Publishes records as JSON to an MQTT broker through a durable queue (no loss through outages).",
  status: "beta",
  spec: MqttSpec,
  ...lazyCreate('sink "mqtt"', async () => (await import("./sink.ts")).createMqttSink),
};
