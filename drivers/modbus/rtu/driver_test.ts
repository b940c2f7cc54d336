import assert from "node:assert/strict";
import {
  type DeviceConfig,
  isBifrostError,
  nullLogger,
  systemClock,
  type TagConfig,
  type TagResult,
} from "../../../engine/plugin.ts";
import { startRtuSimulator } from "../simulator/rtu_server.ts";
import { openLines } from "./bus_registry.ts";
import { modbusRtu, modbusRtuTcp, parseModbusUrl } from "../mod.ts";
import type { ModbusRtuTcpDriver } from "./driver.ts";

// The clients load on first use (`load()`), as in a gateway.
await modbusRtu.load?.();
await modbusRtuTcp.load?.();

const ctx = { log: nullLogger, clock: systemClock };
const signal = () => AbortSignal.timeout(5000);
const values = (rs: TagResult[]) => rs.map((r) => (r.ok ? r.value : `bad: ${r.error.code}`));

function tag(name: string, address: string, type: string, extra = {}): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

function device(port: number, unitId: number, tags: TagConfig[], extra = {}): DeviceConfig {
  return {
    name: `slave-${unitId}`,
    driver: "modbus-rtu-tcp",
    config: {
      host: "127.0.0.1",
      port,
      unitId,
      timeout: "150ms",
      turnaround: "10ms",
      retries: 0,
      ...extra,
    },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}

async function connected(d: DeviceConfig) {
  const drv = modbusRtuTcp.create(d, ctx) as ModbusRtuTcpDriver;
  await drv.connect(signal());
  return Object.assign(drv, { [Symbol.asyncDispose]: () => drv.close() });
}

Deno.test("modbus-rtu-tcp reads and writes every type through the RTU simulator", async () => {
  await using sim = await startRtuSimulator({ tcpPort: 0, units: { 1: {}, 2: {} } });
  sim.setValue("HR0", -2.5, { type: "float32", order: "CDAB" });
  sim.setValue("HR2", -1234567890123n, { type: "int64" });
  sim.setValue("HR10", "RTU", { type: "string", length: 2 });
  sim.setBit("C4", true);
  sim.setRegisters("IR0", [7, 8, 9], 2);
  const tags = [
    tag("f", "HR0", "float32", { order: "CDAB" }),
    tag("big", "HR2", "int64"),
    tag("name", "HR10", "string", { length: 2 }),
    tag("coil", "C4", "bool"),
    tag("bit", "HR20.3", "bool"),
  ];
  await using d1 = await connected(device(sim.port, 1, tags));
  const ir = [tag("ir", "IR0", "uint16", { count: 3 })];
  await using d2 = await connected(device(sim.port, 2, ir));
  assert.deepEqual(openLines()[`127.0.0.1:${sim.port}`], 2, "both slaves share one line");
  assert.deepEqual(values(await d1.read(d1.plan(tags), signal())), [
    -2.5,
    -1234567890123n,
    "RTU",
    true,
    false,
  ]);
  assert.deepEqual(values(await d2.read(d2.plan(ir), signal())), [[7, 8, 9]]);
  const got: unknown[] = [];
  await d1.readInto(d1.plan(tags), signal(), {
    value: (i, v) => void (got[i] = v),
    fail: (i, e) => void (got[i] = e.code),
  });
  assert.deepEqual(got, [-2.5, -1234567890123n, "RTU", true, false], "readInto() is inherited");
  await d1.write(tags[0]!, 42.25, signal());
  await d1.write(tags[4]!, true, signal());
  await d1.write(tags[3]!, false, signal());
  assert.equal(sim.getValue("HR0", { type: "float32", order: "CDAB" }), 42.25);
  assert.equal(sim.getRegisters("HR20", 1)[0], 8);
  assert.equal(sim.getValue("C4", { type: "bool" }), false);
  const slaves = d1.busStats!.slaves.map((s) => [s.unitId, s.breaker]);
  assert.deepEqual(slaves, [[1, "closed"], [2, "closed"]]);
});

Deno.test("a silent slave's breaker opens, fails fast, and closes when a probe is answered", async () => {
  await using sim = await startRtuSimulator({ tcpPort: 0, units: { 1: {}, 3: {} } });
  sim.setRegister("HR0", 33, 3);
  const t = [tag("v", "HR0", "uint16")];
  await using d3 = await connected(device(sim.port, 3, t, { probeInterval: "300ms" }));
  const plan = d3.plan(t);
  sim.faults.silence(3);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(d3.read(plan, signal()), (e) => isBifrostError(e, "TIMEOUT"));
  }
  const started = performance.now();
  const [r] = await d3.read(plan, signal());
  assert.ok(!r!.ok && r!.error.code === "DEVICE_UNREACHABLE");
  assert.match(
    r!.error.message,
    /Cannot read HR0 on "slave-3": .*breaker is open after 3 timeouts/,
  );
  // Failing fast: far below the 150 ms timeout (a generous bound, not a benchmark).
  assert.ok(performance.now() - started < 100);
  sim.faults.silence(3, false);
  let value: unknown;
  for (let i = 0; i < 50 && value === undefined; i++) {
    await new Promise((res) => setTimeout(res, 50));
    const [x] = await d3.read(plan, signal());
    if (x!.ok) value = x!.value;
  }
  assert.equal(value, 33);
  const s = d3.busStats!.slaves.find((x) => x.unitId === 3)!;
  assert.equal(s.breaker, "closed");
  assert.equal(s.opened, 1);
  assert.ok(s.rejected >= 1);
});

