import {
  BifrostError,
  type DeviceConfig,
  nullLogger,
  type ReadSink,
  systemClock,
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import { startModbusSimulator } from "../simulator/server.ts";
import { assertEquals, assertRejects } from "../_test_assert.ts";
import { assert, assertMatch } from "../../../tests/_assert.ts";
import type { ModbusTcpDriver } from "./driver.ts";
import { modbusTcp } from "../mod.ts";
import type { ByteOrder, DataType } from "../core/spec.ts";

const ctx = { log: nullLogger, clock: systemClock };
const signal = () => AbortSignal.timeout(5000);

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

function device(
  port: number,
  tags: TagConfig[],
  config: Record<string, unknown> = {},
): DeviceConfig {
  return {
    name: "boiler-plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, timeout: "300ms", ...config },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}

async function connected(d: DeviceConfig): Promise<ModbusTcpDriver & AsyncDisposable> {
  const drv = modbusTcp.create(d, ctx) as ModbusTcpDriver;
  await drv.connect(signal());
  return Object.assign(drv, { [Symbol.asyncDispose]: () => drv.close() });
}

const values = (rs: TagResult[]) => rs.map((r) => (r.ok ? r.value : `bad: ${r.error.code}`));

/** What `readInto()` hands a sink, as `values()` shows `read()`'s results; every call counted. */
async function readIntoValues(
  drv: ModbusTcpDriver,
  plan: ReturnType<ModbusTcpDriver["plan"]>,
): Promise<{ values: unknown[]; calls: number }> {
  const out = new Array<unknown>(plan.tags.length);
  let calls = 0;
  const sink: ReadSink = {
    value(index, value, sourceTs) {
      calls++;
      assertEquals(typeof sourceTs, "number");
      out[index] = value;
    },
    fail(index, error) {
      calls++;
      out[index] = `bad: ${error.code}`;
    },
  };
  await drv.readInto(plan, signal(), sink);
  return { values: out, calls };
}

const TYPED: [DataType, Value][] = [
  ["int16", -1234],
  ["uint16", 54321],
  ["int32", -123456789],
  ["uint32", 3000000000],
  ["int64", -1234567890123456789n],
  ["uint64", 12345678901234567890n],
  ["float32", 1.5],
  ["float64", -123.456],
];
const ORDERS: ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];

Deno.test("read() decodes every type in every byte order from the simulator", async () => {
  await using sim = await startModbusSimulator();
  const tags: TagConfig[] = [];
  let at = 0;
  for (const order of ORDERS) {
    for (const [type, value] of TYPED) {
      const name = `${type}_${order}`;
      sim.setValue(`HR${at}`, value, { type, order });
      tags.push(tag(name, `HR${at}`, type, { order }));
      at += 4;
    }
  }
  sim.setValue("HR200", "BOILER-1", { type: "string", length: 5 });
  tags.push(tag("name", "HR200", "string", { length: 5 }));
  sim.setBit("C7", true);
  sim.setBit("DI3", true);
  sim.setValue("IR9", 77, { type: "int16" });
  sim.setRegister("HR300", 0b1000_0000_0000_0100);
  tags.push(tag("coil", "C7", "bool"), tag("di", "DI3", "bool"), tag("ir", "IR9", "int16"));
  tags.push(
    tag("bit2", "HR300.2", "bool"),
    tag("bit15", "HR300.15", "bool"),
    tag("bit3", "HR300.3", "bool"),
  );
  await using drv = await connected(device(sim.port, tags));
  const plan = drv.plan(tags);
  const expected = [
    ...ORDERS.flatMap(() => TYPED.map(([, v]) => v)),
    "BOILER-1",
    true,
    true,
    77,
    true,
    true,
    false,
  ];
  assertEquals(values(await drv.read(plan, signal())), expected);
  assertEquals(await readIntoValues(drv, plan), { values: expected, calls: expected.length });
});

Deno.test("write() encodes each type with FC5, FC6, FC16 and FC22", async () => {
  await using sim = await startModbusSimulator();
  await using drv = await connected(device(sim.port, [], { order: "CDAB" }));
  for (const [i, [type, value]] of TYPED.entries()) {
    await drv.write(tag(type, `HR${i * 4}`, type), value, signal());
    assertEquals(sim.getValue(`HR${i * 4}`, { type, order: "CDAB" }), value);
  }
  await drv.write(tag("s", "HR100", "string", { length: 3 }), "abc", signal());
  assertEquals(sim.getRegisters("HR100", 3), [0x6162, 0x6300, 0]);
  await drv.write(tag("c", "C4", "bool"), true, signal());
  assertEquals(sim.getValue("C4"), true);
  sim.setRegister("HR50", 0xff00);
  await drv.write(tag("b", "HR50.1", "bool"), true, signal());
  await drv.write(tag("b", "HR50.9", "bool"), false, signal());
  assertEquals(sim.getRegisters("HR50", 1), [0xfd02]);
});

Deno.test("write() falls back to read-modify-write when FC22 is not supported", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.exception({ fc: 22, code: 1 });
  sim.setRegister("HR5", 0x0100);
  await using drv = await connected(device(sim.port, []));
  await drv.write(tag("b", "HR5.0", "bool"), 1, signal());
  assertEquals(sim.getRegisters("HR5", 1), [0x0101]);
});

Deno.test("write() rejects read-only tables and values that do not fit", async () => {
  await using sim = await startModbusSimulator();
  await using drv = await connected(device(sim.port, []));
  const ro = await assertRejects(
    () => drv.write(tag("x", "IR1", "int16"), 1, signal()),
    BifrostError,
    "IR is a read-only table",
  );
  assertEquals((ro as BifrostError).code, "WRITE_REJECTED");
  await assertRejects(
    () => drv.write(tag("p", "HR1", "int16"), 40000, signal()),
    BifrostError,
    'Cannot write 40000 to "p" on "boiler-plc": int16 holds -32768..32767',
  );
});

Deno.test("an exception fails only the tags of its request", async () => {
  await using sim = await startModbusSimulator();
  sim.setValue("HR0", 21, { type: "int16" });
  sim.setValue("HR100", 5, { type: "int16" });
  sim.faults.exception({ table: "HR", start: 100, count: 10, code: 2 });
  const tags = [
    tag("ok", "HR0", "int16"),
    tag("bad1", "HR100", "int16"),
    tag("bad2", "HR109", "int16"),
  ];
  await using drv = await connected(device(sim.port, tags, { maxGap: 0 }));
  const plan = drv.plan(tags);
  assertEquals(plan.describe(), [
    "FC3 HR0 (1 reg) unit 1: ok",
    "FC3 HR100 (1 reg) unit 1: bad1",
    "FC3 HR109 (1 reg) unit 1: bad2",
  ]);
  const rs = await drv.read(plan, signal());
  assertEquals(values(rs), [21, "bad: DEVICE_EXCEPTION", "bad: DEVICE_EXCEPTION"]);
  assertEquals(await readIntoValues(drv, plan), { values: values(rs), calls: 3 });
  const r1 = rs[1]!;
  assertEquals(
    r1.ok ? "" : r1.error.message,
    'Cannot read HR100 on "boiler-plc": Illegal data address (Modbus exception 2)',
  );
  assertEquals(
    r1.ok ? {} : r1.error.details,
    { protocol: "modbus", code: 2, name: "ILLEGAL_DATA_ADDRESS" },
  );
});

Deno.test("an exception message names the whole range of a coalesced request", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.exception({ table: "HR", start: 100, count: 10, code: 6 });
  const tags = [
    tag("a", "HR100", "float32"),
    tag("b", "HR108", "int16", {}),
    tag("c", "HR109", "int16"),
  ];
  await using drv = await connected(device(sim.port, tags));
  const [r] = await drv.read(drv.plan(tags), signal());
  assertEquals(
    r!.ok ? "" : r!.error.message,
    'Cannot read HR100..HR109 on "boiler-plc": Server device busy (Modbus exception 6)',
  );
});

