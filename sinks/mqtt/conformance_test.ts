/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `mqtt` sink against a
 * real mosquitto (`_mosquitto.ts`, persistence on), skipped by name when mosquitto is not
 * installed. An independent persistent subscriber (clean session off, QoS 1) reads back:
 * the broker keeps its session across the outage, so what the sink publishes before the
 * subscriber is back still reaches it.
 */

import mqtt, { type MqttClient } from "mqtt";
import type { DataRecord } from "../../engine/record.ts";
import {
  type ReadBackRecord,
  runSinkConformance,
  type SinkServer,
} from "../../tests/conformance/sink.ts";
import { Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { mqttSink } from "./mod.ts";

interface Broker extends SinkServer {
  url: string;
  got: ReadBackRecord[];
}

/**
 * A persistent QoS 1 subscriber. mosquitto redelivers, flagged DUP, what its saved session
 * still held as unacknowledged when it stopped; a DUP copy of a message already received is
 * the broker's, not the sink's, and is left out. A record the sink publishes twice has no
 * DUP flag and counts.
 */
async function collect(url: string): Promise<{ client: MqttClient; got: ReadBackRecord[] }> {
  const client = await mqtt.connectAsync(url, {
    clean: false,
    clientId: `conformance-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 50,
  });
  const got: ReadBackRecord[] = [];
  const seen = new Set<string>();
  client.on("message", (topic, buf, packet) => {
    const text = `${topic} ${buf.toString()}`;
    if (packet.dup && seen.has(text)) return;
    seen.add(text);
    const [, device, tag] = topic.split("/");
    const { historical: _, ...body } = JSON.parse(buf.toString()) as
      & Partial<DataRecord>
      & { historical?: boolean };
    got.push({ ...body, device: device!, tag: tag! });
  });
  client.on("error", () => {/* reconnects by itself */});
  await client.subscribeAsync("conformance/#", { qos: 1 });
  return { client, got };
}

async function startBroker(): Promise<Broker> {
  const broker = await Mosquitto.start({ persistence: true });
  let sub: Awaited<ReturnType<typeof collect>>;
  try {
    sub = await collect(broker.url);
  } catch (e) {
    await broker[Symbol.asyncDispose]();
    throw e;
  }
  const close = async () => {
    await sub.client.endAsync(true);
    await broker[Symbol.asyncDispose]();
  };
  return {
    url: broker.url,
    got: sub.got,
    stop: () => broker.stop(),
    start: () => broker.resume(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

const missing = mosquittoMissing();

runSinkConformance<Broker>({
  module: mqttSink,
  ...(missing ? { unavailable: missing } : {}),
  startServer: startBroker,
  config: (b, dataDir) => ({
    url: b.url,
    topic: "conformance/{device}/{tag}",
    qos: 1,
    reconnectMin: "50ms",
    reconnectMax: "200ms",
    queue: { dir: dataDir },
  }),
  readBack: (b) => Promise.resolve(b.got.slice()),
  fields: ["value", "quality", "reason", "sourceTs", "gatewayTs", "seq"],
  queued: true,
  delivered: (s) => s.sent ?? 0,
  exampleBase: { url: "mqtt://broker:1883" },
});
