/**
 * @module
 * The `mqtt` sink's fields (TypeBox): broker, session, topic template, delivery and the
 * durable queue. Defaults here are the ones the sink applies when a field is absent.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { QueueSpec } from "../_queue/spec.ts";

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

/** Names of the cloud presets. */
export const MQTT_PRESETS = ["aws-iot-core", "azure-iot-hub"] as const;

/** A cloud preset's name. */
export type MqttPreset = (typeof MQTT_PRESETS)[number];

/** Settings of the `azure-iot-hub` preset. */
export const MqttAzureSpec = Type.Object({
  deviceKey: Type.Optional(Type.String({
    minLength: 1,
    description:
      "The device's symmetric key (base64; primary or secondary) that signs the SAS tokens; write `${AZURE_DEVICE_KEY}` to take it from the environment. Omit it when the device authenticates with an X.509 certificate (`tls.cert`, `tls.key`).",
    examples: ["${AZURE_DEVICE_KEY}"],
  })),
  tokenTtl: Duration(
    "1h",
    "Lifetime of each SAS token. IoT Hub closes a connection when its token expires, so the sink reconnects with a fresh token after three quarters of it (in-flight messages are confirmed first).",
    ["1h", "24h"],
  ),
  hostName: Type.Optional(Type.String({
    minLength: 1,
    description:
      "The hub's host name, used in the user name and the token. Default: the host of `url`. Set it when `url` points elsewhere (a protocol gateway, a test broker).",
    examples: ["plant1-hub.azure-devices.net"],
  })),
}, {
  additionalProperties: false,
  description: "Device credentials of the `azure-iot-hub` preset.",
  examples: [{ deviceKey: "${AZURE_DEVICE_KEY}" }],
});

/** MQTT 5 properties sent with every publish. */
export const MqttPropertiesSpec = Type.Object({
  userProperties: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), {
    description: "User properties (name/value pairs) of every message.",
    examples: [{ site: "plant1", source: "bifrost" }],
  })),
  messageExpiryInterval: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description:
      "The broker discards a message not yet delivered after this long (whole seconds, rounded up). It counts from when the broker receives the message, also for a replayed backlog.",
    examples: ["1h", "30s"],
  })),
  contentType: Type.Optional(Type.String({
    minLength: 1,
    description: "Content type of every message.",
    examples: ["application/json"],
  })),
}, {
  additionalProperties: false,
  description: "MQTT 5 publish properties (needs `protocolVersion: 5`).",
  examples: [{ userProperties: { site: "plant1" }, messageExpiryInterval: "1h" }],
});

/** The `mqtt` sink's fields. */
export const MqttSpec = Type.Object({
  preset: Type.Optional(Type.Union([Type.Literal("aws-iot-core"), Type.Literal("azure-iot-hub")], {
    description:
      "A cloud broker's rules, checked and applied: `aws-iot-core` (mutual TLS with `tls.ca`, `tls.cert`, `tls.key`; `clientId` is the thing name; QoS 0 or 1; `maxInFlight` and `replayRate` default to 100, the per-connection publish quota) or `azure-iot-hub` (`clientId` is the device id; user name, SAS token password and the `devices/<id>/messages/events/` topic are made by the sink from `azure`; MQTT 3.1.1, QoS 0 or 1, no retain; `replayRate` defaults to 100). Both need an `mqtts://` URL.",
    examples: ["aws-iot-core", "azure-iot-hub"],
  })),
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
    // No schema `default`: the `azure-iot-hub` preset makes its own topic and must see
    // whether one was set.
    description:
      "Topic template: `{device}`, `{tag}` and every key of `vars` are replaced (e.g. a UNS path `acme/{site}/{area}/{device}/{tag}`). Default: `bifrost/{device}/{tag}` (not settable with `azure-iot-hub`).",
    examples: ["bifrost/{device}/{tag}", "acme/{site}/{area}/{device}/{tag}"],
  })),
  vars: Type.Optional(
    Type.Record(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), Type.String(), {
      description: "Static values for placeholders of `topic`.",
      examples: [{ site: "plant1", area: "boiler" }],
    }),
  ),
  tls: Type.Optional(MqttTlsSpec),
  azure: Type.Optional(MqttAzureSpec),
  properties: Type.Optional(MqttPropertiesSpec),
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
    // No schema `default`: a preset lowers it to the cloud's quota unless set.
    description:
      "Records per second at most when replaying the backlog after an outage or a restart (0: no limit). Live records follow the backlog in order. Default: 5000 (100 with a preset).",
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
    {
      preset: "aws-iot-core",
      url: "mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:8883",
      clientId: "line3-gateway",
      tls: {
        ca: "certs/AmazonRootCA1.pem",
        cert: "certs/line3-gateway.pem.crt",
        key: "certs/line3-gateway.private.key",
      },
    },
    {
      preset: "azure-iot-hub",
      url: "mqtts://plant1-hub.azure-devices.net:8883",
      clientId: "line3-gateway",
      azure: { deviceKey: "${AZURE_DEVICE_KEY}" },
    },
  ],
});

/** The `mqtt` sink's config. */
export type MqttConfig = Static<typeof MqttSpec>;