Deno.test("a lost connection fails read() with NOT_CONNECTED", async () => {
  await using sim = await startModbusSimulator();
  const tags = [tag("a", "HR0", "int16")];
  await using drv = await connected(device(sim.port, tags));
  const plan = drv.plan(tags);
  assertEquals(values(await drv.read(plan, signal())), [0]);
  sim.faults.dropNext = Infinity;
  const pending = drv.read(plan, signal());
  sim.faults.disconnectClients();
  const e = await assertRejects(
    () => pending,
    BifrostError,
    'Cannot read HR0 on "boiler-plc": Lost the connection',
  );
  assertEquals((e as BifrostError).code, "NOT_CONNECTED");
  const again = await assertRejects(() => drv.read(plan, signal()), BifrostError, "not connected");
  assertEquals((again as BifrostError).code, "NOT_CONNECTED");
});

Deno.test("connect() works again after the simulator restarts on the same port", async () => {
  const tags = [tag("a", "HR0", "int16")];
  let sim = await startModbusSimulator({ units: { 1: { HR0: { type: "int16", value: 1 } } } });
  const port = sim.port;
  await using drv = await connected(device(port, tags));
  const plan = drv.plan(tags);
  assertEquals(values(await drv.read(plan, signal())), [1]);
  await sim.close();
  await assertRejects(() => drv.read(plan, signal()), BifrostError, "");
  const refused = await assertRejects(
    () => drv.connect(signal()),
    BifrostError,
    `Cannot connect to 127.0.0.1:${port}`,
  );
  assertEquals((refused as BifrostError).code, "DEVICE_UNREACHABLE");
  sim = await startModbusSimulator({ port, units: { 1: { HR0: { type: "int16", value: 2 } } } });
  try {
    await drv.connect(signal());
    assertEquals(values(await drv.read(plan, signal())), [2]);
  } finally {
    await sim.close();
  }
});

