/**
 * @module
 * The `mqtt` sink: every record is published as JSON to an MQTT broker, through the
 * durable queue. `write()` only enqueues (one SQLite transaction) and returns; a background
 * {@linkcode Sender} publishes from the queue in order and removes records only when the
 * broker confirmed them, so a broker outage or a gateway restart loses nothing (bounded by
 * the queue's maxRecords/maxAge/maxSize, whose drops are counted and logged).
 *
 * The module entry (the `mqtt` sink's registry record) is `mod.ts`; this file loads with the
 * first `mqtt` sink a flow opens.
 */

import { checkpointQueue, queuedWrite } from "../_queue/sink_io.ts";
import { hostname } from "node:os";
import {
  type Batch,
  nullLogger,
  parseDuration,
  type Sink,
  type SinkContext,
} from "../../engine/plugin.ts";
import { type DurableQueue, openSinkQueue, type QueueStats } from "../_queue/mod.ts";
import { connectError } from "./connect_error.ts";
import { clientOptions, type Connector, mqttConnector, type PublishSettings } from "./link.ts";
import { publishProperties, resolveMqttConfig } from "./presets.ts";
import { emptySenderStats, Sender, type SenderStats } from "./sender.ts";
import { MQTT_DEFAULTS, MQTT_QOS2_V4_IN_FLIGHT, type MqttConfig } from "./spec.ts";

export { compileTopic, payload, type TopicFn } from "./format.ts";
export {
  clientOptions,
  type Connector,
  mqttConnector,
  type MqttLink,
  type PublishCallback,
  type PublishSettings,
} from "./link.ts";
export {
  ACK_INTERVAL_MS,
  emptySenderStats,
  RENEW_DRAIN_MS,
  Sender,
  type SenderOptions,
  type SenderStats,
} from "./sender.ts";
export {
  MQTT_DEFAULTS,
  MQTT_PRESETS,
  MQTT_QOS2_V4_IN_FLIGHT,
  MqttAzureSpec,
  type MqttConfig,
  type MqttPreset,
  MqttPropertiesSpec,
  MqttSpec,
  MqttTlsSpec,
} from "./spec.ts";
export {
  AWS_PUBLISH_RATE,
  AZURE_REPLAY_RATE,
  AZURE_TOKEN_TTL,
  type Credentials,
  publishProperties,
  type ResolvedMqtt,
  resolveMqttConfig,
} from "./presets.ts";
export {
  AZURE_API_VERSION,
  azureResourceUri,
  azureSasToken,
  azureTopic,
  azureUsername,
} from "./azure.ts";
export { connectError, explainConnectFailure } from "./connect_error.ts";

/**
 * Figures of an mqtt sink: the queue's (enqueued, dropped, depth, oldestAgeMs, bytes) and
 * the sender's (sent: confirmed by the broker, historical, failed, rejected, reconnects,
 * renewals, connected, inFlight).
 */
export type MqttSinkStats = QueueStats & SenderStats;

/** The running mqtt sink; `queue` is set between `open()` and `close()`. */
export interface MqttSink extends Sink {
  readonly queue: DurableQueue | undefined;
  stats(): MqttSinkStats;
}

/** The URL without user info, for log lines. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/**
 * mosquitto (and other brokers) cap unacknowledged incoming QoS 2 messages (mosquitto: 20,
 * `max_inflight_messages`) and disconnect a client that sends more. MQTT 5 announces the
 * cap (Receive Maximum, applied by the sender); MQTT 3.1.1 cannot, so QoS 2 over 3.1.1
 * defaults to 20 in flight.
 */
export function defaultMaxInFlight(config: Pick<MqttConfig, "qos" | "protocolVersion">): number {
  const qos = config.qos ?? MQTT_DEFAULTS.qos;
  const v = config.protocolVersion ?? MQTT_DEFAULTS.protocolVersion;
  return qos === 2 && v === 4 ? MQTT_QOS2_V4_IN_FLIGHT : MQTT_DEFAULTS.maxInFlight;
}

