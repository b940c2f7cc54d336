import { join } from "node:path";
import { assert, assertEquals, assertRejects, waitFor } from "../tests/_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { nullLogger } from "../engine/log.ts";
import type { Batch } from "../engine/record.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { lazyCreate } from "../engine/lazy.ts";
import { registries } from "./registries.ts";
import { addModulesOf, emptySources } from "./sources.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";

async function flows(yaml: string) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-sources-" });
  await Deno.writeTextFile(join(dir, "flow.yaml"), yaml);
  const r = await loadFlows(dir, { env: {}, sources: registries });
  assertEquals(r.errors.map((e) => e.message), []);
  return { dir, flows: r.flows! };
}

const names = (ms: { name: string }[]) => ms.map((m) => m.name).sort();

Deno.test("addModulesOf imports the modules a flow names, once, and the same objects as the registries", async () => {
  const { flows: f } = await flows(`
devices:
  plc: { driver: modbus-tcp, host: 127.0.0.1, tags: { t: { address: HR0, type: int16 } } }
  line: { driver: modbus-rtu-tcp, host: 127.0.0.1, port: 4001, unitId: 2, tags: { t: { address: HR0, type: int16 } } }
polls:
  fast: { device: plc, tags: "*", every: 1s }
  slow: { device: line, tags: "*", every: 1s }
steps:
  scaled: { use: scale, from: fast, gain: 2 }
sinks:
  out: { use: console, from: [scaled, slow] }
  out2: { use: console, from: fast }
`);
  const sources = emptySources();
  assert((await addModulesOf(f, sources)) === sources, "fills the sources given");
  assertEquals(names(sources.drivers), ["modbus-rtu-tcp", "modbus-tcp"]);
  assertEquals(names(sources.steps), ["scale"]);
  assertEquals(names(sources.sinks), ["console"]);
  await addModulesOf(f, sources);
  assertEquals(sources.drivers.length + sources.steps.length + sources.sinks.length, 4);
  for (const d of sources.drivers) assert(registries.drivers.includes(d), d.name);
  assert(registries.sinks.includes(sources.sinks[0]!));
  // A name no loader knows is left for the gateway to report.
  f.devices.get("plc")!.driver = "no-such-driver";
  const other = await addModulesOf(f, emptySources());
  assertEquals(names(other.drivers), ["modbus-rtu-tcp"]);
});

Deno.test("a gateway with prepare starts on what its flows name and imports the modules a new revision brings", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 42 } } },
  });
  // The flow, and with `steps` a revision that adds a step; both keep one history file.
  const db = join(await Deno.makeTempDir({ prefix: "bifrost-sources-" }), "history.db");
  const revision = async (steps = "") => {
    const r = await flows(`
devices:
  plc: { driver: modbus-tcp, host: 127.0.0.1, port: ${sim.port}, tags: { t: { address: HR0, type: int16 } } }
polls:
  fast: { device: plc, tags: "*", every: 50ms }
${steps}
sinks:
  out: { use: sqlite, from: fast, path: history.db }
`);
    r.flows.sinks.get("out")!.config.path = db;
    return r;
  };
  const first = await revision();
  const sources = emptySources();
  const gw = new Gateway(first.flows, {
    sources,
    prepare: (f) => addModulesOf(f, sources),
    log: nullLogger,
    dataDir: first.dir,
  });
  const seen: Batch[] = [];
  gw.tap((node, b) => node === "doubled" && seen.push(b));
  await gw.start();
  try {
    assertEquals(names(sources.drivers), ["modbus-tcp"]);
    assertEquals(names(sources.sinks), ["sqlite"]);
    assertEquals(sources.steps, []);
    const next = await revision("steps:\n  doubled: { use: scale, from: fast, gain: 2 }");
    await gw.apply(next.flows);
    assertEquals(names(sources.steps), ["scale"]);
    await waitFor(() => seen.length > 0, 5000, "a batch of the new step");
    assertEquals(seen[0]!.toArray().map((r) => [r.tag, r.value]), [["t", 84]]);
  } finally {
    await gw.stop();
  }
});

Deno.test("lazyCreate: create before load is a programming error naming the module; load is once", async () => {
  let imports = 0;
  const m = lazyCreate('driver "x"', () => {
    imports++;
    return Promise.resolve((n: number) => n * 2);
  });
  let thrown: unknown;
  try {
    m.create(1);
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof Error && /driver "x": create\(\) before load\(\)/.test(thrown.message));
  await Promise.all([m.load(), m.load()]);
  await m.load();
  assertEquals([m.create(21), imports], [42, 1]);
  // A failed import is tried again by the next load().
  let fail = true;
  const f = lazyCreate(
    'sink "y"',
    () => fail ? Promise.reject(new Error("module not found")) : Promise.resolve(() => "ok"),
  );
  await assertRejects(() => f.load(), /module not found/);
  fail = false;
  await f.load();
  assertEquals(f.create(), "ok");
});
