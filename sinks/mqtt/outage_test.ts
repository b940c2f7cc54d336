/**
 * @module
 * The no-loss test: records stream into the mqtt sink at QoS 1 while mosquitto is stopped
 * for {@linkcode OUTAGE_MS} and started again on the same port. A persistent subscriber
 * (clean session, fixed client id, QoS 1; the broker keeps its session on disk) must see
 * every seq: duplicates are allowed and counted, none may be missing.
 */

import assert from "node:assert/strict";
import { Batch, Quality, systemClock } from "../../engine/plugin.ts";
import { Mosquitto, mosquittoMissing } from "./_mosquitto.ts";
import { subscribe, waitFor } from "./_subscriber.ts";
import { createMqttSink } from "./mod.ts";

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
