/**
 * @module
 * Acceptance test of the northbound MQTT path, whole gateway in-process: a Modbus
 * simulator polled every 20 ms, an `mqtt` sink at QoS 1, and mosquitto stopped for 30 s in
 * the middle of the stream, then started again. A subscriber with a persistent session
 * counts every seq per tag: none may be missing (duplicates are allowed and counted), and
 * the records polled during the outage must arrive marked `"historical": true`.
 *
 * This is the one long test (about 40 s): the outage length is the acceptance
 * figure, kept exactly.
 */

import { join } from "node:path";
import { assert, assertEquals, waitFor } from "./_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { createLogger } from "../engine/log.ts";
import { registries } from "../app/registries.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { Mosquitto, mosquittoMissing } from "../sinks/mqtt/_mosquitto.ts";
import { subscribe } from "../sinks/mqtt/_subscriber.ts";
import type { MqttSink } from "../sinks/mqtt/sink.ts";

/** The figure: the broker is down this long. */
const OUTAGE_MS = 30_000;
/** Streaming before and after the outage. */
const STREAM_MS = 3_000;
const TAGS = ["level", "temp", "speed"];

const skip = mosquittoMissing();
if (skip) console.log(`SKIPPED e2e_outage_test.ts: ${skip}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "the gateway loses no record at QoS 1 through a 30 s broker outage",
  ignore: skip !== undefined,
  async fn() {
    await using sim = await startModbusSimulator({
      units: {
        1: {
          HR0: { type: "uint16", value: 7 },
          HR1: { type: "int16", value: -3 },
          HR2: { type: "uint16", value: 1500 },
        },
      },
    });
    await using broker = await Mosquitto.start({ persistence: true });
    const dir = await Deno.makeTempDir({ prefix: "bifrost-e2e-outage-" });
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      level: { address: HR0, type: uint16 }
      temp: { address: HR1, type: int16 }
      speed: { address: HR2, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: 20ms }
sinks:
  cloud:
    use: mqtt
    from: fast
    url: ${broker.url}
    clientId: e2e-outage-gateway
    qos: 1
    topic: plant/{device}/{tag}
    reconnectMin: 100ms
    reconnectMax: 1s
`,
    );
    const loaded = await loadFlows(dir, { env: {}, sources: registries });
    assertEquals(loaded.errors.map((e) => e.message), []);
    const lines: string[] = [];
    const log = createLogger({ json: true, level: "info", write: (l) => lines.push(l) });
    const gw = new Gateway(loaded.flows!, { sources: registries, log, dataDir: dir });
    // Every seq the poll emitted, in order, and when (phase) it was emitted.
    const emitted: { seq: number; tag: string; phase: "before" | "outage" | "after" }[] = [];
    let phase: "before" | "outage" | "after" = "before";
    gw.tap((node, b) => {
      if (node !== "fast") return;
      for (let i = 0; i < b.length; i++) emitted.push({ seq: b.seq[i]!, tag: b.tag[i]!, phase });
    });
    const sub = await subscribe(broker.url, "plant/#", {
      clean: false,
      clientId: "e2e-outage-subscriber",
      reconnectPeriod: 100,
    });
    let sink: MqttSink | undefined;
    let running = false;
    try {
      await gw.start();
      running = true;
      sink = gw.consumers.get("cloud")!.sink as MqttSink;
      await waitFor(() => sink!.stats().connected === 1, 5_000, "the sink connected");
      await sleep(STREAM_MS);
      await broker.stop();
      phase = "outage";
      await sleep(OUTAGE_MS);
      phase = "after";
      const resumedAt = performance.now();
      await broker.resume();
      const outageSeqs = new Set(emitted.filter((e) => e.phase === "outage").map((e) => e.seq));
      const got = new Set<number>();
      let next = 0;
      const receive = () => {
        for (; next < sub.messages.length; next++) got.add(sub.messages[next]!.body.seq as number);
      };
      await waitFor(
        () => {
          receive();
          return [...outageSeqs].every((s) => got.has(s));
        },
        30_000,
        "every record of the outage delivered",
      );
      const replayMs = performance.now() - resumedAt;
      await sleep(STREAM_MS);
      // Everything emitted up to now must arrive; the gateway keeps polling meanwhile.
      const expected = emitted.slice();
      await waitFor(
        () => {
          receive();
          return expected.every((e) => got.has(e.seq));
        },
        15_000,
        "every record emitted delivered",
      );
      running = false;
      await gw.stop();

      // Per tag: every seq the poll produced arrived, counted with duplicates.
      const byTag = new Map<string, Map<number, number>>(TAGS.map((t) => [t, new Map()]));
      for (const m of sub.messages) {
        const tag = m.topic.split("/")[2]!;
        const seen = byTag.get(tag)!;
        const seq = m.body.seq as number;
        seen.set(seq, (seen.get(seq) ?? 0) + 1);
      }
      let duplicates = 0;
      for (const e of expected) {
        const n = byTag.get(e.tag)!.get(e.seq) ?? 0;
        assert(n >= 1, `plc/${e.tag} seq ${e.seq} (${e.phase}) is missing`);
      }
      for (const seen of byTag.values()) for (const n of seen.values()) duplicates += n - 1;
      // Seqs of one device are consecutive across its tags: no gap from first to last.
      const all = [...new Set(sub.messages.map((m) => m.body.seq as number))].sort((a, b) => a - b);
      assertEquals(all.at(-1)! - all[0]! + 1, all.length, "seqs form one unbroken range");
      assertEquals(all.length >= expected.length, true);
      // Records polled while the broker was down arrive as historical, every copy.
      const outage = sub.messages.filter((m) => outageSeqs.has(m.body.seq as number));
      assert(outageSeqs.size > 0);
      assert(
        outage.every((m) => m.body.historical === true),
        "records of the outage are marked historical",
      );
      assertEquals(sub.messages.at(-1)!.body.historical, undefined, "the stream ends live");
      const s = sink.stats();
      assert(s.reconnects >= 1, `reconnects ${s.reconnects}`);
      assertEquals(s.dropped, 0);
      assert(s.historical >= outageSeqs.size);
      console.log(
        `e2e outage: ${expected.length} records polled (${TAGS.length} tags every 20 ms), ` +
          `${outageSeqs.size} during a ${OUTAGE_MS / 1000} s outage, all delivered; ` +
          `${duplicates} duplicates, ${s.historical} historical, ${s.reconnects} reconnects, ` +
          `outage backlog delivered ${Math.round(replayMs)} ms after the broker restarted`,
      );
    } catch (e) {
      console.error(lines.join("\n"));
      throw e;
    } finally {
      if (running) await gw.stop();
      await sub.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
