/**
 * @module
 * The `mqtt` sink: every record is published as JSON to an MQTT broker, through the
 * durable queue. `write()` only enqueues (one SQLite transaction) and returns; a background
 * {@linkcode Sender} publishes from the queue in order and removes records only when the
 * broker confirmed them, so a broker outage or a gateway restart loses nothing (bounded by
 * the queue's maxRecords/maxAge/maxSize, whose drops are counted and logged).
 *
 * This entry is what the registry imports: the name, the spec and a `create` whose
 * implementation (`sink.ts`) loads with the first `mqtt` sink a gateway opens (`load()`).
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
