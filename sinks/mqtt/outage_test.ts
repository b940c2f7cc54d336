/**
 * @module
 * The no-loss test: records stream into the mqtt sink at QoS 1 while mosquitto is stopped
 * for {@linkcode OUTAGE_MS} and started again on the same port. A persistent subscriber
 * (clean session, fixed client id, QoS 1; the broker keeps its session on disk) must see
 * every seq: duplicates are allowed and counted, none may be missing.
 */

import assert from "node:assert/strict";
import { Batch, createLogger, Quality, systemClock } from "../../engine/plugin.ts";
import { Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { subscribe, waitFor } from "./_subscriber.ts";
import { createMqttSink } from "./sink.ts";

/** How long the broker is down. */
const OUTAGE_MS = 3_000;
/** Streaming before and after the outage. */
const STREAM_MS = 1_000;
/** One batch every this many ms ... */
const BATCH_EVERY_MS = 20;
/** ... of this many records (about 2,500 records/s). */
const BATCH_SIZE = 50;

const skip = mosquittoMissing();
if (skip) console.log(`SKIPPED outage_test.ts: ${skip}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "mqtt loses no record at QoS 1 when the broker goes down and comes back",
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Mosquitto.start({ persistence: true });
    const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_outage_" });
    const sub = await subscribe(broker.url, "plant/#", {
      clean: false,
      clientId: "bifrost-outage-subscriber",
      reconnectPeriod: 100,
    });
    const sink = createMqttSink({
      url: broker.url,
      clientId: "bifrost-outage-publisher",
      qos: 1,
      topic: "plant/{device}/{tag}",
      reconnectMin: "100ms",
      reconnectMax: "500ms",
      replayRate: 0,
      queue: { dir },
    }, { name: "outage", clock: systemClock });
    await sink.open();
    let seq = 0;
    const stream = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const b = new Batch(BATCH_SIZE);
        const now = Date.now();
        for (let i = 0; i < BATCH_SIZE; i++) {
          b.add("line1", `t${seq % 10}`, seq, Quality.good, undefined, now, now, seq++);
        }
        await sink.write(b);
        await sleep(BATCH_EVERY_MS);
      }
    };
    try {
      await waitFor(() => sink.stats().connected === 1, 5_000, () => "sink never connected");
      await stream(STREAM_MS);
      const beforeOutage = seq;
      await broker.stop();
      await stream(OUTAGE_MS);
      const duringOutage = seq - beforeOutage;
      assert.ok(sink.stats().depth >= duringOutage, "records written during the outage are queued");
      await broker.resume();
      await stream(STREAM_MS);
      const total = seq;

      const seen = new Uint32Array(total);
      let next = 0;
      const count = () => {
        for (; next < sub.messages.length; next++) seen[sub.messages[next]!.body.seq as number]!++;
        return seen.every((n) => n > 0);
      };
      await waitFor(count, 15_000, () => {
        const missing = [...seen.keys()].filter((i) => seen[i] === 0);
        return `${missing.length} of ${total} seqs missing, first ${missing.slice(0, 5)}; ` +
          `sink ${JSON.stringify(sink.stats())}`;
      });
      const duplicates = seen.reduce((a, n) => a + Math.max(0, n - 1), 0);
      const historical = sub.messages.filter((m) => m.body.historical === true);
      const s = sink.stats();
      console.log(
        `outage: ${total} records, ${duringOutage} written during a ${OUTAGE_MS} ms outage, ` +
          `${duplicates} duplicates, ${historical.length} historical, ${s.reconnects} reconnects`,
      );
      assert.ok(s.reconnects >= 1);
      assert.ok(historical.length >= duringOutage, "the backlog is published as historical");
      // Records from before the outage were live.
      assert.equal(
        sub.messages.find((m) => (m.body.seq as number) === 0)?.body.historical,
        undefined,
      );
      await waitFor(() => sink.stats().depth === 0, 5_000, () => "queue not emptied");
    } finally {
      await sink.close();
      await sub.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "mqtt logs a broker outage once and its recovery once, with how long and what is queued",
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Mosquitto.start();
    const dir = await Deno.makeTempDir({ prefix: "bifrost_mqtt_outage_log_" });
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({
      json: true,
      level: "info",
      write: (l) => lines.push(JSON.parse(l)),
    });
    const sink = createMqttSink({
      url: broker.url,
      qos: 1,
      topic: "plant/{device}/{tag}",
      reconnectMin: "20ms",
      reconnectMax: "40ms",
      queue: { dir },
    }, { name: "uns", clock: systemClock, log });
    await sink.open();
    const batch = (from: number, n: number) => {
      const b = new Batch(n);
      for (let i = from; i < from + n; i++) {
        b.add("line1", "t", i, Quality.good, undefined, i, i, i);
      }
      return b;
    };
    try {
      await waitFor(() => sink.stats().connected === 1, 5_000, () => "sink never connected");
      await sink.write(batch(0, 10));
      await waitFor(() => sink.stats().depth === 0, 5_000, () => "first records not sent");
      await broker.stop();
      await sink.write(batch(10, 40));
      await waitFor(() => sink.stats().connected === 0, 5_000, () => "loss not noticed");
      await sleep(300); // several failed attempts, 20-40 ms apart
      await broker.resume();
      await waitFor(() => sink.stats().depth === 0, 10_000, () => "backlog not sent");
    } finally {
      await sink.close();
      await Deno.remove(dir, { recursive: true });
    }
    const msgs = lines.filter((l) => l.level !== "debug").map((l) => `${l.level} ${l.msg}`);
    const lost = msgs.filter((m) => /MQTT broker|MQTT sink/.test(m) && m.startsWith("warn"));
    assert.equal(lost.length, 1, msgs.join("\n"));
    assert.match(
      lost[0]!,
      new RegExp(`^warn Lost connection to MQTT broker ${broker.url}; MQTT sink "uns" keeps`),
    );
    const back = msgs.filter((m) => /reconnected/.test(m));
    assert.equal(back.length, 1, msgs.join("\n"));
    assert.match(
      back[0]!,
      new RegExp(
        `^info MQTT sink "uns" reconnected to ${broker.url} after \\d+\\.\\d s; 40 queued records to deliver$`,
      ),
    );
  },
});
