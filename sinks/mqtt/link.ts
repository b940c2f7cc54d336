/**
 * @module
 * The small interface between the sender loop and an MQTT client ({@linkcode MqttLink}),
 * and its implementation on mqtt.js. One link is one connection: mqtt.js's own reconnect
 * and offline store are off (`reconnectPeriod: 0`, clean session), because the durable
 * queue is the store and the sender owns reconnecting, backoff and replay.
 */

import { readFileSync } from "node:fs";
import type { IClientOptions, IClientPublishOptions, IConnackPacket, MqttClient } from "mqtt";
import { BifrostError, errorMessage, parseDuration } from "../../engine/plugin.ts";
import type { Credentials } from "./presets.ts";
import { MQTT_DEFAULTS, type MqttConfig } from "./spec.ts";

/** Called once per publish: without error when the broker confirmed it (QoS 0: written). */
export type PublishCallback = (err?: Error) => void;

/** One live connection to a broker. */
export interface MqttLink {
  /** Publishes one message; `cb` is called once. */
  publish(topic: string, payload: string, cb: PublishCallback): void;
  /** Runs `fn` with the socket corked, so a burst of publishes leaves in few writes. */
  burst(fn: () => void): void;
  /** Resolves (with the last error seen, if any) when the connection is gone. */
  readonly closed: Promise<Error | undefined>;
  /** Unconfirmed publishes the broker accepts (MQTT 5 Receive Maximum; 65535 otherwise). */
  readonly receiveMaximum: number;
  /** Closes the connection now; pending callbacks are called with an error. */
  end(): Promise<void>;
  /** Replace this link after so long (ms): its credentials expire (Azure SAS tokens). */
  readonly renewAfterMs?: number;
}

/** How a connector publishes, and what it does around each connection. */
export interface PublishSettings {
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT 5 properties of every publish. */
  properties?: IClientPublishOptions["properties"];
  /** Fresh user name and password before each connection. */
  credentials?: () => Promise<Credentials>;
  /** Passed on as {@linkcode MqttLink.renewAfterMs}. */
  renewAfterMs?: number;
  /** Rewrites a connection failure into an actionable error. */
  explain?: (e: unknown, username: string | undefined) => Error;
}

/** Opens a link; rejects when the broker cannot be reached or refuses the connection. */
export type Connector = () => Promise<MqttLink>;

/** The error code of an MQTT 5 reason code on PUBACK/PUBREC (the broker refused the message). */
export function reasonCode(err: Error): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && code >= 0x80 ? code : undefined;
}

function readTlsFile(path: string, field: string, sink: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot read tls.${field} "${path}" of sink "${sink}": ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

const noLog = () => {};

/** mqtt.js options from a sink's config (TLS files are read here). */
export function clientOptions(config: MqttConfig, clientId: string, sink: string): IClientOptions {
  const o: IClientOptions = {
    clientId,
    protocolVersion: config.protocolVersion ?? MQTT_DEFAULTS.protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    keepalive: Math.round(parseDuration(config.keepalive ?? MQTT_DEFAULTS.keepalive) / 1000),
    connectTimeout: parseDuration(config.connectTimeout ?? MQTT_DEFAULTS.connectTimeout),
    // Measured hot spots at 50k publishes/s: mqtt.js re-arms its ping timer on every packet
    // and asks `debug` whether logging is on for every call (about 20% of the CPU together).
    // Pings still go out every keep-alive interval; a busy link never needs them anyway.
    reschedulePings: false,
    log: noLog,
  };
  if (config.username !== undefined) o.username = config.username;
  if (config.password !== undefined) o.password = config.password;
  const tls = config.tls;
  if (tls) {
    if (tls.ca) o.ca = readTlsFile(tls.ca, "ca", sink);
    if (tls.cert) o.cert = readTlsFile(tls.cert, "cert", sink);
    if (tls.key) o.key = readTlsFile(tls.key, "key", sink);
    o.rejectUnauthorized = tls.rejectUnauthorized ?? true;
  }
  return o;
}

/** A connector that opens mqtt.js connections publishing as `publish` says. */
export function mqttConnector(
  url: string,
  options: IClientOptions,
  publish: PublishSettings,
): Connector {
  return async () => {
    // Loaded on first connect: a gateway without MQTT sinks never pays for mqtt.js.
    const { default: mqtt } = await import("mqtt");
    const o: IClientOptions = { ...options, reconnectPeriod: 0 };
    if (publish.credentials) {
      const c = await publish.credentials();
      o.username = c.username;
      if (c.password !== undefined) o.password = c.password;
    }
    const client = mqtt.connect(url, o);
    let connack: IConnackPacket;
    try {
      connack = await new Promise<IConnackPacket>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        const onClose = () => reject(new Error("connection closed before CONNACK"));
        client.once("error", onError);
        client.once("close", onClose);
        client.once("connect", (p) => {
          client.off("error", onError);
          client.off("close", onClose);
          resolve(p);
        });
      });
    } catch (e) {
      client.end(true);
      throw publish.explain ? publish.explain(e, o.username) : e;
    }
    return linkOf(client, connack, publish);
  };
}

function linkOf(
  client: MqttClient,
  connack: IConnackPacket,
  { qos, retain, properties, renewAfterMs }: PublishSettings,
): MqttLink {
  let lastError: Error | undefined;
  client.on("error", (e) => lastError = e);
  const closed = new Promise<Error | undefined>((resolve) => {
    if (!client.connected) return resolve(new Error("connection closed"));
    client.once("close", () => resolve(lastError ?? new Error("connection closed")));
  });
  const opts: IClientPublishOptions = { qos, retain };
  if (properties && Object.keys(properties).length > 0) opts.properties = properties;
  return {
    publish: (topic, payload, cb) => void client.publish(topic, payload, opts, cb),
    burst(fn) {
      const s = client.stream as { cork?: () => void; uncork?: () => void } | undefined;
      s?.cork?.();
      try {
        fn();
      } finally {
        s?.uncork?.();
      }
    },
    closed,
    receiveMaximum: connack.properties?.receiveMaximum ?? 65535,
    end: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
    ...(renewAfterMs === undefined ? {} : { renewAfterMs }),
  };
}
