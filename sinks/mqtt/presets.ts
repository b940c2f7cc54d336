/**
 * @module
 * Cloud presets of the `mqtt` sink and the checks every config goes through before a
 * connection is made. A preset does not hide the connection: the URL, client id and TLS
 * files stay the user's; the preset refuses what the cloud refuses (with the reason, at
 * start-up instead of as a dropped connection at 3 a.m.), fills in what the cloud
 * dictates (Azure's user name, SAS token and topic) and lowers defaults to its quotas.
 *
 * Limits, from the vendors' documentation:
 * - AWS IoT Core: QoS 0 and 1 only (no PUBACK for QoS 2); retained messages are supported
 *   (the policy needs `iot:RetainPublish`; they are billed and capped per account); client
 *   id ≤ 128 bytes, one connection per client id; topics ≤ 256 bytes and ≤ 7 slashes
 *   (not counting a `$aws/rules/<rule>/` Basic Ingest prefix); payload ≤ 128 KB; 100
 *   publishes/s and 512 KB/s per connection; MQTT 3.1.1 and 5; TLS with SNI on 8883.
 * - Azure IoT Hub: MQTT 3.1.1 (its MQTT 5 preview is deprecated); QoS 0 and 1; no
 *   retain; client id = device id; the token's expiry closes the connection; payload ≤
 *   256 KB; device-to-cloud sends are throttled per hub (S1: the higher of 100/s or 12/s
 *   per unit) and counted against a daily quota in 4 KB blocks.
 */

import { BifrostError, parseDuration } from "../../engine/plugin.ts";
import type { IClientPublishOptions } from "mqtt";
import {
  azureResourceUri,
  azureSasToken,
  azureTopic,
  azureUsername,
  isBase64Key,
} from "./azure.ts";
import { compileTopic, type TopicFn } from "./format.ts";
import { MQTT_DEFAULTS, type MqttConfig } from "./spec.ts";

/** Default lifetime of an Azure SAS token. */
export const AZURE_TOKEN_TTL = "1h";
/** Publishes per second per connection that AWS IoT Core accepts. */
export const AWS_PUBLISH_RATE = 100;
/** Replay rate of the Azure preset (an S1 hub's base device-to-cloud throttle). */
export const AZURE_REPLAY_RATE = 100;

/** User name and password for one connection. */
export interface Credentials {
  username: string;
  password?: string;
}

/** A config made ready to connect. */
export interface ResolvedMqtt {
  /** The config with the preset's defaults filled in. */
  config: MqttConfig;
  topic: TopicFn;
  /** Called before every connection (Azure: a fresh SAS token); `nowMs` is wall time. */
  credentials?: (nowMs: number) => Promise<Credentials>;
  /** Replace a connection after this long (before its credentials expire). */
  renewAfterMs?: number;
}

const TLS_SCHEMES = new Set(["mqtts:", "ssl:", "tls:"]);

function fail(sink: string, preset: string, why: string): BifrostError {
  return new BifrostError(
    "CONFIG_INVALID",
    `Cannot use preset "${preset}" in sink "${sink}": ${why}`,
  );
}

function needTls(c: MqttConfig, sink: string, preset: string, cloud: string): void {
  const scheme = /^([a-z]+:)/.exec(c.url)?.[1] ?? "";
  if (!TLS_SCHEMES.has(scheme)) {
    throw fail(
      sink,
      preset,
      `${cloud} only accepts TLS: url must start with mqtts://, got "${c.url}"`,
    );
  }
}

function noQos2(c: MqttConfig, sink: string, preset: string, cloud: string): void {
  if (c.qos === 2) throw fail(sink, preset, `${cloud} supports QoS 0 and 1, not 2`);
}

function needClientId(c: MqttConfig, sink: string, preset: string, what: string): string {
  if (c.clientId === undefined) throw fail(sink, preset, `clientId is required (${what})`);
  if (new TextEncoder().encode(c.clientId).length > 128) {
    throw fail(sink, preset, `clientId may have 128 bytes at most, got "${c.clientId}"`);
  }
  return c.clientId;
}

