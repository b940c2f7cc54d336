import {
  BifrostError,
  type DeviceConfig,
  nullLogger,
  type ReadSink,
  systemClock,
  type TagConfig,
  type TagResult,
} from "../../../engine/plugin.ts";
import { startModbusSimulator } from "../simulator/server.ts";
import { assertEquals, assertRejects } from "../_test_assert.ts";
import type { ModbusTcpDriver } from "./driver.ts";
import { modbusTcp } from "../mod.ts";

const ctx = { log: nullLogger, clock: systemClock };
const signal = () => AbortSignal.timeout(5000);

function tag(
  name: string,
  address: string | number,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return {
    name,
    address: String(address),
    type,
    writable: true,
    config: { address, type, ...extra },
  };
}

function device(port: number, tags: TagConfig[], config: Record<string, unknown> = {}) {
  return {
    name: "plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, timeout: "500ms", ...config },
    tags: new Map(tags.map((t) => [t.name, t])),
  } satisfies DeviceConfig;
}

async function connected(d: DeviceConfig): Promise<ModbusTcpDriver & AsyncDisposable> {
  const drv = modbusTcp.create(d, ctx) as ModbusTcpDriver;
  await drv.connect(signal());
  return Object.assign(drv, { [Symbol.asyncDispose]: () => drv.close() });
}

const values = (rs: TagResult[]) => rs.map((r) => (r.ok ? r.value : `bad: ${r.error.code}`));

Deno.test("count reads arrays of registers, coils and strings; writes take arrays", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegisters("HR0", [0x4228, 0, 0x3fc0, 0, 0xc000, 0]);
  ["C3", "C5"].forEach((c) => sim.setBit(c, true));
  sim.setRegisters("HR10", [0x4241, 0x4300, 0x5859, 0]); // "BAC", "XY" in ABCD
  sim.setRegisters("HR20", [0x4142, 0x0043]); // "ABC" in BADC
  const tags = [
    tag("floats", "HR0", "float32", { count: 3 }),
    tag("coils", "C2", "bool", { count: 5 }),
    tag("names", "HR10", "string", { length: 2, count: 2 }),
    tag("badc", "HR20", "string", { length: 2, order: "BADC" }),
  ];
  await using drv = await connected(device(sim.port, tags));
  assertEquals(values(await drv.read(drv.plan(tags), signal())), [
    [42, 1.5, -2],
    [false, true, false, true, false],
    ["BAC", "XY"],
    "BAC",
  ]);
  await drv.write(tags[0]!, [1, 2, 3], signal());
  assertEquals(sim.getRegisters("HR0", 6), [0x3f80, 0, 0x4000, 0, 0x4040, 0]);
  await drv.write(tags[1]!, [true, true, false, false, true], signal());
  assertEquals(["C2", "C3", "C4", "C5", "C6"].map((c) => sim.getValue(c)), [
    true,
    true,
    false,
    false,
    true,
  ]);
  await drv.write(tags[3]!, "XYZ", signal());
  assertEquals(sim.getRegisters("HR20", 2), [0x5958, 0x005a]);
  const e = await assertRejects(
    () => drv.write(tags[0]!, [1, 2], signal()),
    BifrostError,
    'Cannot write 2 values to "floats" on "plc": the tag holds 3 (count 3), give exactly 3',
  );
  assertEquals((e as BifrostError).code, "WRITE_REJECTED");
});

Deno.test("Modicon numbers as YAML integers, 5 and 6 digits, address the same registers", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegisters("HR0", [11, 22, 33]);
  const tags = [tag("a", 40001, "int16"), tag("b", 400002, "int16"), tag("c", "40003", "int16")];
  assertEquals(modbusTcp.validate!(device(sim.port, tags)), []);
  await using drv = await connected(device(sim.port, tags));
  assertEquals(values(await drv.read(drv.plan(tags), signal())), [11, 22, 33]);
  assertEquals(drv.plan(tags).describe(), ["FC3 HR0..HR2 (3 regs) unit 1: a, b, c"]);
});

Deno.test("workarounds: addressOffset shifts every address, swapWords swaps a range", async () => {
  await using sim = await startModbusSimulator();
  sim.setValue("HR9", 1.5, { type: "float32", order: "CDAB" });
  sim.setValue("HR99", 2.5, { type: "float32", order: "CDAB" });
  sim.setValue("HR101", 3.5, { type: "float32", order: "ABCD" });
  const tags = [
    tag("a", "HR10", "float32", { count: 1 }),
    tag("b", "HR100", "float32", { count: 2 }),
  ];
  const workarounds = { addressOffset: -1, swapWords: [{ from: "HR1", to: "HR100" }] };
  const d = device(sim.port, tags, { workarounds });
  assertEquals(modbusTcp.validate!(d), []);
  await using drv = await connected(d);
  assertEquals(drv.plan(tags).describe(), [
    "FC3 HR9..HR10 (2 regs) unit 1: a",
    "FC3 HR99..HR102 (4 regs) unit 1: b",
  ]);
  // HR99 is in the swapped range (HR1..HR100 shifted by -1 is HR0..HR99), HR101 is not.
  assertEquals(values(await drv.read(drv.plan(tags), signal())), [1.5, [2.5, 3.5]]);
  await drv.write(tags[0]!, 4.25, signal());
  assertEquals(sim.getValue("HR9", { type: "float32", order: "CDAB" }), 4.25);
  const bad = modbusTcp.validate!(device(0, tags, { workarounds: { addressOffset: -11 } }));
  assertEquals(bad.map((i) => i.message), [
    'Cannot use address "HR10" with addressOffset -11: the offset becomes -1, outside 0..65535',
  ]);
});

