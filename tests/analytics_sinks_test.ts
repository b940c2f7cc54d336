/**
 * @module
 * Alarm records flow to sinks like any record, Sparkplug and MQTT included (the analytics
 * issue): a gateway polls the Modbus simulator into an alarm step whose records go to an
 * `mqtt` sink (UNS topics, JSON) and a `sparkplug` sink on a real mosquitto. The alarm
 * raised, acknowledged through the step's command (the API's path) and cleared arrives at
 * both, in order, with its state, priority, value and limit: in MQTT as the record's JSON
 * value, in Sparkplug as a String metric holding the same JSON (decoded with Eclipse Tahu's
 * codec by a host stand-in).
 */

import { join } from "node:path";
import mqtt from "mqtt";
import { assert, assertEquals, waitFor } from "./_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { registries } from "../app/registries.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import type { AlarmStep } from "../steps/alarm/mod.ts";
import { Broker, Host, mosquittoMissing } from "../sinks/sparkplug/_broker.ts";

const skip = mosquittoMissing();

Deno.test({
  name: skip === undefined
    ? "alarm records reach MQTT (JSON) and Sparkplug (String metric) in order: raised, acknowledged, cleared"
    : `alarm records reach MQTT and Sparkplug (skipped: ${skip})`,
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Broker.start();
    await using sim = await startModbusSimulator({
      units: { 1: { HR0: { type: "int16", value: 50 } } },
    });
    const dir = await Deno.makeTempDir({ prefix: "bifrost-alarm-sinks-" });
    const mqttSeen: { topic: string; payload: Record<string, unknown> }[] = [];
    const observer = await mqtt.connectAsync(broker.url, { clientId: "alarm-observer" });
    observer.on("message", (topic, payload) => {
      mqttSeen.push({ topic, payload: JSON.parse(new TextDecoder().decode(payload)) });
    });
    await observer.subscribeAsync("acme/#", { qos: 1 });
    const host = await Host.connect(broker.url, "acme");
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `devices:
  boiler:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: int16 }
polls:
  fast: { device: boiler, tags: "*", every: 100ms }
steps:
  alarms:
    use: alarm
    from: fast
    rules:
      - { name: hi, tags: [temp], type: high, limit: 80, priority: high, message: Boiler too hot }
sinks:
  uns:
    use: mqtt
    from: alarms
    url: ${broker.url}
    topic: acme/boilers/{device}/{tag}
    qos: 1
  spb:
    use: sparkplug
    from: alarms
    url: ${broker.url}
    groupId: acme
    edgeNode: plant-a
`,
    );
    const r = await loadFlows(dir, { env: {}, sources: registries });
    assertEquals(r.errors.map((e) => e.message), []);
    const gw = new Gateway(r.flows!, { sources: registries, dataDir: join(dir, "data") });
    await gw.start();
    try {
      await waitFor(() => (gw.stats().polls.fast?.runs ?? 0) >= 3, 10_000, "three polls");
      sim.setRegister("HR0", 95); // over the limit: raised
      const alarms = gw.consumers.get("alarms")!.step as unknown as AlarmStep;
      await waitFor(() => alarms.list()[0]?.state === "UNACK", 10_000, "the alarm raised");
      assertEquals(
        alarms.command(alarms.list()[0]!.id, "acknowledge", undefined, "op")?.state,
        "ACKED",
      );
      sim.setRegister("HR0", 20); // back inside: cleared (acknowledged, so back to normal)
      const states = (xs: Record<string, unknown>[]) => xs.map((v) => v.state);
      const want = ["UNACK", "ACKED", "NORM"];
      const fromMqtt = () =>
        mqttSeen.filter((m) => m.topic === "acme/boilers/boiler/temp.hi").map((m) =>
          m.payload.value as Record<string, unknown>
        );
      await waitFor(() => fromMqtt().length >= 3, 15_000, "three alarm records over MQTT");
      // Before the alarm was raised only its normal state went out (the step's first record).
      const seen = states(fromMqtt());
      assertEquals(seen.slice(-3), want, String(seen));
      assert(seen.slice(0, -3).every((s) => s === "NORM"), String(seen));
      const raised = fromMqtt().at(-3)!;
      assertEquals([
        raised.active,
        raised.acknowledged,
        raised.priority,
        raised.value,
        raised.limit,
      ], [
        true,
        false,
        "high",
        95,
        80,
      ]);
      assertEquals(raised.message, "Boiler too hot");
      assertEquals(mqttSeen.find((m) => m.topic.endsWith("temp.hi"))!.payload.quality, "good");

      // Sparkplug: the same records as a String metric of the boiler's device.
      const fromSpb = () =>
        host.messages.filter((m) =>
          m.device === "boiler" && (m.type === "DBIRTH" || m.type === "DDATA")
        )
          .flatMap((m) => m.metrics).filter((x) =>
            x.name === "temp.hi" || x.name === undefined || x.name === null
          )
          .filter((x) => typeof x.value === "string")
          .map((x) => JSON.parse(x.value as string) as Record<string, unknown>);
      await waitFor(() => fromSpb().length >= 3, 15_000, "three alarm records over Sparkplug");
      const spb = fromSpb();
      // The birth carries the first value; data messages the changes after it.
      assertEquals(states(spb).slice(-3), want);
      const metricType = host.messages.flatMap((m) =>
        m.metrics
      ).find((x) => x.name === "temp.hi")!.type;
      assertEquals(metricType, "String");
      assert(spb.every((v) => v.limit === 80), JSON.stringify(spb));
    } finally {
      await gw.stop();
      await host.close();
      await observer.endAsync(true);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
