/**
 * @module
 * Hot reload end to end: a gateway polling the Modbus simulator every 100 ms over real TCP
 * into an `http` sink gets a new revision while it runs (a step's gain, a poll's interval,
 * the sink's URL, one device removed and one added). Every record of every device reaches
 * an endpoint exactly once, with sequence numbers contiguous per device; the backlog the
 * first (failing) endpoint left in the sink's durable queue is delivered to the new URL.
 */

import { join } from "node:path";
import { assert, assertEquals, waitFor } from "./_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { registries } from "../app/registries.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { isBifrostError } from "../engine/errors.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";

interface Received {
  device: string;
  tag: string;
  seq: number;
  value: unknown;
}

function endpoint(fail: () => boolean) {
  const got: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json() as { records: Received[] };
    if (fail()) return new Response("down", { status: 503 });
    got.push(...body.records);
    return new Response(null, { status: 204 });
  });
  return { server, got, url: `http://127.0.0.1:${server.addr.port}/ingest` };
}

function flowYaml(o: {
  port: number;
  gain: number;
  every: string;
  url: string;
  second: "old" | "new";
}): string {
  const device = (name: string) => `
  ${name}:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${o.port}
    tags:
      a: { address: HR0, type: int16 }
      b: { address: HR1, type: int16 }`;
  return `devices:${device("plc")}${device(o.second)}
polls:
  fast: { device: plc, tags: "*", every: ${o.every} }
  p-${o.second}: { device: ${o.second}, tags: "*", every: 100ms }
steps:
  sc: { use: scale, from: fast, tags: [a], gain: ${o.gain} }
sinks:
  out:
    use: http
    from: [sc, p-${o.second}]
    url: ${o.url}
    retryMin: 20ms
    retryMax: 50ms
    closeTimeout: 2s
`;
}

async function load(dir: string) {
  const r = await loadFlows(dir, { env: {}, sources: registries });
  assertEquals(r.errors.map((e) => e.message), []);
  return r.flows!;
}

