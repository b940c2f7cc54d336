/**
 * @module
 * The engine's device lifecycle against the real Modbus simulator over TCP: first reads wait
 * for the connection, a silent device gets a fresh connection after three all-timeout reads,
 * a refused connection backs off, writes go through the tag's inverted scaling, reads are timed.
 */

import { assert, assertEquals, assertMatch, assertRejects, waitFor } from "../../tests/_assert.ts";
import { modbusTcp } from "../../drivers/modbus/mod.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { systemClock } from "../clock.ts";
import type { DeviceConfig, TagConfig } from "../driver.ts";
import { createLogger, nullLogger } from "../log.ts";
import { DeviceRuntime } from "./device.ts";

function device(port: number, tags: TagConfig[], timeout = "100ms"): DeviceConfig {
  return {
    name: "plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, unitId: 1, timeout, retries: 0 },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}

const level: TagConfig = {
  name: "level",
  address: "HR0",
  type: "uint16",
  writable: true,
  config: { address: "HR0", type: "uint16" },
};

Deno.test("DeviceRuntime: a read during the first connect waits for it instead of failing", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 5 } } },
  });
  const rt = new DeviceRuntime(device(sim.port, [level]), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
  });
  rt.start();
  try {
    const [r] = await rt.read(rt.plan([level]));
    assertEquals(r?.ok && r.value, 5);
  } finally {
    await rt.stop();
  }
});

Deno.test("DeviceRuntime: a device that stops answering gets a fresh connection", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 5 } } },
  });
  const rt = new DeviceRuntime(device(sim.port, [level]), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
    backoff: { baseMs: 10, maxMs: 50 },
  });
  rt.start();
  try {
    await rt.whenConnected();
    const plan = rt.plan([level]);
    sim.faults.dropNext = 3;
    for (let i = 0; i < 3; i++) {
      const [r] = await rt.read(plan);
      assert(r && !r.ok);
      assertEquals(r.error.code, "TIMEOUT");
    }
    await waitFor(() => rt.health().connects === 2, 5000, "a second connection");
    const [r] = await rt.read(plan);
    assertEquals(r?.ok && r.value, 5);
  } finally {
    await rt.stop();
  }
});

Deno.test("DeviceRuntime: a device that accepts but never answers is logged once as not answering, then once when it answers", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 5 } } },
  });
  const lines: { level: string; msg: string; error?: string }[] = [];
  const log = createLogger({ json: true, level: "info", write: (l) => lines.push(JSON.parse(l)) });
  const rt = new DeviceRuntime(device(sim.port, [level], "30ms"), modbusTcp, {
    log,
    clock: systemClock,
    backoff: { baseMs: 10, maxMs: 50 },
  });
  sim.faults.silentUnits.add(1); // the port accepts; unit 1 never answers
  rt.start();
  try {
    const plan = rt.plan([level]);
    // A poll every 5 ms, which also lets the reconnections run between reads.
    const poll = () => new Promise((r) => setTimeout(r, 5));
    // Five connections: four reconnect cycles of three unanswered reads each.
    while (rt.health().connects < 5) {
      await poll();
      const [r] = await rt.read(plan);
      assert(r && !r.ok);
      // The tag stays bad with the reason: the timeout, or no connection between two.
      assertMatch(r.error.message, /No answer from 127\.0\.0\.1:\d+ within 30 ms|not connected/);
    }
    assertEquals(rt.health().answering, false);
    assert(rt.health().timeouts >= 12, `timeouts counted: ${rt.health().timeouts}`);
    sim.faults.silentUnits.delete(1);
    for (;;) {
      await poll();
      const [r] = await rt.read(plan);
      if (r?.ok) break;
    }
    assertEquals(rt.health().answering, true);
  } finally {
    await rt.stop();
  }
  assertEquals(lines.map((l) => `${l.level} ${l.msg.replace(/[\d.]+ s$/, "N s")}`), [
    "info Device connected",
    "warn Device connected, not answering; reconnecting quietly until it answers",
    "info Device answering again after N s",
  ]);
  assertMatch(lines[1]!.error ?? "", /No answer from 127\.0\.0\.1:\d+ within 30 ms$/);
});

