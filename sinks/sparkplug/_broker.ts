/**
 * @module
 * Test helpers: a real mosquitto on 127.0.0.1 (free port, temp config, persistence so a
 * subscriber's session and queued QoS 0 births survive a broker restart), and a Sparkplug
 * host stand-in that subscribes to `spBv1.0/<group>/#` and decodes every message with Eclipse
 * Tahu's decoder (independent of ours).
 */

import { Buffer } from "node:buffer";
import { Mosquitto, mosquittoMissing } from "../mqtt/_mosquitto.ts";
import mqtt, { type MqttClient } from "mqtt";
import "./_tahu_long.ts";
import tahuPkg from "sparkplug-payload";

/** The broker of these tests: the shared mosquitto helper, with persistence. */
export type Broker = Mosquitto;

/** Starts a broker that keeps persistent sessions and queued QoS 0 births across restarts. */
export const Broker = {
  start: (): Promise<Mosquitto> => Mosquitto.start({ persistence: true, queueQos0: true }),
};

export { mosquittoMissing };

/** Eclipse Tahu's Sparkplug B codec. */
export const tahu = tahuPkg.get("spBv1.0")!;

/** A metric as Tahu decodes it (64-bit values are `Long` objects: compare with String()). */
export interface TahuMetric {
  name?: string | null;
  alias?: unknown;
  type: string;
  value: unknown;
  timestamp?: unknown;
  isHistorical?: boolean | null;
  properties?: Record<string, { type: string; value: unknown }>;
}

/** One message the host received. */
export interface HostMessage {
  topic: string;
  type: string;
  device?: string;
  seq?: number;
  timestamp?: number;
  metrics: TahuMetric[];
}

/** A Sparkplug host stand-in: a persistent-session subscriber with Tahu's decoder. */
export class Host {
  readonly messages: HostMessage[] = [];
  readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on("message", (topic, buf) => {
      const p = tahu.decodePayload(new Uint8Array(buf));
      const parts = topic.split("/");
      const m: HostMessage = {
        topic,
        type: parts[2]!,
        metrics: (p.metrics ?? []) as unknown as TahuMetric[],
      };
      if (parts[4] !== undefined) m.device = parts[4];
      if (p.seq !== undefined && p.seq !== null) m.seq = Number(String(p.seq));
      if (p.timestamp !== undefined && p.timestamp !== null) {
        m.timestamp = Number(String(p.timestamp));
      }
      this.messages.push(m);
    });
    client.on("error", () => {/* reconnects by itself */});
  }

  /** Connects (persistent session) and subscribes to the group at QoS 1. */
  static async connect(url: string, group: string): Promise<Host> {
    const client = await mqtt.connectAsync(url, {
      clientId: `host-${crypto.randomUUID().slice(0, 8)}`,
      clean: false,
      reconnectPeriod: 50,
    });
    const h = new Host(client);
    await client.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
    return h;
  }

  /** Publishes a command payload (encoded by Tahu). */
  async command(topic: string, metrics: Record<string, unknown>[]): Promise<void> {
    const bytes = tahu.encodePayload({ timestamp: Date.now(), metrics } as never);
    await this.client.publishAsync(topic, Buffer.from(bytes), { qos: 1 });
  }

  /** Messages of one type (and device). */
  of(type: string, device?: string): HostMessage[] {
    return this.messages.filter((m) =>
      m.type === type && (device === undefined || m.device === device)
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Polls `cond` every 10 ms until it holds; throws with `what()` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  what: () => string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Checks the Sparkplug ordering rules over messages in arrival order and returns how often
 * seq wrapped: NBIRTH has seq 0 and comes before any DBIRTH; each DBIRTH/DDATA has the
 * previous message's seq + 1 (mod 256); a device's DDATA follows its DBIRTH of the same
 * birth. NDEATH carries no seq; commands (the host's own) are skipped.
 */
export function checkSequence(messages: HostMessage[]): number {
  let prev: number | undefined;
  let born = new Set<string>();
  let wraps = 0;
  messages.forEach((m, i) => {
    const where = `message ${i} (${m.topic}, seq ${m.seq})`;
    if (m.type === "NCMD" || m.type === "DCMD" || m.type === "STATE") return; // the host's own
    if (m.type === "NDEATH") {
      if (m.seq !== undefined) throw new Error(`${where}: NDEATH must carry no seq`);
      return;
    }
    if (m.type === "NBIRTH") {
      if (m.seq !== 0) throw new Error(`${where}: NBIRTH seq must be 0`);
      born = new Set();
      prev = 0;
      return;
    }
    if (prev === undefined) throw new Error(`${where}: before any NBIRTH`);
    if (m.seq !== (prev + 1) % 256) throw new Error(`${where}: expected seq ${(prev + 1) % 256}`);
    if (m.seq === 0) wraps++;
    prev = m.seq;
    if (m.type === "DBIRTH") born.add(m.device!);
    else if (m.type === "DDATA" && !born.has(m.device!)) {
      throw new Error(`${where}: DDATA before the DBIRTH of "${m.device}"`);
    }
  });
  return wraps;
}
