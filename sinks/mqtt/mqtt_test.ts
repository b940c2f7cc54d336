/** @module Tests of the mqtt sink against a real mosquitto, with an independent subscriber. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, systemClock } from "../../engine/plugin.ts";
import { freePort, Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { subscribe, waitFor } from "./_subscriber.ts";
import { mqttSink } from "./mod.ts";
import { createMqttSink, type MqttConfig } from "./sink.ts";

// The sink loads on first use (`load()`), as in a gateway.
await mqttSink.load?.();

const skip = mosquittoMissing();
if (skip) console.log(`SKIPPED mqtt_test.ts: ${skip}`);

const rec = (seq: number, extra: Partial<DataRecord> = {}): DataRecord => ({
  device: "boiler-plc",
  tag: "temp1",
  value: 70 + seq,
  quality: "good",
  sourceTs: 1_700_000_000_000 + seq,
  gatewayTs: 1_700_000_000_005 + seq,
  seq,
  ...extra,
});

async function withQueueDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const fast = { reconnectMin: "50ms", reconnectMax: "200ms", replayRate: 0 } as const;

Deno.test({
  name: "mqtt publishes every record on its UNS topic with the JSON payload",
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Mosquitto.start();
    await withQueueDir(async (dir) => {
      const sub = await subscribe(broker.url, "acme/#");
      const config: MqttConfig = {
        url: broker.url,
        clientId: "bifrost-test-uns",
        protocolVersion: 5,
        topic: "acme/{site}/{area}/{device}/{tag}",
        vars: { site: "plant1", area: "boiler" },
        queue: { dir },
        ...fast,
      };
      const sink = mqttSink.create(
        config,
        { name: "uns", clock: systemClock, dataDir: dir } as never,
      );
      await sink.open();
      try {
        await waitFor(() => sink.stats!().connected === 1, 5_000, () => "sink never connected");
        const records = [
          rec(1),
          rec(2, { tag: "state", value: "auto" }),
          rec(3, { device: "press-3", tag: "on", value: true }),
          rec(4, { value: null, quality: "bad", reason: "Cannot read HR0: timeout" }),
        ];
        await sink.write(Batch.from(records));
        await waitFor(() => sub.messages.length >= 4, 5_000, () => `got ${sub.messages.length}`);
        assert.deepEqual(sub.messages.map((m) => m.topic), [
          "acme/plant1/boiler/boiler-plc/temp1",
          "acme/plant1/boiler/boiler-plc/state",
          "acme/plant1/boiler/press-3/on",
          "acme/plant1/boiler/boiler-plc/temp1",
        ]);
        assert.deepEqual(
          sub.messages.map((m) => m.body),
          records.map((r) => {
            const { device: _d, tag: _t, ...rest } = r;
            return rest;
          }),
        );
        assert.ok(sub.messages.every((m) => !m.retain));
        await waitFor(() => sink.stats!().depth === 0, 2_000, () => "queue not emptied");
        const s = sink.stats!();
        assert.equal(s.sent, 4);
        assert.equal(s.enqueued, 4);
        assert.equal(s.historical, 0);
      } finally {
        await sink.close();
        await sub.close();
      }
    });
  },
});

Deno.test({
  name: "mqtt keeps records on disk while the broker is down and replays them as historical",
  ignore: skip !== undefined,
  async fn() {
    await withQueueDir(async (dir) => {
      const port = freePort();
      const config: MqttConfig = {
        url: `mqtt://127.0.0.1:${port}`,
        clientId: "bifrost-test-replay",
        qos: 2,
        queue: { dir },
        ...fast,
      };
      // First run: no broker. write() still resolves (durable), close() keeps everything.
      const first = createMqttSink(config, { name: "replay", clock: systemClock });
      await first.open();
      for (let i = 0; i < 10; i++) {
        await first.write(Batch.from(Array.from({ length: 30 }, (_, j) => rec(i * 30 + j))));
      }
      await first.close();
      assert.equal(first.stats().depth, 300);
      assert.equal(first.stats().sent, 0);

      // Second run: the broker is there; the backlog goes out in order, marked historical.
      await using broker = await Mosquitto.start({ port });
      const sub = await subscribe(broker.url, "bifrost/#");
      const second = createMqttSink(config, { name: "replay", clock: systemClock });
      await second.open();
      try {
        await waitFor(() => sub.messages.length >= 300, 5_000, () => `got ${sub.messages.length}`);
        assert.deepEqual(
          sub.messages.map((m) => m.body.seq),
          Array.from({ length: 300 }, (_, i) => i),
        );
        assert.ok(sub.messages.every((m) => m.body.historical === true));
        await waitFor(() => second.stats().connected === 1, 2_000, () => "not connected");
        await second.write(Batch.from([rec(300)]));
        await waitFor(() => sub.messages.length >= 301, 5_000, () => `got ${sub.messages.length}`);
        assert.equal(
          sub.messages[300]!.body.historical,
          undefined,
          "a live record is not historical",
        );
        await waitFor(() => second.stats().depth === 0, 2_000, () => "queue not emptied");
        assert.equal(second.stats().historical, 300);
      } finally {
        await second.close();
        await sub.close();
      }
    });
  },
});

Deno.test({
  name: "mqtt publishes with retain and QoS 0 when configured",
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Mosquitto.start();
    await withQueueDir(async (dir) => {
      const sink = createMqttSink(
        { url: broker.url, qos: 0, retain: true, topic: "r/{tag}", queue: { dir }, ...fast },
        { name: "retained", clock: systemClock },
      );
      await sink.open();
      try {
        await sink.write(Batch.from([rec(1, { tag: "a" }), rec(2, { tag: "b" })]));
        await waitFor(() => sink.stats().sent === 2, 5_000, () => `sent ${sink.stats().sent}`);
        await waitFor(() => sink.stats().depth === 0, 2_000, () => "queue not emptied");
      } finally {
        await sink.close();
      }
      // A subscriber arriving later gets the retained values.
      const late = await subscribe(broker.url, "r/#");
      try {
        await waitFor(() => late.messages.length >= 2, 5_000, () => `got ${late.messages.length}`);
        assert.deepEqual(late.messages.map((m) => [m.topic, m.body.seq, m.retain]).sort(), [
          ["r/a", 1, true],
          ["r/b", 2, true],
        ]);
      } finally {
        await late.close();
      }
    });
  },
});
