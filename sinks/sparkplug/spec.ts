/**
 * @module
 * The `sparkplug` sink's fields (TypeBox): broker, Sparkplug identity (group and edge node),
 * delivery and the durable queue. Defaults here are the ones the sink applies when a field
 * is absent.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { QueueSpec } from "../_queue/spec.ts";

/** Defaults of the `sparkplug` sink. */
export const SPARKPLUG_DEFAULTS = {
  qos: 0,
  maxInFlight: 100,
  metricsPerMessage: 500,
  keepalive: "30s",
  connectTimeout: "10s",
  reconnectMin: "1s",
  reconnectMax: "30s",
  closeTimeout: "2s",
} as const;

/** Sparkplug ids (group, edge node, device) must not contain MQTT separators or wildcards. */
export const SPARKPLUG_ID_PATTERN = "^[^/+#]+$";

const Duration = (def: string, description: string, examples: string[]) =>
  Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: def, description, examples }));

/** The `sparkplug` sink's fields. */
export const SparkplugSpec = Type.Object({
  url: Type.String({
    pattern: "^(mqtt|mqtts|tcp|tls|ssl)://",
    description: "Broker URL: `mqtt://host:1883`, or `mqtts://host:8883` for TLS.",
    examples: ["mqtt://127.0.0.1:1883", "mqtts://broker.plant1.local:8883"],
  }),
  clientId: Type.Optional(Type.String({
    minLength: 1,
    description:
      "MQTT client id. Default: `bifrost-<groupId>-<edgeNode>` (two edge nodes must not share one: the broker disconnects the older and publishes its NDEATH).",
    examples: ["bifrost-plant1-line3"],
  })),
  username: Type.Optional(Type.String({ description: "User name.", examples: ["gateway"] })),
  password: Type.Optional(Type.String({
    description: "Password; write `${MQTT_PASSWORD}` to take it from the environment.",
    examples: ["${MQTT_PASSWORD}"],
  })),
  groupId: Type.String({
    pattern: SPARKPLUG_ID_PATTERN,
    description: "Sparkplug group id: the second level of every topic (`spBv1.0/<groupId>/...`).",
    examples: ["plant1"],
  }),
  edgeNode: Type.String({
    pattern: SPARKPLUG_ID_PATTERN,
    description:
      "Sparkplug edge node id of this gateway. Every Bifrost device becomes a Sparkplug device of the same name (`/`, `+` and `#` replaced by `_`), its tags the device's metrics.",
    examples: ["line3-gateway"],
  }),
  qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)], {
    default: SPARKPLUG_DEFAULTS.qos,
    description:
      "QoS of DDATA. 0 (the Sparkplug default): records leave the queue once written to the socket; 1: on PUBACK. Births are always QoS 0 and the NDEATH will QoS 1, as Sparkplug B 3.0 requires.",
    examples: [0, 1],
  })),
  maxInFlight: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    default: SPARKPLUG_DEFAULTS.maxInFlight,
    description: "DDATA messages awaiting confirmation (write or PUBACK) at most.",
    examples: [100],
  })),
  metricsPerMessage: Type.Optional(Type.Integer({
    minimum: 1,
    default: SPARKPLUG_DEFAULTS.metricsPerMessage,
    description:
      "Metrics per DDATA message at most. A message never holds two values of one metric: the second starts a new message.",
    examples: [500],
  })),
  keepalive: Duration(
    SPARKPLUG_DEFAULTS.keepalive,
    "MQTT keep-alive interval (the broker publishes NDEATH after 1.5 of it without traffic).",
    ["30s", "10s"],
  ),
  connectTimeout: Duration(
    SPARKPLUG_DEFAULTS.connectTimeout,
    "How long to wait for the broker's CONNACK.",
    ["10s"],
  ),
  reconnectMin: Duration(
    SPARKPLUG_DEFAULTS.reconnectMin,
    "First reconnect delay; it doubles up to `reconnectMax`, with random jitter.",
    ["1s", "200ms"],
  ),
  reconnectMax: Duration(SPARKPLUG_DEFAULTS.reconnectMax, "Longest reconnect delay.", [
    "30s",
    "2m",
  ]),
  closeTimeout: Duration(
    SPARKPLUG_DEFAULTS.closeTimeout,
    "At shutdown, how long to keep publishing the queue before NDEATH; what is left stays on disk for the next start.",
    ["2s"],
  ),
  queue: Type.Optional(QueueSpec),
}, {
  additionalProperties: false,
  description:
    "A Sparkplug B 3.0 edge node: NBIRTH/DBIRTH with every tag of the catalog, DDATA by alias through a durable queue (values that waited through an outage are marked historical), NDEATH as the MQTT will, rebirth on `Node Control/Rebirth`, and DCMD writes to writable tags.",
  examples: [
    { url: "mqtt://127.0.0.1:1883", groupId: "plant1", edgeNode: "line3" },
    {
      url: "mqtts://broker.acme.local:8883",
      username: "gateway",
      password: "${MQTT_PASSWORD}",
      groupId: "plant1",
      edgeNode: "line3",
      qos: 1,
      queue: { maxAge: "7d", maxSize: "1GB" },
    },
  ],
});

/** The `sparkplug` sink's config. */
export type SparkplugConfig = Static<typeof SparkplugSpec>;