Deno.test("a dropped request times out with TIMEOUT and the next one succeeds", async () => {
  await using sim = await startModbusSimulator();
  sim.setValue("HR0", 9, { type: "int16" });
  const tags = [tag("a", "HR0", "int16")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms", retries: 0 }));
  const plan = drv.plan(tags);
  sim.faults.drop(1);
  const e = await assertRejects(() => drv.read(plan, signal()), BifrostError, "within 100 ms");
  assertEquals((e as BifrostError).code, "TIMEOUT");
  assertEquals(values(await drv.read(plan, signal())), [9]);
  assertEquals(drv.client!.stats.timeouts, 1);
});

Deno.test("a timeout of one request marks only its tags bad", async () => {
  await using sim = await startModbusSimulator();
  const tags = [tag("a", "HR0", "int16"), tag("c", "C0", "bool")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms", retries: 0 }));
  sim.faults.drop(1);
  assertEquals(values(await drv.read(drv.plan(tags), signal())), ["bad: TIMEOUT", false]);
  sim.faults.drop(1);
  assertEquals(await readIntoValues(drv, drv.plan(tags)), {
    values: ["bad: TIMEOUT", false],
    calls: 2,
  });
});

Deno.test("a wrong transaction id or a malformed answer marks the tags bad saying what arrived, counted apart from timeouts", async () => {
  await using sim = await startModbusSimulator();
  const tags = [tag("a", "HR0", "int16")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms", retries: 0 }));
  const plan = drv.plan(tags);
  const reason = async () => {
    const [r] = await drv.read(plan, signal());
    assert(r && !r.ok);
    assertEquals(r.error.code, "PROTOCOL_ERROR");
    return r.error.message;
  };
  sim.faults.wrongTransactionId(1);
  assertMatch(
    await reason(),
    /^Cannot read HR0 on "boiler-plc": Malformed response from 127\.0\.0\.1:\d+ within 100 ms: transaction id \d+, expected \d+$/,
  );
  assertEquals(drv.client!.stats.dropped, 1);
  sim.faults.malformed(1);
  assertMatch(
    await reason(),
    /: function code 0x03 with byte count 3 in a 4-byte PDU, expected byte count 2$/,
  );
  sim.faults.truncated(1);
  assertMatch(await reason(), /: truncated response: 9 of 11 bytes$/);
  const s = drv.client!.stats;
  assertEquals([s.malformed >= 2, s.malformedAnswers, s.timeouts], [true, 3, 0]);
  assertEquals(values(await drv.read(plan, signal())), [0]);
});

Deno.test("a malformed answer is retried like a timeout", async () => {
  await using sim = await startModbusSimulator();
  const tags = [tag("a", "HR0", "int16")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms", retries: 1 }));
  sim.faults.malformed(1);
  assertEquals(values(await drv.read(drv.plan(tags), signal())), [0]);
  assertEquals(drv.client!.stats.malformedAnswers, 1);
});

Deno.test("maxInFlight pipelines requests and matches answers by transaction id", async () => {
  await using sim = await startModbusSimulator();
  const tags = Array.from({ length: 20 }, (_, i) => tag(`t${i}`, `HR${i * 200}`, "uint16"));
  tags.forEach((t, i) => sim.setRegister(t.address, 1000 + i));
  await using drv = await connected(
    device(sim.port, tags, { maxInFlight: 4, pipelining: true }),
  );
  assertEquals(drv.maxInFlight, 4);
  const plan = drv.plan(tags);
  assertEquals(plan.requests.length, 20);
  const all = await Promise.all([drv.read(plan, signal()), drv.read(plan, signal())]);
  for (const rs of all) assertEquals(values(rs), tags.map((_, i) => 1000 + i));
  assertEquals(drv.client!.stats.dropped, 0);
});

Deno.test("simulate() serves the device's tags from its simulator block", async () => {
  const tags = [
    tag("temp1", "HR0", "float32"),
    tag("flow", "IR0", "uint32", { order: "CDAB" }),
    tag("burner-on", "C0", "bool"),
    tag("setpoint", "HR10", "float32"),
    tag("idle", "HR20", "int16"),
  ];
  const d = device(0, tags);
  d.simulator = {
    temp1: { generator: "sine", min: 60, max: 80, period: "30s" },
    flow: { generator: "constant", value: 123456 },
    "burner-on": { generator: "square", period: "20s" },
    setpoint: { generator: "constant", value: 70 },
  };
  const virtual = await modbusTcp.simulate!(d);
  try {
    assertEquals(virtual.connection.host, "127.0.0.1");
    d.config = { ...d.config, ...virtual.connection };
    await using drv = await connected(d);
    const [temp1, ...rest] = values(await drv.read(drv.plan(tags), signal()));
    assertEquals(typeof temp1 === "number" && temp1 >= 60 && temp1 <= 80, true);
    assertEquals(rest, [123456, true, 70, 0]);
  } finally {
    await virtual.close();
  }
});

Deno.test("a read that timed out is retried once by default, and a busy answer after a wait", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 11 } } },
    updateMs: 0,
  });
  const tags = [tag("a", "HR0", "uint16")];
  await using drv = await connected(device(sim.port, tags, { timeout: "100ms" }));
  sim.faults.drop(1);
  assertEquals(values(await drv.read(drv.plan(tags), signal())), [11]);
  await using busy = await connected(
    device(sim.port, tags, { busyRetries: 2, busyRetryWait: "20ms" }),
  );
  const remove = sim.faults.exception({ code: 6, table: "HR", start: 0, count: 1 });
  setTimeout(remove, 30);
  assertEquals(values(await busy.read(busy.plan(tags), signal())), [11]);
  sim.faults.exception({ code: 6, table: "HR", start: 0, count: 1 });
  assertEquals(values(await drv.read(drv.plan(tags), signal())), ["bad: DEVICE_EXCEPTION"]);
});
