/**
 * @module
 * Acceptance test of the durable queue through a crash: `bifrost run` as a subprocess with
 * an `mqtt` sink while the broker is down, so records pile up on disk; the process is
 * killed with SIGKILL mid-stream; the broker starts; the gateway starts again on the same
 * data directory. Every record enqueued before the kill arrives (no gap in seq up to the
 * kill point), marked historical, followed by the new run's records, whose seqs continue
 * above the first run's (the counter is seeded from the wall clock).
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, waitFor } from "./_assert.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { decodeBatch } from "../sinks/_queue/mod.ts";
import { freePort, Mosquitto, mosquittoMissing } from "../sinks/mqtt/_mosquitto.ts";
import { subscribe } from "../sinks/mqtt/_subscriber.ts";

const skip = mosquittoMissing();
if (skip) console.log(`SKIPPED e2e_kill_test.ts: ${skip}`);

const MAIN = new URL("../app/cli/main.ts", import.meta.url).pathname;
/** Records queued before the kill, at least. */
const BEFORE_KILL = 300;

/** A `bifrost run` child; its stderr is collected (and so never blocks it). */
function runGateway(dir: string): { child: Deno.ChildProcess; stderr: () => string } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", dir, "--no-http"],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { BIFROST_LOG_LEVEL: "info" },
  }).spawn();
  let err = "";
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })().catch(() => {});
  return { child, stderr: () => err };
}

/** Every record in the queue file: seq and tag, in queue order. */
function queued(path: string): { seq: number; tag: string }[] {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch {
    return [];
  }
  try {
    const rows = db.prepare("SELECT data FROM queue ORDER BY last_id").all() as {
      data: Uint8Array;
    }[];
    return rows.flatMap(({ data }) => {
      const b = decodeBatch(data);
      return Array.from({ length: b.length }, (_, i) => ({ seq: b.seq[i]!, tag: b.tag[i]! }));
    });
  } catch {
    return []; // not created yet
  } finally {
    db.close();
  }
}

Deno.test({
  name: "records queued before a SIGKILL are delivered after the restart, without a gap",
  ignore: skip !== undefined,
  async fn() {
    await using sim = await startModbusSimulator({
      units: { 1: { HR0: { type: "uint16", value: 1 }, HR1: { type: "uint16", value: 2 } } },
    });
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "bifrost-e2e-kill-" });
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      a: { address: HR0, type: uint16 }
      b: { address: HR1, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: 20ms }
sinks:
  cloud:
    use: mqtt
    from: fast
    url: mqtt://127.0.0.1:${port}
    clientId: e2e-kill-gateway
    qos: 1
    topic: plant/{device}/{tag}
    reconnectMin: 100ms
    reconnectMax: 300ms
`,
    );
    const queuePath = join(dir, "data", "queue", "cloud.db");
    try {
      // Run 1: no broker. Records pile up in the queue until the process is killed.
      const first = runGateway(dir);
      try {
        await waitFor(
          () => queued(queuePath).length >= BEFORE_KILL,
          30_000,
          `${BEFORE_KILL} queued records (${queuePath})`,
        );
      } finally {
        first.child.kill("SIGKILL");
      }
      const status = await first.child.status;
      assertEquals(status.signal, "SIGKILL", first.stderr());
      assert(/Cannot connect to MQTT broker/.test(first.stderr()), first.stderr());
      const before = queued(queuePath);
      const seqs1 = before.map((r) => r.seq);
      // Nothing was lost on the way to disk: one unbroken range of seqs, in order.
      for (let i = 1; i < seqs1.length; i++) {
        assertEquals(seqs1[i], seqs1[i - 1]! + 1, `queued seq after ${seqs1[i - 1]}`);
      }
      const killPoint = seqs1.at(-1)!;

      // Run 2: the broker is back; the same data directory.
      await using broker = await Mosquitto.start({ port });
      const sub = await subscribe(broker.url, "plant/#");
      const second = runGateway(dir);
      try {
        const got = () => new Set(sub.messages.map((m) => m.body.seq as number));
        await waitFor(
          () => {
            const g = got();
            return seqs1.every((s) => g.has(s)) && [...g].filter((s) => s > killPoint).length > 50;
          },
          30_000,
          "the first run's records and new ones",
        );
        second.child.kill("SIGINT");
        assertEquals((await second.child.status).code, 0, second.stderr());
      } finally {
        try {
          second.child.kill("SIGKILL");
        } catch { /* already exited */ }
        await second.child.status;
        await sub.close();
      }

      const old = sub.messages.filter((m) => (m.body.seq as number) <= killPoint);
      const fresh = sub.messages.filter((m) => (m.body.seq as number) > killPoint);
      // The backlog first, in queue order, each record on its own tag's topic.
      assertEquals(
        old.map((m) => m.body.seq),
        seqs1,
        "the first run's records, once each, in order",
      );
      assertEquals(
        old.map((m) => m.topic),
        before.map((r) => `plant/plc/${r.tag}`),
      );
      assert(old.every((m) => m.body.historical === true), "the backlog is historical");
      // Then the second run's own records: above the kill point, unbroken.
      const seqs2 = fresh.map((m) => m.body.seq as number);
      assert(seqs2.length > 50, `second run delivered ${seqs2.length}`);
      for (let i = 1; i < seqs2.length; i++) assertEquals(seqs2[i], seqs2[i - 1]! + 1);
      assertEquals(fresh.at(-1)!.body.historical, undefined, "new records end up live");
      console.log(
        `e2e kill: ${seqs1.length} records queued before SIGKILL (seq ${
          seqs1[0]
        }..${killPoint}), ` +
          `all delivered after the restart; then ${seqs2.length} new from seq ${seqs2[0]}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
