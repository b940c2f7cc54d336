/**
 * @module
 * The `azure-iot-hub` preset pointed at a local mosquitto over TLS (`url` and `tls.ca`
 * overridden, `azure.hostName` keeping the hub's name): the user name IoT Hub expects
 * reaches the broker, records land on the device-to-cloud topic with their property bag,
 * and the connection is replaced with a fresh SAS token before the token expires, without
 * losing or repeating a record.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Batch, systemClock } from "../../engine/plugin.ts";
import { makePki, opensslMissing } from "./_certs.ts";
import { Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { subscribe, waitFor } from "./_subscriber.ts";
import { createMqttSink } from "./sink.ts";

const skip = mosquittoMissing() ?? opensslMissing();
if (skip) console.log(`SKIPPED cloud_test.ts: ${skip}`);

const HUB = "plant1-hub.azure-devices.net";
const KEY = "dGhpcyBpcyBhIDMyIGJ5dGUgZGV2aWNlIGtleSEhISE=";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "the azure-iot-hub preset publishes on the IoT Hub topic and renews its SAS token",
  ignore: skip !== undefined,
  async fn() {
    const pki = await makePki();
    const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_azure_" });
    try {
      await using broker = await Mosquitto.start({
        tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey },
      });
      const ca = readFileSync(pki.ca);
      const sub = await subscribe(broker.url, "devices/#", { ca, clientId: "hub-side" });
      const sink = createMqttSink({
        preset: "azure-iot-hub",
        url: broker.url,
        clientId: "press-3",
        tls: { ca: pki.ca },
        // A 2 s token: the connection is replaced every 1.5 s.
        azure: { deviceKey: KEY, hostName: HUB, tokenTtl: "2s" },
        reconnectMin: "50ms",
        queue: { dir },
      }, { name: "hub", clock: systemClock });
      await sink.open();
      let seq = 0;
      try {
        await waitFor(() => sink.stats().connected === 1, 5_000, () => "never connected");
        const end = Date.now() + 4_000;
        while (Date.now() < end) {
          const b = new Batch(4);
          for (let i = 0; i < 4; i++) {
            b.add("plc", `t${i}`, seq, 0, undefined, Date.now(), Date.now(), seq++);
          }
          await sink.write(b);
          await sleep(20);
        }
        await waitFor(() => sub.messages.length >= seq, 5_000, () => `got ${sub.messages.length}`);
        await waitFor(() => sink.stats().depth === 0, 2_000, () => "queue not emptied");
      } finally {
        await sink.close();
        await sub.close();
      }
      const prefix = "devices/press-3/messages/events/$.ct=application%2Fjson&$.ce=utf-8";
      assert.equal(sub.messages[0]!.topic, `${prefix}&device=plc&tag=t0`);
      assert.ok(sub.messages.every((m) => m.topic.startsWith(`${prefix}&device=plc&tag=t`)));
      assert.ok(sub.messages.every((m) => !m.retain));
      // Every record once: in-flight publishes are confirmed before a connection is replaced.
      assert.deepEqual(
        sub.messages.map((m) => m.body.seq),
        Array.from({ length: seq }, (_, i) => i),
      );
      const s = sink.stats();
      assert.ok(s.renewals >= 2, `renewals ${s.renewals}`);
      assert.equal(s.reconnects, 0, "a renewal is not a lost connection");
      assert.equal(s.historical, 0, "records after a renewal are live");
      const logins = broker.log().match(
        /as press-3 \(p2, c1, k30, u'plant1-hub\.azure-devices\.net\/press-3\/\?api-version=2021-04-12'\)/g,
      ) ?? [];
      assert.equal(logins.length, s.renewals + 1, broker.log());
      console.log(`azure: ${seq} records, ${s.renewals} renewals of a 2 s token`);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});