Deno.test("DeviceRuntime: a refused connection reports bad reads with the reason and backs off", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const rt = new DeviceRuntime(device(port, [level]), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
    backoff: { baseMs: 20, maxMs: 40 },
  });
  rt.start();
  try {
    const [r] = await rt.read(rt.plan([level]));
    assert(r && !r.ok);
    assertEquals(r.error.code, "NOT_CONNECTED");
    assertMatch(r.error.message, /Cannot read "plc": device not connected/);
    await waitFor(() => rt.health().connectFailures >= 3, 5000, "retries");
    assertEquals(rt.health().state === "connected", false);
  } finally {
    await rt.stop();
  }
  assertEquals(rt.health().state, "closed");
});

Deno.test("DeviceRuntime: writes send the raw value behind a scaled tag, and refuse read-only tags", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 0 } } },
  });
  const pressure: TagConfig = { ...level, name: "pressure", type: "int16", scale: { gain: 0.01 } };
  const rt = new DeviceRuntime(device(sim.port, [pressure]), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
  });
  rt.start();
  try {
    await rt.whenConnected();
    await rt.write(pressure, 2.15);
    assertEquals(sim.getValue("HR0", { type: "int16" }), 215);
    await assertRejects(
      () => rt.write({ ...pressure, writable: false }, 1),
      /not writable \(set writable: true in the flow\)/,
    );
  } finally {
    await rt.stop();
  }
});

Deno.test("DeviceRuntime: a loss whose reconnects are refused logs one warning and one recovery", async () => {
  const sim = await startModbusSimulator({ units: { 1: { HR0: { type: "uint16", value: 5 } } } });
  const port = sim.port;
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger({ level: "info", json: true, write: (l) => lines.push(JSON.parse(l)) });
  const rt = new DeviceRuntime(device(port, [level]), modbusTcp, {
    log,
    clock: systemClock,
    backoff: { baseMs: 10, maxMs: 20 },
  });
  rt.start();
  try {
    await rt.whenConnected();
    const plan = rt.plan([level]);
    // An answer ends the new connection's probation: what follows is the loss of a made one.
    assertEquals((await rt.read(plan))[0]?.ok, true);
    const before = lines.length;
    await sim.close();
    await rt.read(plan);
    await waitFor(() => rt.health().connectFailures >= 3, 5000, "refused reconnects");
    await using _again = await startModbusSimulator({
      port,
      units: { 1: { HR0: { type: "uint16", value: 6 } } },
    });
    await waitFor(() => rt.health().state === "connected", 5000, "the recovery");
    const [r] = await rt.read(plan);
    assertEquals(r?.ok && r.value, 6);
    assertEquals(lines.slice(before).map((l) => `${l.level}: ${l.msg}`), [
      "warn: Device connection lost; reconnecting",
      "info: Device connected after retrying",
    ]);
  } finally {
    await rt.stop();
  }
});

Deno.test("DeviceRuntime: every read that reaches the driver is timed in the latency histogram", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "uint16", value: 5 } } },
  });
  const rt = new DeviceRuntime(device(sim.port, [level], "2s"), modbusTcp, {
    log: nullLogger,
    clock: systemClock,
  });
  rt.start();
  try {
    await rt.whenConnected();
    const plan = rt.plan([level]);
    await rt.read(plan);
    sim.faults.delayMs = 60;
    await rt.read(plan);
    const h = rt.readLatency;
    assertEquals(h.count, 2);
    assertEquals(h.count, rt.health().reads);
    // The delayed answer took more than 50 ms: it is past the 50 ms bucket.
    const le50 = h.cumulative()[[...h.bounds].indexOf(50)]!;
    assertEquals(le50, 1);
    assert(h.sum >= 60, `sum ${h.sum}`);
  } finally {
    await rt.stop();
  }
});