Deno.test("broadcast writes reach every unit; unit 0 cannot be read", async () => {
  await using sim = await startRtuSimulator({ tcpPort: 0, units: { 1: {}, 2: {} } });
  const t = tag("setpoint", "HR5", "int16");
  await using all = await connected(device(sim.port, 0, [t]));
  await all.write(t, -7, signal());
  // The next request on the line is answered after the broadcast was applied.
  await using d1 = await connected(device(sim.port, 1, [t]));
  assert.deepEqual(values(await d1.read(d1.plan([t]), signal())), [-7]);
  assert.equal(sim.getValue("HR5", { type: "int16", unitId: 2 }), -7);
  assert.equal(sim.stats.broadcasts, 1);
  assert.throws(() => all.plan([t]), /unitId 0 is the broadcast address/);
  const readOnly = { ...t, writable: false };
  const issues = modbusRtuTcp.validate!(device(sim.port, 0, [readOnly]));
  assert.deepEqual(issues.map((i) => i.path), [["tags", "setpoint"]]);
});

Deno.test("modbus-rtu validates like modbus-tcp and reports an unreachable port", async () => {
  const d: DeviceConfig = {
    name: "meter",
    driver: "modbus-rtu",
    config: { port: "/nonexistent/ttyUSB9", timeout: "100ms" },
    tags: new Map([["bad", tag("bad", "HX1", "int16")], ["ok", tag("ok", "IR0", "float32")]]),
  };
  assert.deepEqual(modbusRtu.validate!(d).map((i) => i.path), [["tags", "bad", "address"]]);
  // 9600 baud, one FC4 of 2 registers: 8 + 9 bytes at 1.15 ms, two t3.5, 5 ms latency.
  assert.equal(modbusRtu.minIntervalMs!(d, [d.tags.get("ok")!]), 33);
  const drv = modbusRtu.create(d, ctx);
  await assert.rejects(drv.connect(signal()), (e) => isBifrostError(e, "DEVICE_UNREACHABLE"));
});

Deno.test("parseModbusUrl() reads modbus-rtu and modbus-rtu-tcp URLs", () => {
  const rtu = parseModbusUrl("modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even/1/HR0:float32");
  assert.equal(rtu.device.driver, "modbus-rtu");
  assert.deepEqual(rtu.device.config, {
    port: "/dev/ttyUSB0",
    unitId: 1,
    baudRate: 19200,
    parity: "even",
  });
  assert.equal(rtu.tag.type, "float32");
  const same = parseModbusUrl("modbus-rtu:///dev/serial/by-id/x/7/C3?baud=9600");
  assert.deepEqual(same.device.config, { port: "/dev/serial/by-id/x", unitId: 7, baudRate: 9600 });
  const tcp = parseModbusUrl("modbus-rtu-tcp://gw:4001/1/HR0");
  assert.equal(tcp.device.driver, "modbus-rtu-tcp");
  assert.deepEqual(tcp.device.config, { host: "gw", port: 4001, unitId: 1 });
  for (
    const [url, msg] of [
      ["modbus-rtu:///dev/ttyUSB0/HR0", "a device path, a unit and an address"],
      ["modbus-rtu-tcp://gw/1/HR0", "needs the port of the device server"],
      ["modbus-rtu:///dev/ttyUSB0/0/HR0", "unit 0 is the broadcast address"],
      ["modbus-rtu:///dev/ttyUSB0/1/HR0?parity=mark", "parity must be even, odd or none"],
      ["modbus-rtu:///dev/ttyUSB0/250/HR0", "unit id must be 0..247"],
    ]
  ) {
    assert.throws(
      () => parseModbusUrl(url!),
      (e) => isBifrostError(e, "CONFIG_INVALID") && e.message.includes(msg!),
    );
  }
});
