/**
 * @module
 * The `opcua` driver against its simulator (a real node-opcua server): every built-in type
 * read, writes checked against the node, deadband, the monitored-item limit, and a server
 * restart in the middle of a subscribed run through the engine's Gateway.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import {
  BifrostError,
  type DataRecord,
  nullLogger,
  systemClock,
  type TagConfig,
  type Value,
} from "../../../engine/plugin.ts";
import { Gateway } from "../../../engine/runtime/gateway.ts";
import type { FlowSet } from "../../../engine/flow/types.ts";
import { STATIC_ARRAYS, STATIC_SCALARS } from "../simulator/content.ts";
import { type OpcuaSimOptions, startOpcuaSimulator } from "../simulator/server.ts";
import { opcua } from "../mod.ts";
import { OpcuaDriver } from "./driver.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));
const signal = () => AbortSignal.timeout(20_000);

function tag(name: string, address: string, type: string, writable = true): TagConfig {
  return { name, address, type, writable, config: { address, type } };
}

async function pair(o: OpcuaSimOptions = {}, extra: Record<string, unknown> = {}) {
  const sim = await startOpcuaSimulator({ changeEveryMs: 0, ...o });
  const driver = new OpcuaDriver(
    {
      name: "plc",
      driver: "opcua",
      config: { endpoint: sim.endpoint, pki, timeout: "10s", ...extra },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
  try {
    await driver.connect(signal());
  } catch (e) {
    await sim.close();
    throw e;
  }
  return {
    sim,
    driver,
    async [Symbol.asyncDispose]() {
      await driver.close();
      await sim.close();
    },
  };
}

async function until(ms: number, what: string, done: () => boolean, last: () => unknown) {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; got ${show(last())}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const show = (v: unknown) =>
  JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x as unknown);

Deno.test("read() gives every built-in scalar type and arrays in the record model, with the source timestamp", async () => {
  await using p = await pair();
  const tags = [
    ...STATIC_SCALARS.map(([t]) => tag(t, `ns=1;s=Demo.Static.${t}`, t)),
    ...STATIC_ARRAYS.map(([t]) => tag(`${t}Array`, `ns=1;s=Demo.Static.${t}Array`, `${t}[]`)),
  ];
  const before = Date.now() - 60_000;
  const rs = await p.driver.read(p.driver.plan(tags), signal());
  const expected = [...STATIC_SCALARS, ...STATIC_ARRAYS].map(([, v]) => v);
  for (const [i, r] of rs.entries()) {
    assert(r.ok, `${tags[i]!.name}: ${show(r)}`);
    assertEquals(r.value, expected[i], tags[i]!.name);
    assert(r.sourceTs! > before, `${tags[i]!.name} keeps the server's source timestamp`);
    const kind = opcua.valueKind(tags[i]!);
    const v = r.value;
    const actual = Array.isArray(v)
      ? "array"
      : typeof v === "bigint"
      ? "bigint"
      : typeof v === "boolean"
      ? "boolean"
      : typeof v === "number"
      ? (kind === "integer" ? "integer" : "float")
      : kind === "bytes"
      ? "bytes"
      : "string";
    assertEquals(actual, kind, `${tags[i]!.name} is carried as its kind`);
  }
});

Deno.test("read() resolves browse paths once per connection and names what is missing", async () => {
  await using p = await pair();
  const rs = await p.driver.read(
    p.driver.plan([
      tag("a", "/Objects/Demo/Setpoint", "Double"),
      tag("b", "/Objects/1:Demo/1:Static/1:Int32", "Int32"),
      tag("c", "/Objects/Demo/Nope", "Double"),
      tag("d", "ns=1;s=Demo.Static.Int32", "Double"),
    ]),
    signal(),
  );
  assertEquals(rs.slice(0, 2).map((r) => r.ok && r.value), [20, -123456]);
  assert(!rs[2]!.ok);
  assertMatch(rs[2]!.error.message, /\/Objects\/Demo has no child "Nope" \(it has /);
  assert(!rs[3]!.ok);
  assertMatch(rs[3]!.error.message, /the node holds Int32, the tag declares Double/);
});

Deno.test("write() checks the value against the node's DataType and access level, and reports the server's status", async () => {
  await using p = await pair();
  const w = (t: TagConfig, v: Value) => p.driver.write(t, v, signal());
  const rejected = async (t: TagConfig, v: Value, pattern: RegExp) => {
    try {
      await w(t, v);
    } catch (e) {
      assert(e instanceof BifrostError && e.code === "WRITE_REJECTED", String(e));
      assertMatch(e.message, pattern);
      return;
    }
    throw new Error(`writing ${show(v)} to ${t.address} was not refused`);
  };
  await rejected(tag("ro", "ns=1;s=Demo.ReadOnly", "Double"), 1, /not writable/);
  await rejected(
    tag("t", "ns=1;s=Demo.Setpoint", "Int32"),
    1,
    /DataType is Double, the tag declares Int32/,
  );
  await rejected(
    tag("b", "ns=1;s=Demo.Static.Byte", "Byte"),
    256,
    /256 is outside Byte range 0\.\.255/,
  );
  await rejected(tag("s", "ns=1;s=Demo.Static.Int16", "Int16"), "x", /"x" is not an integer/);
  await rejected(tag("a", "ns=1;s=Demo.Static.Int32Array", "Int32[]"), 5, /is not an array/);
  await w(tag("u64", "ns=1;s=Demo.Static.UInt64", "UInt64"), 2n ** 63n);
  assertEquals(p.sim.getValue("Demo.Static.UInt64"), 2n ** 63n);
  await w(tag("arr", "ns=1;s=Demo.Static.Int32Array", "Int32[]"), [7, 8]);
  assertEquals(p.sim.getValue("Demo.Static.Int32Array"), [7, 8]);
  await w(tag("dt", "ns=1;s=Demo.Static.DateTime", "DateTime"), "2027-03-04T05:06:07.000Z");
  assertEquals(p.sim.getValue("Demo.Static.DateTime"), "2027-03-04T05:06:07.000Z");
  await w(tag("auto", "ns=1;s=Demo.Static.Float", "auto"), "1.5");
  assertEquals(p.sim.getValue("Demo.Static.Float"), 1.5);
});

Deno.test("a subscription with an absolute deadband reports only the moves larger than it", async () => {
  await using p = await pair();
  const seen: Value[] = [];
  const t = tag("sp", "ns=1;s=Demo.Setpoint", "Double");
  p.sim.setValue("Demo.Setpoint", 0);
  const sub = await p.driver.subscribe(
    p.driver.plan([t]),
    { value: (_i, v) => void seen.push(v), fail: (_i, e) => void seen.push(e.message) },
    signal(),
    { samplingInterval: "0ms", publishingInterval: "20ms", deadband: "absolute", deadbandValue: 5 },
  );
  try {
    await until(10_000, "the first value", () => seen.length === 1, () => seen);
    for (const v of [1, 2, 4.9, 10, 11, 14, 20.5]) {
      p.sim.setValue("Demo.Setpoint", v);
      await new Promise((r) => setTimeout(r, 60));
    }
    await until(10_000, "20.5", () => seen.includes(20.5), () => seen);
    assertEquals(seen, [0, 10, 20.5]);
  } finally {
    await sub.close();
  }
});

Deno.test("maxMonitoredItems: a subscription above the session's limit fails naming it; the limit itself subscribes", async () => {
  await using p = await pair({ variables: 1001 }, { maxMonitoredItems: 1000 });
  const tags = Array.from(
    { length: 1001 },
    (_, i) => tag(`v${i}`, `ns=1;s=Demo.Many.${i}`, "Double"),
  );
  const sink = { value() {}, fail() {} };
  try {
    await p.driver.subscribe(p.driver.plan(tags), sink, signal(), {});
    throw new Error("1,001 monitored items were accepted");
  } catch (e) {
    assert(e instanceof BifrostError && e.code === "CONFIG_INVALID", String(e));
    assertMatch(
      e.message,
      /Cannot subscribe 1001 tag\(s\) on "plc": its session may hold at most 1000 monitored items \(maxMonitoredItems\)/,
    );
  }
  const values = new Set<number>();
  const sub = await p.driver.subscribe(
    p.driver.plan(tags.slice(0, 1000)),
    { value: (i) => void values.add(i), fail() {} },
    signal(),
    { samplingInterval: "100ms", publishingInterval: "100ms" },
  );
  try {
    await until(20_000, "1,000 first values", () => values.size === 1000, () => values.size);
    assertEquals(p.sim.counts().monitoredItems, 1000);
  } finally {
    await sub.close();
  }
});

Deno.test("server restart mid-run: the session and subscription come back without duplicate monitored items, values bad while away, every value after arrives", async () => {
  const sim = await startOpcuaSimulator({ proxy: true, changeEveryMs: 0 });
  const device = {
    name: "plc",
    driver: "opcua",
    config: { endpoint: sim.endpoint, pki, timeout: "3s" },
    tags: new Map([["sp", {
      ...tag("sp", "ns=1;s=Demo.Setpoint", "Double"),
      kind: "float" as const,
    }]]),
  };
  const origin = { file: "t.yaml", line: 1, column: 1 };
  const flows: FlowSet = {
    dir: ".",
    files: [origin.file],
    devices: new Map([["plc", { ...device, origin }]]),
    polls: new Map([["live", {
      name: "live",
      device: "plc",
      tags: ["sp"],
      subscribe: { samplingInterval: "0ms", publishingInterval: "20ms", queueSize: 100 },
      origin,
    }]]),
    steps: new Map(),
    sinks: new Map(),
  };
  const gw = new Gateway(flows, {
    sources: { drivers: [opcua], steps: [], sinks: [] },
    log: nullLogger,
  });
  const seen: DataRecord[] = [];
  gw.tap((_node, batch) => void seen.push(...batch));
  try {
    await gw.start();
    sim.setValue("Demo.Setpoint", 1);
    await until(20_000, "the first value", () => seen.some((r) => r.value === 1), () => seen);
    assertEquals(sim.counts(), { sessions: 1, subscriptions: 1, monitoredItems: 1 });
    const before = seen.length;
    await sim.restart();
    await until(
      30_000,
      "a bad value while away",
      () => seen.slice(before).some((r) => r.quality === "bad"),
      () => seen.slice(before),
    );
    await until(
      30_000,
      "the subscription back",
      () => sim.counts().monitoredItems === 1,
      () => sim.counts(),
    );
    const from = seen.length;
    const sent = Array.from({ length: 30 }, (_, i) => 100 + i);
    for (const v of sent) {
      sim.setValue("Demo.Setpoint", v);
      await new Promise((r) => setTimeout(r, 30));
    }
    const got = () => seen.slice(from).filter((r) => r.quality === "good").map((r) => r.value);
    await until(20_000, "every value after the restart", () => got().includes(129), got);
    assertEquals(got().filter((v) => (v as number) >= 100), sent, "every value, in order, once");
    assertEquals(sim.counts(), { sessions: 1, subscriptions: 1, monitoredItems: 1 });
  } finally {
    await gw.stop();
    await sim.close();
  }
});
