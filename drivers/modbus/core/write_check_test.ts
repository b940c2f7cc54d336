/**
 * @module
 * Writes are checked before they leave: against the tag's type, count and declared range,
 * through the driver and through the engine's `DeviceRuntime`, against the simulator (a
 * refused write leaves the register as it was).
 */

import type { DeviceConfig, TagConfig } from "../../../engine/driver.ts";
import { systemClock } from "../../../engine/clock.ts";
import { BifrostError } from "../../../engine/errors.ts";
import { nullLogger } from "../../../engine/log.ts";
import type { Value } from "../../../engine/record.ts";
import { DeviceRuntime } from "../../../engine/runtime/device.ts";
import { startModbusSimulator } from "../simulator/server.ts";
import { assertEquals, assertRejects } from "../_test_assert.ts";
import { modbusTcp } from "../mod.ts";
import type { ModbusTcpDriver } from "../tcp/driver.ts";
import { valueIssue } from "./values.ts";

const signal = () => AbortSignal.timeout(5000);

function tag(name: string, address: string, type: string, extra: Record<string, unknown> = {}) {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

function device(port: number, tags: TagConfig[]): DeviceConfig {
  return {
    name: "boiler-plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, timeout: "500ms" },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}

Deno.test("valueIssue() names what each type holds", () => {
  assertEquals(valueIssue(1e300, "float32"), "float32 holds at most 3.4028235e+38");
  assertEquals(valueIssue(-1e39, "float32"), "float32 holds at least -3.4028235e+38");
  assertEquals(valueIssue(3.4028234663852886e38, "float32"), undefined);
  assertEquals(valueIssue(Infinity, "float64"), "float64 holds finite numbers only");
  assertEquals(valueIssue(NaN, "float32"), "float32 holds finite numbers only");
  assertEquals(valueIssue(1e300, "float64"), undefined);
  assertEquals(valueIssue(-32769, "int16"), "int16 holds -32768..32767");
  assertEquals(valueIssue(-32768, "int16"), undefined);
  assertEquals(valueIssue(65536, "uint16"), "uint16 holds 0..65535");
  assertEquals(valueIssue(2.5, "int32"), "int32 holds whole numbers only");
  assertEquals(valueIssue(-1, "uint32"), "uint32 holds 0..4294967295");
  assertEquals(
    valueIssue(2n ** 63n, "int64"),
    "int64 holds -9223372036854775808..9223372036854775807",
  );
  assertEquals(valueIssue(2n ** 64n - 1n, "uint64"), undefined);
  assertEquals(valueIssue(-1n, "uint64"), "uint64 holds 0..18446744073709551615");
  assertEquals(valueIssue("hot", "float32"), "float32 takes a number");
  assertEquals(valueIssue(2, "bool"), "bool takes true, false, 0 or 1");
  assertEquals(
    valueIssue("abcde", "string", 2),
    "a string of 2 registers holds at most 4 bytes, this is 5",
  );
  assertEquals(valueIssue("abcd", "string", 2), undefined);
  assertEquals(valueIssue(7, "string", 2), "a string tag takes text");
});

Deno.test("a float32 write of 1e300 is refused and the register keeps its old value", async () => {
  await using sim = await startModbusSimulator();
  sim.setValue("HR0", 21.5, { type: "float32" });
  const setpoint = tag("setpoint", "HR0", "float32");
  const drv = modbusTcp.create(device(sim.port, [setpoint]), {
    log: nullLogger,
    clock: systemClock,
  }) as ModbusTcpDriver;
  await drv.connect(signal());
  try {
    const before = sim.stats.requests;
    const e = await assertRejects(
      () => drv.write(setpoint, 1e300, signal()),
      BifrostError,
      'Cannot write 1e+300 to "setpoint" on "boiler-plc": float32 holds at most 3.4028235e+38',
    );
    assertEquals((e as BifrostError).code, "WRITE_REJECTED");
    assertEquals(sim.stats.requests, before, "nothing was sent");
    assertEquals(sim.getValue("HR0", { type: "float32" }), 21.5);
  } finally {
    await drv.close();
  }
});

Deno.test("every kind of value that does not fit is refused before it is sent", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegisters("HR10", [7, 7, 7, 7]);
  const cases: [TagConfig, Value, string][] = [
    [tag("i", "HR10", "int16"), 32768, 'Cannot write 32768 to "i" on "boiler-plc": int16 holds'],
    [tag("u", "HR10", "uint32"), -1, 'Cannot write -1 to "u" on "boiler-plc": uint32 holds'],
    [tag("b", "HR10", "int64"), 2n ** 63n, "int64 holds -9223372036854775808..9223372036854775807"],
    [tag("d", "HR10", "float64"), Infinity, "float64 holds finite numbers only"],
    [tag("s", "HR10", "string", { length: 1 }), "abc", "at most 2 bytes, this is 3"],
    [tag("c", "C3", "bool"), 2, 'Cannot write 2 to "c" on "boiler-plc": bool takes'],
    [tag("x", "HR10.1", "bool"), "on", "bool takes true, false, 0 or 1"],
    [
      tag("a", "HR10", "int16", { count: 2 }),
      [1, 99999],
      'Cannot write 99999 at index 1 to "a" on "boiler-plc": int16 holds -32768..32767',
    ],
    [tag("a", "HR10", "int16", { count: 2 }), [1], "the tag holds 2 (count 2), give exactly 2"],
  ];
  const drv = modbusTcp.create(device(sim.port, cases.map((c) => c[0])), {
    log: nullLogger,
    clock: systemClock,
  }) as ModbusTcpDriver;
  await drv.connect(signal());
  try {
    const before = sim.stats.requests;
    for (const [t, v, message] of cases) {
      const e = await assertRejects(() => drv.write(t, v, signal()), BifrostError, message);
      assertEquals((e as BifrostError).code, "WRITE_REJECTED");
    }
    assertEquals(sim.stats.requests, before, "nothing was sent");
    assertEquals(sim.getRegisters("HR10", 4), [7, 7, 7, 7]);
    assertEquals(sim.getValue("C3"), false);
  } finally {
    await drv.close();
  }
});

Deno.test("DeviceRuntime refuses a write outside the tag's min/max in engineering units", async () => {
  await using sim = await startModbusSimulator();
  sim.setValue("HR4", 500, { type: "int16" });
  // eng = raw * 0.1: the tag takes 0..120 (°C), raw 0..1200.
  const sp = tag("setpoint", "HR4", "int16", { min: 0, max: 120, scale: { gain: 0.1 } });
  const t = { ...sp, scale: { gain: 0.1 } };
  const rt = new DeviceRuntime(device(sim.port, [t]), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
  });
  rt.start();
  try {
    await rt.whenConnected();
    const e = await assertRejects(
      () => rt.write(t, 150),
      BifrostError,
      'Cannot write 150 (raw 1500) to "setpoint" on "boiler-plc": the tag takes 0..120',
    );
    assertEquals((e as BifrostError).code, "WRITE_REJECTED");
    await assertRejects(() => rt.write(t, -0.5), BifrostError, "the tag takes 0..120");
    await assertRejects(
      () => rt.write(t, 1e300),
      BifrostError,
      'Cannot write 1e+300 (raw 1e+301) to "setpoint" on "boiler-plc": int16 holds -32768..32767',
    );
    assertEquals(sim.getValue("HR4", { type: "int16" }), 500);
    await rt.write(t, 120);
    assertEquals(sim.getValue("HR4", { type: "int16" }), 1200);
  } finally {
    await rt.stop();
  }
});
