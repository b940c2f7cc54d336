/**
 * @module
 * End-to-end tests of the running gateway: flows loaded from a directory, polled from the
 * Modbus simulator over real TCP, through built-in steps and a user function, into SQLite
 * history; device outages and recovery; a clean stop on SIGINT.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch, waitFor } from "./_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { createLogger } from "../engine/log.ts";
import type { Batch } from "../engine/record.ts";
import { registries } from "../app/registries.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { queryHistory } from "../sinks/sqlite/mod.ts";

async function flowDir(yaml: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-gw-" });
  await Deno.writeTextFile(join(dir, "flow.yaml"), yaml);
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return dir;
}

async function load(dir: string) {
  const r = await loadFlows(dir, { env: {}, sources: registries });
  assertEquals(r.errors.map((e) => e.message), []);
  return r.flows!;
}

Deno.test("a flow runs end to end: simulator → scale → function → SQLite history", async () => {
  await using sim = await startModbusSimulator({
    units: {
      1: {
        HR0: { type: "float32", value: 20 },
        HR2: { type: "int16", value: 1234 },
        C0: { type: "bool", value: true },
      },
    },
  });
  const dir = await flowDir(
    `
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: float32 }
      pressure: { address: HR2, type: int16, scale: { gain: 0.01 } }
      running: { address: C0, type: bool }
polls:
  fast: { device: plc, tags: "*", every: 50ms }
steps:
  fahrenheit: { use: scale, from: fast, tags: [temp], gain: 1.8, offset: 32 }
  doubled: { use: function, from: fahrenheit, file: functions/double.ts }
sinks:
  history: { use: sqlite, from: [fast, doubled], path: ${"${DB}"} }
`.replace("${DB}", "history.db"),
    {
      "functions/double.ts": `
import type { Context, DataRecord } from "bifrost/functions";
export default function (records: DataRecord[], _ctx: Context): DataRecord[] {
  return records.map((r) => typeof r.value === "number" ? { ...r, tag: r.tag + "-x2", value: r.value * 2 } : r);
}`,
    },
  );
  const flows = await load(dir);
  // The sink path is relative to the working directory: point it into the temp dir.
  flows.sinks.get("history")!.config.path = join(dir, "history.db");
  const gw = new Gateway(flows, { sources: registries });
  const seen = new Map<string, Batch[]>();
  gw.tap((node, b) => seen.set(node, [...(seen.get(node) ?? []), b]));
  await gw.start();
  try {
    await waitFor(() => (seen.get("doubled")?.length ?? 0) >= 3, 10_000, "function output");
  } finally {
    await gw.stop();
  }
  const polled = seen.get("fast")![0]!;
  assertEquals(polled.toArray().map((r) => [r.tag, r.value, r.quality]), [
    ["temp", 20, "good"],
    ["pressure", 12.34, "good"],
    ["running", true, "good"],
  ]);
  const doubled = seen.get("doubled")![0]!.toArray();
  assertEquals(doubled.map((r) => [r.tag, r.value]), [
    ["temp-x2", (20 * 1.8 + 32) * 2],
    ["pressure-x2", 12.34 * 2],
    ["running", true],
  ]);
  const rows = queryHistory(join(dir, "history.db"), { device: "plc", tag: "temp" });
  assert(rows.length >= 3, `history has ${rows.length} rows of plc/temp`);
  assertEquals(rows[0]!.value, 20);
  const seqs = rows.map((r) => r.seq);
  for (let i = 1; i < seqs.length; i++) assert(seqs[i]! > seqs[i - 1]!, "seq increases");
  assert(queryHistory(join(dir, "history.db"), { tag: "temp-x2" }).length >= 3);
});

Deno.test("a device outage turns tags bad with the reason, logs once, and recovers", async () => {
  const sim1 = await startModbusSimulator({ units: { 1: { HR0: { type: "uint16", value: 7 } } } });
  const port = sim1.port;
  const dir = await flowDir(`
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    timeout: 200ms
    tags:
      level: { address: HR0, type: uint16 }
polls:
  fast: { device: plc, tags: [level], every: 20ms }
`);
  const flows = await load(dir);
  const lines: string[] = [];
  const log = createLogger({ json: true, level: "info", write: (l) => lines.push(l) });
  const gw = new Gateway(flows, { sources: registries, log });
  const batches: Batch[] = [];
  gw.tap((node, b) => node === "fast" && batches.push(b));
  await gw.start();
  // Declared out here so that it closes after the gateway stops: a simulator closed first is
  // a second outage, and the gateway rightly logs it (this test failed so under load).
  let sim2: Awaited<ReturnType<typeof startModbusSimulator>> | undefined;
  try {
    await waitFor(() => batches.some((b) => b.quality[0] === 0), 5000, "a good value");
    await sim1.close();
    await waitFor(
      () => batches.at(-1)?.quality[0] === 2 && gw.health().plc!.state !== "connected",
      5000,
      "bad quality after the simulator stopped",
    );
    const bad = batches.at(-1)!.get(0);
    assertEquals(bad.value, null);
    assertMatch(bad.reason ?? "", /plc/);
    await new Promise((r) => setTimeout(r, 300)); // several failed reconnects
    sim2 = await startModbusSimulator({
      port,
      units: { 1: { HR0: { type: "uint16", value: 8 } } },
    });
    await waitFor(() => batches.at(-1)?.value(0) === 8, 35_000, "recovery after restart");
  } finally {
    await gw.stop();
    await sim2?.close();
  }
  const msgs = lines.map((l) => JSON.parse(l).msg as string);
  assertEquals(msgs.filter((m) => m === "Device connection lost; reconnecting").length, 1);
  assertEquals(msgs.filter((m) => m === "Device connected after retrying").length, 1);
  assert(msgs.filter((m) => m === "Device unreachable; retrying with backoff").length <= 1);
});

Deno.test("bifrost run stops cleanly on SIGINT and the history holds the values", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "float32", value: 42.5 } } },
  });
  const dir = await flowDir(`
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: float32, unit: "°C" }
polls:
  fast: { device: plc, tags: [temp], every: 100ms }
sinks:
  console: { use: console, from: fast }
  history: { use: sqlite, from: fast, path: ${join("DIR", "h.db")} }
`.replace("DIR", "."));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../app/cli/main.ts", import.meta.url).pathname,
      "run",
      dir,
      "--no-http",
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { BIFROST_LOG_LEVEL: "info" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("plc/temp = 42.5")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  assertMatch(out, /plc\/temp = 42\.5 good/);
  child.kill("SIGINT");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assertEquals(status.code, 0, err);
  assertMatch(err, /Gateway stopped/);
  const rows = queryHistory(join(dir, "h.db"), { device: "plc", tag: "temp" });
  assert(rows.length >= 1);
  assertEquals(rows[0]!.value, 42.5);
});

Deno.test("a slow device never delays another device's polls; its overruns are skipped and counted", async () => {
  await using slow = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 1 } } },
  });
  await using fast = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 2 } } },
  });
  slow.faults.delayMs = 300; // every answer takes 300 ms; it is polled every 50 ms
  const dir = await flowDir(`
devices:
  slow-plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${slow.port}
    timeout: 2s
    tags:
      a: { address: HR0, type: uint16 }
  fast-plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${fast.port}
    tags:
      b: { address: HR0, type: uint16 }
polls:
  slow-poll: { device: slow-plc, tags: [a], every: 50ms }
  fast-poll: { device: fast-plc, tags: [b], every: 50ms }
`);
  const gw = new Gateway(await load(dir), { sources: registries });
  const good = { "slow-poll": 0, "fast-poll": 0 };
  gw.tap((node, b) => {
    if (node in good && b.quality[0] === 0) good[node as keyof typeof good]++;
  });
  await gw.start();
  await new Promise((r) => setTimeout(r, 1500));
  const stats = gw.stats().polls;
  await gw.stop();
  // 1.5 s at 50 ms is 30 deadlines: the fast device keeps (nearly) all of them.
  assert(good["fast-poll"] >= 20, `fast device polled ${good["fast-poll"]} times`);
  assert(good["slow-poll"] <= 7, `slow device polled ${good["slow-poll"]} times`);
  assert(stats["slow-poll"]!.skipped >= 15, `skipped ${stats["slow-poll"]!.skipped}`);
  assertEquals(stats["fast-poll"]!.skipped <= 3, true);
});
