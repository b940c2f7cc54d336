/**
 * @module
 * The `mqtt` sink's fields (TypeBox): broker, session, topic template, delivery and the
 * durable queue. Defaults here are the ones the sink applies when a field is absent.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/flow/duration.ts";
import { QueueSpec } from "../_queue/mod.ts";

/** Defaults of the `mqtt` sink. */
export const MQTT_DEFAULTS = {
  protocolVersion: 4,
  qos: 1,
  retain: false,
  topic: "bifrost/{device}/{tag}",
  maxInFlight: 1000,
  replayRate: 5000,
  keepalive: "30s",
  connectTimeout: "10s",
  reconnectMin: "1s",
  reconnectMax: "30s",
  closeTimeout: "2s",
} as const;

/** Default in-flight limit for QoS 2 over MQTT 3.1.1 (mosquitto's default incoming cap). */
export const MQTT_QOS2_V4_IN_FLIGHT = 20;

const Duration = (def: string, description: string, examples: string[]) =>
  Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: def, description, examples }));

/** TLS files of an `mqtts://` connection. */
export const MqttTlsSpec = Type.Object({
  ca: Type.Optional(Type.String({
    minLength: 1,
    description: "CA certificate file (PEM) that signed the broker's certificate.",
    examples: ["certs/ca.pem"],
  })),
  cert: Type.Optional(Type.String({
    minLength: 1,
    description:
      "Client certificate file (PEM), for brokers that authenticate clients by certificate.",
    examples: ["certs/gateway.crt"],
  })),
  key: Type.Optional(Type.String({
    minLength: 1,
    description: "Private key file (PEM) of the client certificate.",
    examples: ["certs/gateway.key"],
  })),
  rejectUnauthorized: Type.Optional(Type.Boolean({
    default: true,
    description: "Refuse a broker whose certificate does not verify. Turn off only for tests.",
    examples: [true],
  })),
}, {
  additionalProperties: false,
  description: "TLS settings (file paths, relative to the working directory).",
  examples: [{ ca: "certs/ca.pem" }, {
    ca: "certs/ca.pem",
    cert: "certs/gw.crt",
    key: "certs/gw.key",
  }],
});

/** The `mqtt` sink's fields. */
export const MqttSpec = Type.Object({
  url: Type.String({
    pattern: "^(mqtt|mqtts|tcp|tls|ssl)://",
    description: "Broker URL: `mqtt://host:1883`, or `mqtts://host:8883` for TLS.",
    examples: ["mqtt://127.0.0.1:1883", "mqtts://broker.plant1.local:8883"],
  }),
  clientId: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 23 * 8,
    description:
      "MQTT client id. Default: `bifrost-<hostname>-<sink name>` (two gateways must not share one: the broker disconnects the older).",
    examples: ["bifrost-line3"],
  })),
  username: Type.Optional(Type.String({ description: "User name.", examples: ["gateway"] })),
  password: Type.Optional(Type.String({
    description: "Password; write `${MQTT_PASSWORD}` to take it from the environment.",
    examples: ["${MQTT_PASSWORD}"],
  })),
  protocolVersion: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(5)], {
    default: MQTT_DEFAULTS.protocolVersion,
    description: "4: MQTT 3.1.1; 5: MQTT 5.",
    examples: [4, 5],
  })),
  qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
    default: MQTT_DEFAULTS.qos,
    description:
      "0: at most once (a record leaves the queue once written to the socket); 1: at least once (on PUBACK); 2: exactly once between gateway and broker (on PUBCOMP).",
    examples: [1],
  })),
  retain: Type.Optional(Type.Boolean({
    default: MQTT_DEFAULTS.retain,
    description: "Publish with the retain flag, so new subscribers get the last value at once.",
    examples: [false, true],
  })),
  topic: Type.Optional(Type.String({
    minLength: 1,
    default: MQTT_DEFAULTS.topic,
    description:
      "Topic template: `{device}`, `{tag}` and every key of `vars` are replaced (e.g. a UNS path `acme/{site}/{area}/{device}/{tag}`).",
    examples: ["bifrost/{device}/{tag}", "acme/{site}/{area}/{device}/{tag}"],
  })),
  vars: Type.Optional(
    Type.Record(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), Type.String(), {
      description: "Static values for placeholders of `topic`.",
      examples: [{ site: "plant1", area: "boiler" }],
    }),
  ),
  tls: Type.Optional(MqttTlsSpec),
  maxInFlight: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    // No schema `default`: the runtime default depends on qos and protocolVersion, and ajv
    // would fill in a fixed one.
    description:
      "Publishes awaiting PUBACK/PUBCOMP at most. Default: 1000, or 20 for QoS 2 over MQTT 3.1.1 (a 3.1.1 broker cannot announce its limit; mosquitto's is 20). An MQTT 5 broker's Receive Maximum lowers it (mosquitto announces 20 unless `max_inflight_messages` is raised).",
    examples: [1000],
  })),
  replayRate: Type.Optional(Type.Integer({
    minimum: 0,
    default: MQTT_DEFAULTS.replayRate,
    description:
      "Records per second at most when replaying the backlog after an outage or a restart (0: no limit). Live records follow the backlog in order.",
    examples: [5000, 0],
  })),
  keepalive: Duration(MQTT_DEFAULTS.keepalive, "MQTT keep-alive interval.", ["30s", "60s"]),
  connectTimeout: Duration(
    MQTT_DEFAULTS.connectTimeout,
    "How long to wait for the broker's CONNACK.",
    ["10s"],
  ),
  reconnectMin: Duration(
    MQTT_DEFAULTS.reconnectMin,
    "First reconnect delay; it doubles up to `reconnectMax`, with random jitter.",
    ["1s", "200ms"],
  ),
  reconnectMax: Duration(MQTT_DEFAULTS.reconnectMax, "Longest reconnect delay.", ["30s", "2m"]),
  closeTimeout: Duration(
    MQTT_DEFAULTS.closeTimeout,
    "At shutdown, how long to keep publishing the queue; what is left stays on disk for the next start.",
    ["2s"],
  ),
  queue: Type.Optional(QueueSpec),
}, {
  additionalProperties: false,
  description:
    "Publishes every record to an MQTT broker as JSON, through a durable queue: nothing is lost while the broker is unreachable or the gateway restarts.",
  examples: [
    { url: "mqtt://127.0.0.1:1883" },
    {
      url: "mqtts://broker.acme.local:8883",
      username: "gateway",
      password: "${MQTT_PASSWORD}",
      topic: "acme/{site}/{area}/{device}/{tag}",
      vars: { site: "plant1", area: "boiler" },
      tls: { ca: "certs/ca.pem" },
      queue: { maxAge: "7d", maxSize: "1GB" },
    },
  ],
});

/** The `mqtt` sink's config. */
export type MqttConfig = Static<typeof MqttSpec>;
