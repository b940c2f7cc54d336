/**
 * @module
 * The mqtt sink against mosquitto with TLS and authentication: a client certificate made
 * by `openssl` in the test (mosquitto takes its CN as the user name), a wrong CA, a
 * missing client certificate, and a password file written with `mosquitto_passwd`. A
 * refused connection must be logged with the reason in words.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Batch, createLogger, type DataRecord, systemClock } from "../../engine/plugin.ts";
import { makePki, opensslMissing, type Pki } from "./_certs.ts";
import { Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { subscribe, waitFor } from "./_subscriber.ts";
import { createMqttSink, type MqttConfig, type MqttSink } from "./sink.ts";

const skip = mosquittoMissing() ?? opensslMissing();
if (skip) console.log(`SKIPPED security_test.ts: ${skip}`);

const rec = (seq: number): DataRecord => ({
  device: "plc",
  tag: "temp",
  value: seq,
  quality: "good",
  sourceTs: 1_700_000_000_000 + seq,
  gatewayTs: 1_700_000_000_000 + seq,
  seq,
});

const fast = { reconnectMin: "50ms", reconnectMax: "200ms", replayRate: 0 } as const;

/** Runs `fn` with an open sink whose log lines are collected; closes it and its queue. */
async function withSink(
  config: Omit<MqttConfig, "queue">,
  fn: (sink: MqttSink, lines: Record<string, unknown>[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_sec_" });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ json: true, level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  const sink = createMqttSink({ ...config, queue: { dir } }, {
    name: "secure",
    clock: systemClock,
    log,
  });
  await sink.open();
  try {
    await fn(sink, lines);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The first "Cannot connect" log line's error. */
async function connectError(lines: Record<string, unknown>[]): Promise<string> {
  const find = () => lines.find((l) => String(l.msg).startsWith("Cannot connect to MQTT broker"));
  await waitFor(() => find() !== undefined, 5_000, () => JSON.stringify(lines));
  return String(find()!.error);
}

function tlsBroker(pki: Pki): Promise<Mosquitto> {
  return Mosquitto.start({
    tls: {
      cafile: pki.ca,
      certfile: pki.serverCert,
      keyfile: pki.serverKey,
      requireCertificate: true,
      useIdentityAsUsername: true,
    },
  });
}

Deno.test({
  name: "mqtt connects with a client certificate and publishes over TLS",
  ignore: skip !== undefined,
  async fn() {
    const pki = await makePki("gateway-1");
    try {
      await using broker = await tlsBroker(pki);
      assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
      const sub = await subscribe(broker.url, "bifrost/#", {
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.clientCert),
        key: readFileSync(pki.clientKey),
        clientId: "tls-subscriber",
      });
      try {
        await withSink({ url: broker.url, clientId: "tls-gateway", tls, ...fast }, async (sink) => {
          await sink.write(Batch.from([rec(1), rec(2)]));
          await waitFor(() => sub.messages.length >= 2, 5_000, () => broker.log());
          assert.deepEqual(sub.messages.map((m) => [m.topic, m.body.seq]), [
            ["bifrost/plc/temp", 1],
            ["bifrost/plc/temp", 2],
          ]);
          await waitFor(() => sink.stats().depth === 0, 2_000, () => "queue not emptied");
        });
      } finally {
        await sub.close();
      }
      // mosquitto took the certificate's CN as the user name.
      assert.match(broker.log(), /as tls-gateway \(.*u'gateway-1'\)/);
    } finally {
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "mqtt names the problem when the broker's certificate is not signed by tls.ca",
  ignore: skip !== undefined,
  async fn() {
    const pki = await makePki();
    try {
      await using broker = await tlsBroker(pki);
      const config = {
        url: broker.url,
        tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey },
        ...fast,
      };
      await withSink(config, async (sink, lines) => {
        await sink.write(Batch.from([rec(1)]));
        const error = await connectError(lines);
        assert.equal(
          error,
          `the broker's certificate is not signed by the CA in tls.ca "${pki.otherCa}" ` +
            "(SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain)",
        );
        assert.equal(sink.stats().depth, 1, "the record waits in the queue");
        assert.equal(sink.stats().sent, 0);
      });
      // Without a client certificate the broker refuses the handshake.
      await withSink({ url: broker.url, tls: { ca: pki.ca }, ...fast }, async (_sink, lines) => {
        assert.match(
          await connectError(lines),
          /^the broker requires a client certificate \(set tls\.cert and tls\.key\) \(/,
        );
      });
    } finally {
      await Deno.remove(pki.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "mqtt authenticates with a user name and password from a mosquitto password file",
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Mosquitto.start({
      users: [["gateway", "s3cret"], ["reader", "r3ad"]],
    });
    const sub = await subscribe(broker.url, "bifrost/#", {
      username: "reader",
      password: "r3ad",
    });
    try {
      const config = { url: broker.url, clientId: "pw-gateway", username: "gateway", ...fast };
      await withSink({ ...config, password: "s3cret" }, async (sink) => {
        await sink.write(Batch.from([rec(7)]));
        await waitFor(() => sub.messages.length >= 1, 5_000, () => broker.log());
        assert.equal(sub.messages[0]!.body.seq, 7);
        await waitFor(() => sink.stats().depth === 0, 2_000, () => "queue not emptied");
      });
      assert.match(broker.log(), /as pw-gateway \(.*u'gateway'\)/);
      await withSink({ ...config, password: "wrong" }, async (sink, lines) => {
        await sink.write(Batch.from([rec(8)]));
        // mosquitto answers a wrong password with 5 (not authorized), not 4.
        assert.equal(
          await connectError(lines),
          "the broker refused the connection as not authorized: check the user name and " +
            'password (user "gateway") (5: Connection refused: Not authorized)',
        );
        assert.equal(sink.stats().depth, 1);
      });
      await withSink({ ...config, protocolVersion: 5, password: "wrong" }, async (_s, lines) => {
        assert.match(
          await connectError(lines),
          /^the broker refused the connection as not authorized: check the user name and password \(user "gateway"\) \(135: /,
        );
      });
    } finally {
      await sub.close();
    }
  },
});
