/**
 * @module
 * The `opcua` driver's config spec (TypeBox): device fields, tag fields and the options of a
 * `subscribe:` poll. The flow JSON Schema, the reference docs and runtime parsing all come
 * from these objects.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "../../../engine/plugin.ts";
import { TAG_TYPES } from "./types.ts";

/** Security modes of a secure channel. */
export const SECURITY_MODES = ["None", "Sign", "SignAndEncrypt"] as const;
/** Security policies Bifrost offers (the ones OPC UA still recommends, and None). */
export const SECURITY_POLICIES = [
  "None",
  "Basic256Sha256",
  "Aes128_Sha256_RsaOaep",
  "Aes256_Sha256_RsaPss",
] as const;

/** Device fields of `driver: opcua`. */
export const OpcuaDeviceSpec = Type.Object({
  endpoint: Type.String({
    pattern: "^opc\\.tcp://[^/:]+(:[0-9]+)?(/.*)?$",
    description: "Endpoint URL of the server: opc.tcp://host[:port][/path] (port 4840 if none).",
    examples: ["opc.tcp://192.168.1.30:4840", "opc.tcp://scada01:49320/OPCUA/SimulationServer"],
  }),
  securityMode: Type.Optional(Type.Union(SECURITY_MODES.map((m) => Type.Literal(m)), {
    default: "None",
    description:
      "Message security: None, Sign (signed, readable on the wire) or SignAndEncrypt. Sign and SignAndEncrypt need a securityPolicy other than None and a server certificate in the trust store (`bifrost opcua trust`).",
    examples: ["SignAndEncrypt", "None"],
  })),
  securityPolicy: Type.Optional(Type.Union(SECURITY_POLICIES.map((m) => Type.Literal(m)), {
    default: "None",
    description:
      "Security policy of the channel: Basic256Sha256 (what most PLCs offer), Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss.",
    examples: ["Basic256Sha256"],
  })),
  user: Type.Optional(Type.String({
    minLength: 1,
    description: "User name of a username/password identity (anonymous when absent).",
    examples: ["operator"],
  })),
  password: Type.Optional(Type.String({
    description: "Password of `user`; use ${env:NAME} rather than writing it in the flow.",
    examples: ["${env:OPCUA_PASSWORD}"],
  })),
  userCertificate: Type.Optional(Type.String({
    minLength: 1,
    description: "PEM file of an X.509 user identity certificate (with userPrivateKey).",
    examples: ["secrets/operator.pem"],
  })),
  userPrivateKey: Type.Optional(Type.String({
    minLength: 1,
    description: "PEM file of the private key of userCertificate.",
    examples: ["secrets/operator.key"],
  })),
  pki: Type.Optional(Type.String({
    minLength: 1,
    default: "data/opcua/pki",
    description:
      "Folder of the client's application certificate (created on first start) and its trust store (trusted/, rejected/): `bifrost opcua trust|reject|list` manage it.",
    examples: ["data/opcua/pki"],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "5s",
    description: "How long to wait for a connect or for each service call before TIMEOUT.",
    examples: ["5s", "2s"],
  })),
  sessionTimeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "60s",
    description:
      "Session timeout asked of the server: how long it keeps the session (and its subscriptions) while the connection is away.",
    examples: ["60s"],
  })),
  maxMonitoredItems: Type.Optional(Type.Integer({
    minimum: 1,
    description:
      "Most monitored items this device's session may hold (an S7-1200 takes 1,000); a flow that subscribes more fails with an error naming the limit. Unset: the server's own limit applies.",
    examples: [1000],
  })),
}, { additionalProperties: false, required: ["endpoint"] });

/** Device fields as a flow gives them. */
export type OpcuaDeviceFields = Static<typeof OpcuaDeviceSpec>;

/** Tag fields of an `opcua` device. */
export const OpcuaTagSpec = Type.Object({
  address: Type.String({
    minLength: 1,
    description:
      "The node: a NodeId (ns=2;s=Boiler.Temp, ns=2;i=1042, ns=3;g=<guid>, ns=4;b=<base64>; nsu=<uri>;s=... names the namespace by URI) or a browse path from Objects (/Objects/Boiler/Temp, a segment may carry its namespace index: /Objects/2:Boiler/2:Temp), resolved once per connection.",
    examples: ["ns=2;s=Boiler.Temp", "ns=3;i=1042", "/Objects/Boiler/Temp"],
  }),
  select: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    description:
      "type: Event only: event fields to add to the record beyond the standard ones (eventId, eventType, source, time, message, severity, condition, conditionId, active, acked), as browse paths from BaseEventType or a subtype (Quality, LimitState/CurrentState).",
    examples: [["Quality", "LimitState.CurrentState"]],
  })),
  minSeverity: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 1000,
    description:
      "type: Event only: the where clause: only events of this severity or above (1-1000).",
    examples: [500],
  })),
  where: Type.Optional(Type.String({
    minLength: 1,
    description:
      "type: Event only: the where clause (an OPC UA ContentFilter, and-ed with minSeverity): comparisons of event fields (browse paths from BaseEventType, e.g. Severity, SourceName, ActiveState.Id) with values (= != < <= > >=), `in ['a', 'b']`, `like 'Temp%'`, `ofType(ExclusiveLimitAlarmType)` or ofType('ns=2;i=5001'), joined with and, or, not and parentheses.",
    examples: ["Severity >= 500 and SourceName = 'Boiler'", "ofType(AlarmConditionType)"],
  })),
  type: Type.Union(TAG_TYPES.map((t) => Type.Literal(t)), {
    description:
      "The node's built-in DataType (Double, Int32, String...), Name[] for an array, or Event: the address is an event notifier (an object, or i=2253 the Server) subscribed with an event filter (subscribe: polls only); each event (alarms included) becomes a record whose value holds eventId, message, severity, active and acked, and writing `<eventId>[: comment]` to the tag acknowledges the alarm (`confirm <eventId>[: comment]`, `comment <eventId>: text`, `shelve <eventId>[ for 10m]` and `unshelve <eventId>` the other alarm actions). Int64/UInt64 are carried as big integers, DateTime/Guid/NodeId/LocalizedText as text, ByteString as hex. Writes are checked against the node's DataType on the server.",
    examples: ["Double", "Int32", "Boolean", "String", "Double[]"],
  }),
}, { additionalProperties: false, required: ["address", "type"] });