/** Slashes of a topic template as AWS counts them (a Basic Ingest prefix is free). */
export function awsTopicSlashes(template: string): number {
  const t = template.replace(/^\$aws\/rules\/[^/]+\//, "");
  return (t.match(/\//g) ?? []).length;
}

function aws(c: MqttConfig, sink: string): ResolvedMqtt {
  const p = "aws-iot-core";
  needTls(c, sink, p, "AWS IoT Core");
  needClientId(c, sink, p, "the thing name");
  const missing = (["ca", "cert", "key"] as const).filter((k) => c.tls?.[k] === undefined);
  if (missing.length > 0) {
    throw fail(
      sink,
      p,
      `AWS IoT Core authenticates devices by certificate: set ${
        missing.map((k) => `tls.${k}`).join(", ")
      } (the Amazon root CA, the thing's certificate and private key)`,
    );
  }
  noQos2(c, sink, p, "AWS IoT Core");
  const template = c.topic ?? MQTT_DEFAULTS.topic;
  const slashes = awsTopicSlashes(template);
  if (slashes > 7) {
    throw fail(
      sink,
      p,
      `AWS IoT Core allows 7 slashes in a topic at most, topic "${template}" has ${slashes}`,
    );
  }
  const config: MqttConfig = {
    ...c,
    maxInFlight: c.maxInFlight ?? AWS_PUBLISH_RATE,
    replayRate: c.replayRate ?? AWS_PUBLISH_RATE,
  };
  return { config, topic: compileTopic(template, c.vars ?? {}, sink) };
}

function azure(c: MqttConfig, sink: string): ResolvedMqtt {
  const p = "azure-iot-hub";
  needTls(c, sink, p, "Azure IoT Hub");
  const deviceId = needClientId(c, sink, p, "the device id");
  noQos2(c, sink, p, "Azure IoT Hub");
  if (c.retain === true) throw fail(sink, p, "Azure IoT Hub does not retain messages");
  if (c.protocolVersion === 5) {
    throw fail(sink, p, "Azure IoT Hub speaks MQTT 3.1.1 (protocolVersion: 4)");
  }
  for (const k of ["topic", "vars", "username", "password", "properties"] as const) {
    if (c[k] !== undefined) {
      throw fail(sink, p, `${k} is set by the preset (remove it from the sink)`);
    }
  }
  const key = c.azure?.deviceKey;
  const x509 = c.tls?.cert !== undefined && c.tls?.key !== undefined;
  if (key === undefined && !x509) {
    throw fail(
      sink,
      p,
      "set azure.deviceKey (symmetric key) or tls.cert and tls.key (X.509 device)",
    );
  }
  if (key !== undefined && !isBase64Key(key)) {
    throw fail(sink, p, "azure.deviceKey must be the device's base64 key");
  }
  const hostName = c.azure?.hostName ?? new URL(c.url).hostname;
  const username = azureUsername(hostName, deviceId);
  const resolved: ResolvedMqtt = {
    config: { ...c, protocolVersion: 4, replayRate: c.replayRate ?? AZURE_REPLAY_RATE },
    topic: azureTopic(deviceId),
    credentials: () => Promise.resolve({ username }),
  };
  if (key !== undefined) {
    const ttlMs = parseDuration(c.azure?.tokenTtl ?? AZURE_TOKEN_TTL);
    if (ttlMs < 1000) throw fail(sink, p, `azure.tokenTtl must be 1s or more, got ${ttlMs} ms`);
    const uri = azureResourceUri(hostName, deviceId);
    resolved.credentials = async (nowMs) => ({
      username,
      password: await azureSasToken(uri, key, Math.floor((nowMs + ttlMs) / 1000)),
    });
    resolved.renewAfterMs = Math.floor(ttlMs * 0.75);
  }
  return resolved;
}

/** MQTT 5 publish properties of a config, or undefined when none are set. */
export function publishProperties(
  c: MqttConfig,
  sink: string,
): IClientPublishOptions["properties"] {
  const props = c.properties;
  if (!props) return undefined;
  const v = c.protocolVersion ?? MQTT_DEFAULTS.protocolVersion;
  if (v !== 5) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot use properties in sink "${sink}": they are MQTT 5 publish properties and need protocolVersion: 5, got ${v}`,
    );
  }
  const out: NonNullable<IClientPublishOptions["properties"]> = {};
  if (props.userProperties && Object.keys(props.userProperties).length > 0) {
    out.userProperties = { ...props.userProperties };
  }
  if (props.messageExpiryInterval !== undefined) {
    out.messageExpiryInterval = Math.max(
      1,
      Math.ceil(parseDuration(props.messageExpiryInterval) / 1000),
    );
  }
  if (props.contentType !== undefined) out.contentType = props.contentType;
  return out;
}

/**
 * Applies the config's preset (if any) and checks it: throws a `CONFIG_INVALID`
 * {@linkcode BifrostError} naming the rule broken.
 *
 * @example
 * ```ts
 * const r = resolveMqttConfig({ url: "mqtts://hub.azure-devices.net", preset: "azure-iot-hub",
 *   clientId: "press-3", azure: { deviceKey: key } }, "cloud");
 * r.topic("plc", "temp"); // "devices/press-3/messages/events/$.ct=application%2Fjson&…"
 * ```
 */
export function resolveMqttConfig(c: MqttConfig, sink: string): ResolvedMqtt {
  if (c.azure !== undefined && c.preset !== "azure-iot-hub") {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot use azure in sink "${sink}": it belongs to preset: azure-iot-hub`,
    );
  }
  switch (c.preset) {
    case "aws-iot-core":
      return aws(c, sink);
    case "azure-iot-hub":
      return azure(c, sink);
    default:
      return {
        config: c,
        topic: compileTopic(c.topic ?? MQTT_DEFAULTS.topic, c.vars ?? {}, sink),
      };
  }
}