Deno.test("workarounds.noFc22 writes bits by FC3 + FC6; fc23 writes them by FC3 + FC23", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.exception({ fc: 22, code: 4 }); // any FC22 would fail the write
  sim.setRegister("HR5", 0x0100);
  const bit = tag("b", "HR5.0", "bool");
  {
    await using drv = await connected(device(sim.port, [], { workarounds: { noFc22: true } }));
    await drv.write(bit, true, signal());
    assertEquals(sim.getRegisters("HR5", 1), [0x0101]);
  }
  sim.faults.exception({ fc: 6, code: 4 }); // nor may FC6 be used with fc23
  {
    const w = { noFc22: true, fc23: true };
    await using drv = await connected(device(sim.port, [], { workarounds: w }));
    const before = sim.stats.requests;
    await drv.write(bit, false, signal());
    await drv.write(tag("b8", "HR5.8", "bool"), false, signal());
    assertEquals(sim.getRegisters("HR5", 1), [0x0000]);
    assertEquals(sim.stats.requests - before, 4);
  }
});

Deno.test("a device without FC22 is remembered: the next bit write goes straight to FC3 + FC6", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.exception({ fc: 22, code: 1 });
  await using drv = await connected(device(sim.port, []));
  let before = sim.stats.requests;
  await drv.write(tag("b", "HR7.2", "bool"), true, signal());
  assertEquals(sim.stats.requests - before, 3);
  before = sim.stats.requests;
  await drv.write(tag("b", "HR7.3", "bool"), true, signal());
  assertEquals(sim.stats.requests - before, 2);
  assertEquals(sim.getRegisters("HR7", 1), [0b1100]);
});

// A behaviour check with a 2x margin, not a speed benchmark: pipelined requests overlap their
// round trips, unpipelined ones cannot.
Deno.test("pipelining sends a poll's requests back to back; without it they go one by one", async () => {
  const DELAY = 100;
  await using sim = await startModbusSimulator();
  sim.faults.delayMs = DELAY;
  const tags = [tag("a", "HR0", "int16"), tag("b", "HR500", "int16"), tag("c", "HR1000", "int16")];
  const timed = async (config: Record<string, unknown>) => {
    await using drv = await connected(device(sim.port, tags, { timeout: "2s", ...config }));
    const plan = drv.plan(tags);
    assertEquals(plan.describe().length, 3);
    const t0 = performance.now();
    assertEquals(values(await drv.read(plan, signal())), [0, 0, 0]);
    return { ms: performance.now() - t0, maxInFlight: drv.maxInFlight };
  };
  const piped = await timed({ pipelining: true });
  assertEquals(piped.maxInFlight, 4);
  assertEquals(piped.ms < 2 * DELAY, true, `pipelined poll took ${piped.ms} ms`);
  const serial = await timed({ maxInFlight: 8 });
  assertEquals(serial.maxInFlight, 1);
  assertEquals(serial.ms >= 3 * DELAY, true, `unpipelined poll took ${serial.ms} ms`);
});

Deno.test("aborting the signal of the reads rejects a read in flight; other signals' reads go on", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegisters("HR0", [7, 8]);
  const tags = [tag("a", "HR0", "uint16")];
  await using drv = await connected(device(sim.port, tags, { timeout: "2s" }));
  const plan = drv.plan(tags);
  const device1 = new AbortController();
  assertEquals(values(await drv.read(plan, device1.signal)), [7]);
  sim.faults.delayMs = 100;
  const other = drv.read(drv.plan([tag("b", "HR1", "uint16")]), signal());
  const pending = drv.read(plan, device1.signal);
  device1.abort(new Error("device stopped"));
  await assertRejects(() => pending, Error, "device stopped");
  assertEquals(values(await other), [8]);
  sim.faults.delayMs = 0;
  assertEquals(values(await drv.read(plan, signal())), [7]);
  await assertRejects(() => drv.read(plan, device1.signal), Error, "device stopped");
});

Deno.test("a signal that aborts after its reads ended leaves the connection alone", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegisters("HR0", [7]);
  const tags = [tag("a", "HR0", "uint16")];
  await using drv = await connected(device(sim.port, tags));
  const plan = drv.plan(tags);
  const first = new AbortController();
  assertEquals(values(await drv.read(plan, first.signal)), [7]);
  first.abort(new Error("gone"));
  assertEquals(values(await drv.read(plan, signal())), [7]);
  assertEquals(drv.client!.connected, true);
});

Deno.test("readInto() throws TIMEOUT when every request timed out, after failing their tags", async () => {
  await using sim = await startModbusSimulator();
  const tags = [tag("a", "HR0", "int16"), tag("c", "C0", "bool")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms", retries: 0 }));
  const failed: [number, string][] = [];
  const sink: ReadSink = {
    value: () => failed.push([-1, "value"]),
    fail: (index, error) => failed.push([index, error.code]),
  };
  sim.faults.drop(2);
  const e = await assertRejects(
    () => drv.readInto(drv.plan(tags), signal(), sink),
    BifrostError,
    "within 100 ms",
  );
  assertEquals((e as BifrostError).code, "TIMEOUT");
  assertEquals(failed.sort(), [[0, "TIMEOUT"], [1, "TIMEOUT"]]);
});
