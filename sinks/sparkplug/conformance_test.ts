/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `sparkplug` sink against
 * a real mosquitto, read back by a host stand-in that decodes with Eclipse Tahu: metric
 * names from each DBIRTH's aliases, values and source times from DDATA. Sparkplug B carries
 * bad quality as `is_null` and neither the uncertain quality, the reason, the gateway time
 * nor seq: the suite compares value and source time.
 */

import mqtt, { type MqttClient } from "mqtt";
import type { Value } from "../../engine/record.ts";
import {
  type ReadBackRecord,
  runSinkConformance,
  type SinkServer,
} from "../../tests/conformance/sink.ts";
import { Broker, mosquittoMissing, tahu, type TahuMetric } from "./_broker.ts";
import { sparkplugSink } from "./mod.ts";

const GROUP = "conformance";

interface Host extends SinkServer {
  url: string;
  got: ReadBackRecord[];
}

const num = (v: unknown) => (v === null || v === undefined ? v : Number(String(v)));

/**
 * A persistent QoS 1 host. A DUP copy of a message already received is mosquitto's
 * redelivery from its saved session, not the sink's, and is left out.
 */
async function host(url: string): Promise<{ client: MqttClient; got: ReadBackRecord[] }> {
  const client = await mqtt.connectAsync(url, {
    clean: false,
    clientId: `conformance-host-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 50,
  });
  const got: ReadBackRecord[] = [];
  const seen = new Set<string>();
  const names = new Map<string, string>();
  client.on("message", (topic, buf, packet) => {
    const text = `${topic} ${buf.toString("base64")}`;
    if (packet.dup && seen.has(text)) return;
    seen.add(text);
    const [, , type, , device] = topic.split("/");
    if (device === undefined) return;
    const metrics = (tahu.decodePayload(new Uint8Array(buf)).metrics ?? []) as TahuMetric[];
    for (const m of metrics) {
      const alias = `${device}/${String(m.alias)}`;
      if (type === "DBIRTH") names.set(alias, m.name!);
      if (type !== "DDATA") continue;
      const value = m.type === "Boolean" || m.type === "String" ? m.value : num(m.value);
      got.push({
        device,
        tag: m.name ?? names.get(alias) ?? `alias ${String(m.alias)}`,
        value: value as Value,
        sourceTs: num(m.timestamp) as number,
      });
    }
  });
  client.on("error", () => {/* reconnects by itself */});
  await client.subscribeAsync(`spBv1.0/${GROUP}/#`, { qos: 1 });
  return { client, got };
}

async function startHost(): Promise<Host> {
  const broker = await Broker.start();
  let h: Awaited<ReturnType<typeof host>>;
  try {
    h = await host(broker.url);
  } catch (e) {
    await broker[Symbol.asyncDispose]();
    throw e;
  }
  const close = async () => {
    await h.client.endAsync(true);
    await broker[Symbol.asyncDispose]();
  };
  return {
    url: broker.url,
    got: h.got,
    stop: () => broker.stop(),
    start: () => broker.resume(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

const missing = mosquittoMissing();

runSinkConformance<Host>({
  module: sparkplugSink,
  ...(missing ? { unavailable: missing } : {}),
  startServer: startHost,
  config: (h, dataDir) => ({
    url: h.url,
    groupId: GROUP,
    edgeNode: "edge1",
    keepalive: "5s",
    reconnectMin: "50ms",
    reconnectMax: "200ms",
    queue: { dir: dataDir },
  }),
  readBack: (h) => Promise.resolve(h.got.slice()),
  fields: ["value", "sourceTs"],
  queued: true,
  delivered: (s) => s.sent ?? 0,
  exampleBase: { url: "mqtt://broker:1883", groupId: "plant", edgeNode: "gw1" },
});
