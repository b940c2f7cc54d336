/** @module The mqtt sink's spec inside the flow language: defaults applied, errors placed. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadFlowsWith } from "../../engine/flow/load.ts";
import { isBifrostError, type SinkModule, systemClock } from "../../engine/plugin.ts";
import { drivers } from "../../drivers/registry.ts";
import { steps } from "../../steps/registry.ts";
import { sinks } from "../registry.ts";
import { mqttSink } from "./mod.ts";
import { createMqttSink, defaultMaxInFlight } from "./sink.ts";

// Until the registry lists it (and after, without a duplicate).
const withMqtt = sinks.some((s) => s.name === "mqtt")
  ? sinks
  : [...sinks, mqttSink as unknown as SinkModule];
const sources = { drivers, steps, sinks: withMqtt };

const FLOW = (sink: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    tags:
      temp1: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 1s }
sinks:
  uns:
    use: mqtt
    from: fast
${sink}`;

async function load(sink: string) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_spec_" });
  try {
    await Deno.writeTextFile(join(dir, "flow.yaml"), FLOW(sink));
    return await loadFlowsWith(dir, sources, { env: { MQTT_PASSWORD: "s3cret" } });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an mqtt sink in a flow gets its defaults, vars and env secrets", async () => {
  const r = await load(`    url: mqtt://127.0.0.1:1883
    password: \${MQTT_PASSWORD}
    topic: acme/{site}/{device}/{tag}
    vars: { site: plant1 }
    queue: { maxAge: 1d }
`);
  assert.deepEqual(r.errors, []);
  const config = r.flows!.sinks.get("uns")!.config as Record<string, unknown>;
  assert.equal(config.password, "s3cret");
  assert.equal(config.qos, 1);
  assert.equal(config.retain, false);
  assert.equal(config.protocolVersion, 4);
  assert.deepEqual(config.vars, { site: "plant1" });
  assert.equal((config.queue as Record<string, unknown>).maxAge, "1d");
  assert.deepEqual(r.secrets, ["s3cret"]);
});

Deno.test("an mqtt sink with a wrong qos or a missing url is a placed config error", async () => {
  const bad = await load(`    url: mqtt://127.0.0.1:1883
    qos: 3
`);
  assert.ok(bad.errors.length > 0);
  assert.ok(
    bad.errors.some((e) => e.path.includes("qos") && e.line === 14),
    JSON.stringify(bad.errors),
  );
  const missing = await load(`    topic: a/{tag}
`);
  assert.ok(missing.errors.some((e) => /url/.test(e.message)), JSON.stringify(missing.errors));
});

Deno.test("QoS 2 over MQTT 3.1.1 defaults to 20 in flight, otherwise 1000", () => {
  assert.equal(defaultMaxInFlight({ qos: 2 }), 20);
  assert.equal(defaultMaxInFlight({ qos: 2, protocolVersion: 5 }), 1000);
  assert.equal(defaultMaxInFlight({}), 1000);
});

Deno.test("open() of an mqtt sink with an unreadable TLS file fails with the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_tls_" });
  try {
    const sink = createMqttSink(
      { url: "mqtts://127.0.0.1:8883", tls: { ca: join(dir, "missing-ca.pem") }, queue: { dir } },
      { name: "secure", clock: systemClock },
    );
    await assert.rejects(
      sink.open(),
      (e) =>
        isBifrostError(e, "CONFIG_INVALID") &&
        e.message.startsWith(
          `Cannot read tls.ca "${join(dir, "missing-ca.pem")}" of sink "secure"`,
        ),
    );
    assert.equal(sink.queue, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flow defaults leave maxInFlight and queue.dir to the runtime", async () => {
  const r = await load(`    url: mqtt://127.0.0.1:1883
    qos: 2
    queue: {}
`);
  assert.deepEqual(r.errors, []);
  const config = r.flows!.sinks.get("uns")!.config as Record<string, unknown>;
  assert.equal(config.maxInFlight, undefined);
  assert.equal((config.queue as Record<string, unknown>).dir, undefined);
  assert.equal((config.queue as Record<string, unknown>).maxSize, "1GB");
});

Deno.test("a preset in a flow: its secrets come from the environment, a typo is placed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_spec_" });
  try {
    const sink = `    preset: azure-iot-hub
    url: mqtts://plant1-hub.azure-devices.net:8883
    clientId: press-3
    azure:
      deviceKey: \${AZURE_DEVICE_KEY}
`;
    await Deno.writeTextFile(join(dir, "flow.yaml"), FLOW(sink));
    const key = "dGhpcyBpcyBhIDMyIGJ5dGUgZGV2aWNlIGtleSEhISE=";
    const r = await loadFlowsWith(dir, sources, { env: { AZURE_DEVICE_KEY: key } });
    assert.deepEqual(r.errors, []);
    const config = r.flows!.sinks.get("uns")!.config as Record<string, unknown>;
    assert.deepEqual(config.azure, { deviceKey: key, tokenTtl: "1h" });
    assert.equal(config.topic, undefined, "no schema default: the preset makes the topic");
    assert.equal(config.replayRate, undefined, "no schema default: the preset lowers it");
    assert.deepEqual(r.secrets, [key]);
    // The sink builds from the loaded config (the preset's checks pass).
    const created = createMqttSink(config as never, { name: "uns", clock: systemClock });
    assert.equal(created.queue, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const typo = await load(`    url: mqtts://x.azure-devices.net
    preset: azure-iothub
`);
  assert.ok(
    typo.errors.some((e) => e.path.includes("preset") && /azure-iot-hub/.test(e.message)),
    JSON.stringify(typo.errors),
  );
});
