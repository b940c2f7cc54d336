/**
 * @module
 * Opens one MQTT connection of the edge node with mqtt.js: clean session, mqtt.js's own
 * reconnect off (the session loop owns reconnecting), and the NDEATH carrying `bdSeq`
 * registered as the will (QoS 1, not retained, as Sparkplug B 3.0 requires).
 */

import { Buffer } from "node:buffer";
import type { IClientOptions, MqttClient } from "mqtt";
import { errorMessage, type Logger } from "../../engine/plugin.ts";
import { DataType, encodePayload, type Metric, type Payload } from "./payload.ts";
import type { Topics } from "./topics.ts";

/** The metric that carries bdSeq in NBIRTH and NDEATH. */
export function bdSeqMetric(bdSeq: number, now: number): Metric {
  return { name: "bdSeq", timestamp: now, datatype: DataType.UInt64, value: bdSeq };
}

/** Encodes a payload into the Buffer mqtt.js publishes. */
export function payloadBuffer(p: Payload): Buffer {
  const b = encodePayload(p);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** What {@linkcode openClient} needs. */
export interface ConnectOptions {
  url: string;
  mqtt: IClientOptions;
  topics: Topics;
  log: Logger;
}

/**
 * Connects with the NDEATH will of `bdSeq`; resolves after CONNACK, rejects when the broker
 * cannot be reached or refuses. `track` receives the client at once (so that a shutdown can
 * end a connection still waiting for CONNACK).
 */
export async function openClient(
  o: ConnectOptions,
  bdSeq: number,
  now: number,
  track: (c: MqttClient) => void,
): Promise<MqttClient> {
  const will = payloadBuffer({ timestamp: now, metrics: [bdSeqMetric(bdSeq, now)] });
  // Loaded on first connect: a gateway without MQTT sinks never pays for mqtt.js.
  const { default: mqtt } = await import("mqtt");
  const client = mqtt.connect(o.url, {
    ...o.mqtt,
    clean: true,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    will: { topic: o.topics.nodeTopic("NDEATH"), payload: will, qos: 1, retain: false },
  });
  track(client);
  client.on("error", (e) => o.log.debug("Sparkplug MQTT error", { error: errorMessage(e) }));
  let onError: (e: Error) => void = () => {};
  let onClose: () => void = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      onError = reject;
      onClose = () => reject(new Error("connection closed before CONNACK"));
      client.once("error", onError);
      client.once("close", onClose);
      client.once("connect", () => resolve());
    });
    return client;
  } catch (e) {
    client.end(true);
    throw e;
  } finally {
    client.off("error", onError);
    client.off("close", onClose);
  }
}
