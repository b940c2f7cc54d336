/**
 * @module
 * Test helper: an independent mqtt.js subscriber that collects what the broker delivers,
 * and a polling wait with a deadline.
 */

import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";

/** One delivered message. */
export interface Received {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
  /** MQTT 5 properties as delivered (a v5 subscriber only). */
  properties: IPublishPacket["properties"];
}

/** A connected subscriber and what it received so far. */
export interface Subscriber {
  client: MqttClient;
  messages: Received[];
  close(): Promise<void>;
}

/** Connects, subscribes to `filter` at QoS 1, and collects messages. */
export async function subscribe(
  url: string,
  filter: string,
  options: IClientOptions = {},
): Promise<Subscriber> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...options });
  const messages: Received[] = [];
  client.on("message", (topic, buf, packet) => {
    messages.push({
      topic,
      body: JSON.parse(buf.toString()),
      retain: packet.retain,
      properties: packet.properties,
    });
  });
  client.on("error", () => {/* reconnects by itself */});
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    messages,
    close: () => client.endAsync(true),
  };
}

/** Polls `cond` every 20 ms until it holds; throws with `what()` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