Deno.test("a reload loses and duplicates no record: step, interval, sink URL, devices changed", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 10 }, HR1: { type: "int16", value: 7 } } },
  });
  // The first endpoint is down: what the first revision produced waits in the durable queue.
  const down = endpoint(() => true);
  const up = endpoint(() => false);
  await using _a = down.server;
  await using _b = up.server;
  const dir = await Deno.makeTempDir({ prefix: "bifrost-reload-" });
  const gw = new Gateway(
    await (async () => {
      await Deno.writeTextFile(
        join(dir, "flow.yaml"),
        flowYaml({ port: sim.port, gain: 2, every: "100ms", url: down.url, second: "old" }),
      );
      return await load(dir);
    })(),
    { sources: registries, dataDir: join(dir, "data") },
  );
  const stepOut: number[] = [];
  gw.tap((node, b) => {
    if (node !== "sc") return;
    for (let i = 0; i < b.length; i++) if (b.tag[i] === "a") stepOut.push(b.value(i) as number);
  });
  await gw.start();
  try {
    await waitFor(() => (gw.stats().polls.fast?.runs ?? 0) >= 5, 5000, "five polls");
    const plc = gw.devices.get("plc");
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      flowYaml({ port: sim.port, gain: 3, every: "150ms", url: up.url, second: "new" }),
    );
    const d = await gw.apply(await load(dir));
    assertEquals(d.devices, { added: ["new"], removed: ["old"], changed: [], kept: ["plc"] });
    assertEquals(d.polls, { added: ["p-new"], removed: ["p-old"], changed: ["fast"], kept: [] });
    assertEquals(d.steps.changed, ["sc"]);
    assertEquals(d.sinks.changed, ["out"]);
    assert(!gw.devices.has("old") && gw.devices.has("new"), "devices swapped");
    assert(gw.devices.get("plc") === plc, "the unchanged device kept its connection");
    await waitFor(() => (gw.stats().polls.fast?.runs ?? 0) >= 4, 5000, "polls after reload");
    await waitFor(() => stepOut.includes(30), 5000, "the new gain");
  } finally {
    await gw.stop();
  }
  const produced = gw.sequences();
  assertEquals(Object.keys(produced).sort(), ["new", "old", "plc"]);
  await waitFor(
    () => {
      const n = Object.values(produced).reduce((s, [a, b]) => s + b - a + 1, 0);
      return up.got.length >= n;
    },
    5000,
    "every record at the new URL",
  );
  // The sink was stopped: what it had queued is on disk; reopening it would resume. Here
  // everything was delivered before the stop returned, so compare exactly.
  for (const [device, [first, last]] of Object.entries(produced)) {
    const seqs = up.got.filter((r) => r.device === device).map((r) => r.seq).sort((x, y) => x - y);
    assertEquals(new Set(seqs).size, seqs.length, `no duplicate on ${device}`);
    assertEquals(seqs.length, last - first + 1, `every record of ${device}`);
    assertEquals(seqs[0], first);
    assertEquals(seqs.at(-1), last);
  }
  assertEquals(down.got.length, 0);
  assert(stepOut.includes(20) && stepOut.includes(30), "old then new gain");
  // Per poll the stamps stay contiguous across the interval change: records come in batches
  // of two (a, b) with consecutive numbers.
  const plc = up.got.filter((r) => r.device === "plc").map((r) => r.seq).sort((x, y) => x - y);
  for (let i = 1; i < plc.length; i++) assertEquals(plc[i]! - plc[i - 1]!, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a reload whose new sink cannot open changes nothing; a changed one keeps its old settings", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 1 } } },
  });
  const dir = await Deno.makeTempDir({ prefix: "bifrost-reload-bad-" });
  const good = join(dir, "h.db");
  // A directory where the database file should be: SQLite cannot open it.
  const bad = join(dir, "taken");
  await Deno.mkdir(join(bad), { recursive: true });
  const yaml = (extra: string, path = good) =>
    `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      a: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 100ms }
sinks:
  history: { use: sqlite, from: fast, path: ${path} }
${extra}`;
  await Deno.writeTextFile(join(dir, "flow.yaml"), yaml(""));
  const gw = new Gateway(await load(dir), { sources: registries, dataDir: dir });
  await gw.start();
  try {
    const device = gw.devices.get("plc");
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      yaml(`  more: { use: sqlite, from: fast, path: ${bad} }\n`),
    );
    const e1 = await gw.apply(await load(dir)).then(() => undefined, (e) => e);
    assert(isBifrostError(e1, "CONFIG_INVALID"), String(e1));
    assert(!gw.flows.sinks.has("more") && !gw.consumers.has("more"), "nothing added");

    await Deno.writeTextFile(join(dir, "flow.yaml"), yaml("", bad));
    const e2 = await gw.apply(await load(dir)).then(() => undefined, (e) => e);
    assert(isBifrostError(e2, "RELOAD_FAILED"), String(e2));
    assertEquals(gw.flows.sinks.get("history")?.config.path, good, "the old settings run");
    assert(gw.devices.get("plc") === device, "the device kept its connection");
    const written = gw.stats().consumers.history!.processed;
    await waitFor(
      () => gw.stats().consumers.history!.processed > written + 1,
      5000,
      "the sink writing on",
    );
    assertEquals(gw.stats().consumers.history!.errors, 0);
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with --simulate, a reload starts the virtual device of a new device and closes a removed one's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-reload-sim-" });
  const yaml = (name: string, value: number) =>
    `devices:
  ${name}:
    driver: modbus-tcp
    host: 127.0.0.1
    port: 5020
    tags:
      a: { address: HR0, type: int16 }
    simulator:
      a: { generator: constant, value: ${value} }
polls:
  p-${name}: { device: ${name}, tags: "*", every: 100ms }
sinks:
  history: { use: sqlite, from: p-${name}, path: ${join(dir, "h.db")} }
`;
  await Deno.writeTextFile(join(dir, "flow.yaml"), yaml("first", 11));
  const gw = new Gateway(await load(dir), { sources: registries, simulate: true, dataDir: dir });
  const values: unknown[] = [];
  gw.tap((node, b) => {
    if (node.startsWith("p-")) { for (let i = 0; i < b.length; i++) values.push(b.value(i)); }
  });
  await gw.start();
  try {
    await waitFor(() => values.includes(11), 5000, "the first virtual device");
    await Deno.writeTextFile(join(dir, "flow.yaml"), yaml("second", 22));
    await gw.apply(await load(dir));
    await waitFor(() => values.includes(22), 5000, "the second virtual device");
    assertEquals([...gw.devices.keys()], ["second"]);
    const before = values.length;
    await waitFor(() => values.length > before + 1, 5000, "polling on");
    assert(values.slice(before).every((v) => v === 22), "the first device is gone");
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