function defaultClientId(sink: string): string {
  let host = "gateway";
  try {
    host = hostname();
  } catch { /* no permission: the sink name is enough to tell sinks apart */ }
  return `bifrost-${host}-${sink}`;
}

/**
 * Creates an mqtt sink. `connector` replaces the mqtt.js connection (tests, benchmarks).
 *
 * @example
 * ```ts
 * const sink = createMqttSink({ url: "mqtt://127.0.0.1:1883" }, { name: "uns", clock: systemClock });
 * await sink.open();
 * await sink.write(batch); // durable on return; published in the background
 * await sink.close();
 * ```
 */
export function createMqttSink(
  userConfig: MqttConfig,
  ctx: Pick<SinkContext, "name" | "clock"> & Partial<Pick<SinkContext, "log" | "dataDir">>,
  connector?: Connector,
): MqttSink {
  const log = ctx.log ?? nullLogger;
  // Checked at creation, so a bad template or a preset's broken rule fails at start-up,
  // not while publishing.
  const resolved = resolveMqttConfig(userConfig, ctx.name);
  const config = resolved.config;
  const topic = resolved.topic;
  const properties = publishProperties(config, ctx.name);
  const closeTimeoutMs = parseDuration(config.closeTimeout ?? MQTT_DEFAULTS.closeTimeout);
  let queue: DurableQueue | undefined;
  let sender: Sender | undefined;
  let closed: QueueStats = { enqueued: 0, sent: 0, dropped: 0, depth: 0, oldestAgeMs: 0, bytes: 0 };
  let senderStats: SenderStats = emptySenderStats();
  return {
    get queue() {
      return queue;
    },
    open() {
      if (queue) return Promise.resolve();
      try {
        const publish: PublishSettings = {
          qos: config.qos ?? MQTT_DEFAULTS.qos,
          retain: config.retain ?? MQTT_DEFAULTS.retain,
          explain: (e, username) => connectError(e, config, username),
        };
        if (properties) publish.properties = properties;
        const credentials = resolved.credentials;
        if (credentials) publish.credentials = () => credentials(ctx.clock.now());
        if (resolved.renewAfterMs !== undefined) publish.renewAfterMs = resolved.renewAfterMs;
        const connect = connector ?? mqttConnector(
          config.url,
          clientOptions(config, config.clientId ?? defaultClientId(ctx.name), ctx.name),
          publish,
        );
        queue = openSinkQueue(config.queue, { ...ctx, log });
        sender = new Sender({
          name: ctx.name,
          target: displayUrl(config.url),
          queue,
          connect,
          topic,
          maxInFlight: config.maxInFlight ?? defaultMaxInFlight(config),
          replayRate: config.replayRate ?? MQTT_DEFAULTS.replayRate,
          reconnectMinMs: parseDuration(config.reconnectMin ?? MQTT_DEFAULTS.reconnectMin),
          reconnectMaxMs: parseDuration(config.reconnectMax ?? MQTT_DEFAULTS.reconnectMax),
          clock: ctx.clock,
          log,
        });
        sender.start();
        return Promise.resolve();
      } catch (e) {
        queue?.close();
        queue = undefined;
        return Promise.reject(e);
      }
    },
    write(b: Batch) {
      const s = sender;
      return queuedWrite(s && queue, `mqtt sink "${ctx.name}"`, b, () => s!.wake());
    },
    // Records are on disk once write() returned; this only folds the WAL back.
    flush: () => checkpointQueue(queue),
    async close() {
      if (!queue || !sender) return;
      const q = queue;
      const s = sender;
      queue = undefined;
      sender = undefined;
      await s.stop(closeTimeoutMs);
      senderStats = s.stats();
      closed = q.stats();
      if (closed.depth > 0) {
        log.info(`MQTT sink "${ctx.name}" keeps ${closed.depth} unsent records on disk`, {
          path: q.path,
        });
      }
      q.close();
    },
    stats() {
      const qs = queue ? queue.stats() : closed;
      const ss = sender ? sender.stats() : senderStats;
      return { ...qs, ...ss };
    },
  };
}