/** Tag fields as a flow gives them. */
export type OpcuaTagFields = Static<typeof OpcuaTagSpec>;

/** Options of a `subscribe:` poll of an OPC UA device (one subscription per poll). */
export const OpcuaSubscribeSpec = Type.Object({
  publishingInterval: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "100ms",
    description: "How often the server sends the changes it collected.",
    examples: ["100ms", "1s"],
  })),
  samplingInterval: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "100ms",
    description: "How often the server samples each node (0ms: as fast as it can).",
    examples: ["100ms", "0ms"],
  })),
  queueSize: Type.Optional(Type.Integer({
    minimum: 1,
    default: 10,
    description: "Changes the server queues per item between two publishes.",
    examples: [10, 1],
  })),
  discardOldest: Type.Optional(Type.Boolean({
    default: true,
    description: "When the queue is full, drop the oldest change (true) or the newest (false).",
    examples: [true],
  })),
  deadband: Type.Optional(
    Type.Union([Type.Literal("none"), Type.Literal("absolute"), Type.Literal("percent")], {
      default: "none",
      description:
        "Data-change filter: report a change only when it moves more than deadbandValue (absolute: in the value's unit; percent: of the node's EURange).",
      examples: ["absolute", "percent"],
    }),
  ),
  deadbandValue: Type.Optional(Type.Number({
    minimum: 0,
    default: 0,
    description: "The deadband's size.",
    examples: [0.5],
  })),
}, { additionalProperties: false });

/** Device fields, defaults applied and durations in ms. */
export interface OpcuaDevice {
  endpoint: string;
  securityMode: (typeof SECURITY_MODES)[number];
  securityPolicy: (typeof SECURITY_POLICIES)[number];
  user?: string;
  password?: string;
  userCertificate?: string;
  userPrivateKey?: string;
  pki: string;
  timeoutMs: number;
  sessionTimeoutMs: number;
  maxMonitoredItems?: number;
}

const str = (v: unknown) => typeof v === "string" ? v : undefined;

/** The device fields of a device config, defaults applied. */
export function deviceFields(c: Record<string, unknown>): OpcuaDevice {
  const d: OpcuaDevice = {
    endpoint: String(c.endpoint ?? ""),
    securityMode: (str(c.securityMode) ?? "None") as OpcuaDevice["securityMode"],
    securityPolicy: (str(c.securityPolicy) ?? "None") as OpcuaDevice["securityPolicy"],
    pki: str(c.pki) ?? "data/opcua/pki",
    timeoutMs: parseDuration(str(c.timeout) ?? "5s"),
    sessionTimeoutMs: parseDuration(str(c.sessionTimeout) ?? "60s"),
  };
  for (const k of ["user", "password", "userCertificate", "userPrivateKey"] as const) {
    const v = str(c[k]);
    if (v !== undefined) d[k] = v;
  }
  if (typeof c.maxMonitoredItems === "number") d.maxMonitoredItems = c.maxMonitoredItems;
  return d;
}

/** `subscribe:` options, defaults applied, durations in ms. */
export interface SubscribeOptions {
  publishingIntervalMs: number;
  samplingIntervalMs: number;
  queueSize: number;
  discardOldest: boolean;
  deadband: "none" | "absolute" | "percent";
  deadbandValue: number;
}

/** The `subscribe:` options of a poll, defaults applied. */
export function subscribeOptions(o: Record<string, unknown>): SubscribeOptions {
  return {
    publishingIntervalMs: parseDuration(str(o.publishingInterval) ?? "100ms"),
    samplingIntervalMs: parseDuration(str(o.samplingInterval) ?? "100ms"),
    queueSize: typeof o.queueSize === "number" ? o.queueSize : 10,
    discardOldest: o.discardOldest !== false,
    deadband: (str(o.deadband) ?? "none") as SubscribeOptions["deadband"],
    deadbandValue: typeof o.deadbandValue === "number" ? o.deadbandValue : 0,
  };
}
