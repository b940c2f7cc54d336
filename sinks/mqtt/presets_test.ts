/**
 * @module
 * The cloud presets' shape: connection options, user name, topic and SAS token exactly as
 * AWS IoT Core and Azure IoT Hub expect them, and the rules they refuse. The SAS token is
 * checked against values computed independently (node:crypto, and Python's hmac once).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { isBifrostError } from "../../engine/plugin.ts";
import {
  azureResourceUri,
  azureSasToken,
  azureTopic,
  azureUsername,
  encodeStrict,
} from "./azure.ts";
import { clientOptions } from "./link.ts";
import { awsTopicSlashes, publishProperties, resolveMqttConfig } from "./presets.ts";
import type { MqttConfig } from "./spec.ts";

/** 32 bytes, base64: an IoT Hub device key's shape. */
const KEY = "dGhpcyBpcyBhIDMyIGJ5dGUgZGV2aWNlIGtleSEhISE=";
const HUB = "plant1-hub.azure-devices.net";
const SE = 1767225600; // 2026-01-01T00:00:00Z

function nodeSas(uri: string, key: string, se: number): string {
  const sr = encodeURIComponent(uri);
  const sig = createHmac("sha256", Buffer.from(key, "base64")).update(`${sr}\n${se}`).digest(
    "base64",
  );
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

const rejects = (c: MqttConfig, pattern: RegExp) =>
  assert.throws(
    () => resolveMqttConfig(c, "cloud"),
    (e) => isBifrostError(e, "CONFIG_INVALID") && pattern.test(e.message),
  );

Deno.test("the Azure SAS token is HMAC-SHA256 of the encoded URI and expiry, signed with the key", async () => {
  const uri = azureResourceUri(HUB, "press-3");
  assert.equal(uri, "plant1-hub.azure-devices.net/devices/press-3");
  const token = await azureSasToken(uri, KEY, SE);
  // Computed with Python: hmac.new(b64decode(key), f"{quote(uri, safe='')}\n{se}", sha256).
  assert.equal(
    token,
    "SharedAccessSignature sr=plant1-hub.azure-devices.net%2Fdevices%2Fpress-3" +
      "&sig=cUo%2BYoRoztNAjC%2BtETM271MbrMIWv4h4vltmzGAFZUI%3D&se=1767225600",
  );
  assert.equal(token, nodeSas(uri, KEY, SE));
  // Another device and expiry, against node:crypto.
  const other = azureResourceUri(HUB, "line 3/east");
  assert.equal(await azureSasToken(other, KEY, SE + 3600), nodeSas(other, KEY, SE + 3600));
  // Also !'()* are encoded, as Python's quote(safe="") and the Azure SDKs do.
  assert.equal(encodeStrict("a(b)!*'/ "), "a%28b%29%21%2A%27%2F%20");
});

Deno.test("the azure-iot-hub preset makes the user name, SAS password, topic and options", async () => {
  const config: MqttConfig = {
    preset: "azure-iot-hub",
    url: `mqtts://${HUB}:8883`,
    clientId: "press-3",
    azure: { deviceKey: KEY, tokenTtl: "1h" },
  };
  const r = resolveMqttConfig(config, "cloud");
  assert.equal(r.config.protocolVersion, 4);
  assert.equal(r.config.replayRate, 100);
  assert.equal(r.renewAfterMs, 45 * 60_000, "renewed after three quarters of the token's life");
  const now = (SE - 3600) * 1000 + 400; // the token expires 1 h after now, whole seconds
  assert.deepEqual(await r.credentials!(now), {
    username: "plant1-hub.azure-devices.net/press-3/?api-version=2021-04-12",
    password: nodeSas(`${HUB}/devices/press-3`, KEY, SE),
  });
  assert.equal(
    r.topic("boiler plc", "temp/1"),
    "devices/press-3/messages/events/$.ct=application%2Fjson&$.ce=utf-8" +
      "&device=boiler%20plc&tag=temp%2F1",
  );
  const o = clientOptions(r.config, r.config.clientId!, "cloud");
  assert.equal(o.clientId, "press-3");
  assert.equal(o.protocolVersion, 4);
  assert.equal(o.clean, true);
  // The password is made per connection, never stored in the options.
  assert.equal(o.password, undefined);
  assert.equal(azureUsername(HUB, "d", "2020-09-30"), `${HUB}/d/?api-version=2020-09-30`);
  // hostName overrides the URL's host (a protocol gateway, a test broker).
  const local = resolveMqttConfig({
    ...config,
    url: "mqtts://127.0.0.1:18883",
    azure: { deviceKey: KEY, hostName: HUB },
  }, "cloud");
  assert.equal((await local.credentials!(0)).username, `${HUB}/press-3/?api-version=2021-04-12`);
  assert.equal(local.renewAfterMs, 45 * 60_000, "tokenTtl defaults to 1 h");
  assert.equal(azureTopic("d")("a", "b"), azureTopic("d")("a", "b"));
});

Deno.test("the azure-iot-hub preset with an X.509 device sends the user name and no password", async () => {
  const r = resolveMqttConfig({
    preset: "azure-iot-hub",
    url: `mqtts://${HUB}`,
    clientId: "press-3",
    tls: { cert: "d.crt", key: "d.key" },
  }, "cloud");
  assert.deepEqual(await r.credentials!(0), {
    username: `${HUB}/press-3/?api-version=2021-04-12`,
  });
  assert.equal(r.renewAfterMs, undefined);
});

Deno.test("the azure-iot-hub preset refuses what IoT Hub refuses, saying why", () => {
  const ok: MqttConfig = {
    preset: "azure-iot-hub",
    url: `mqtts://${HUB}:8883`,
    clientId: "press-3",
    azure: { deviceKey: KEY },
  };
  rejects({ ...ok, url: `mqtt://${HUB}:1883` }, /only accepts TLS: url must start with mqtts/);
  rejects({ ...ok, clientId: undefined }, /clientId is required \(the device id\)/);
  rejects({ ...ok, qos: 2 }, /supports QoS 0 and 1, not 2/);
  rejects({ ...ok, retain: true }, /does not retain messages/);
  rejects({ ...ok, protocolVersion: 5 }, /MQTT 3\.1\.1/);
  rejects({ ...ok, topic: "a/{tag}" }, /topic is set by the preset/);
  rejects({ ...ok, password: "x" }, /password is set by the preset/);
  rejects({ ...ok, azure: {} }, /set azure\.deviceKey .* or tls\.cert and tls\.key/);
  rejects({ ...ok, azure: { deviceKey: "not base64!" } }, /base64 key/);
  rejects({ ...ok, azure: { deviceKey: KEY, tokenTtl: "500ms" } }, /1s or more/);
  rejects({ ...ok, preset: undefined }, /azure in sink "cloud": it belongs to preset/);
});

Deno.test("the aws-iot-core preset needs mutual TLS and a thing name, and keeps to its quotas", () => {
  const ok: MqttConfig = {
    preset: "aws-iot-core",
    url: "mqtts://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com:8883",
    clientId: "line3-gateway",
    tls: { ca: "AmazonRootCA1.pem", cert: "line3.pem.crt", key: "line3.private.key" },
  };
  const r = resolveMqttConfig(ok, "cloud");
  assert.equal(r.credentials, undefined);
  assert.equal(r.renewAfterMs, undefined);
  assert.equal(r.config.maxInFlight, 100);
  assert.equal(r.config.replayRate, 100);
  assert.equal(r.topic("plc", "temp"), "bifrost/plc/temp");
  assert.equal(
    resolveMqttConfig({ ...ok, replayRate: 20, maxInFlight: 10 }, "c").config.replayRate,
    20,
  );
  // MQTT 5 and retain are allowed: AWS IoT Core supports both now.
  assert.equal(
    resolveMqttConfig({ ...ok, protocolVersion: 5, retain: true }, "c").config.retain,
    true,
  );

  rejects({ ...ok, url: "mqtt://broker:1883" }, /AWS IoT Core only accepts TLS/);
  rejects({ ...ok, clientId: undefined }, /clientId is required \(the thing name\)/);
  rejects({ ...ok, clientId: "x".repeat(129) }, /128 bytes at most/);
  rejects(
    { ...ok, tls: { ca: "AmazonRootCA1.pem" } },
    /authenticates devices by certificate: set tls\.cert, tls\.key/,
  );
  rejects({ ...ok, qos: 2 }, /supports QoS 0 and 1, not 2/);
  rejects({ ...ok, topic: "a/b/c/d/e/f/g/h/{tag}" }, /7 slashes in a topic at most, .* has 8/);
  assert.equal(awsTopicSlashes("$aws/rules/ingest/a/b/{device}/{tag}"), 3);
});

Deno.test("MQTT 5 properties: user properties, expiry in whole seconds, content type; v5 only", () => {
  const props = publishProperties({
    url: "mqtt://x",
    protocolVersion: 5,
    properties: {
      userProperties: { site: "plant1" },
      messageExpiryInterval: "1500ms",
      contentType: "application/json",
    },
  }, "s");
  assert.deepEqual(props, {
    userProperties: { site: "plant1" },
    messageExpiryInterval: 2,
    contentType: "application/json",
  });
  assert.equal(publishProperties({ url: "mqtt://x" }, "s"), undefined);
  assert.throws(
    () => publishProperties({ url: "mqtt://x", properties: { contentType: "a" } }, "uns"),
    (e) =>
      isBifrostError(e, "CONFIG_INVALID") &&
      e.message === 'Cannot use properties in sink "uns": they are MQTT 5 publish properties ' +
          "and need protocolVersion: 5, got 4",
  );
});

Deno.test("a preset's TLS files are read by path, as without a preset", () => {
  assert.throws(
    () =>
      clientOptions(
        resolveMqttConfig({
          preset: "aws-iot-core",
          url: "mqtts://e.iot.eu-west-1.amazonaws.com",
          clientId: "t",
          tls: { ca: join("nowhere", "ca.pem"), cert: "c", key: "k" },
        }, "cloud").config,
        "t",
        "cloud",
      ),
    /Cannot read tls\.ca "nowhere\/ca\.pem" of sink "cloud"/,
  );
});
