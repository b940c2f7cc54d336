/**
 * @module
 * A poll turns a driver's outcomes into one batch: against the real Modbus simulator through
 * `readInto` (scaling applied, sequence numbers consecutive), and through a driver that only
 * has `read` (the contract's older path), where a tag the driver says nothing about comes out
 * bad with the reason instead of disappearing.
 */

import { Type } from "@sinclair/typebox";
import { assert, assertEquals } from "../../tests/_assert.ts";
import { modbusTcp } from "../../drivers/modbus/mod.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { ManualClock, systemClock } from "../clock.ts";
import type { DeviceConfig, Driver, DriverModule, ReadPlan, TagConfig } from "../driver.ts";
import { BifrostError } from "../errors.ts";
import type { PollConfig } from "../flow/types.ts";
import { nullLogger } from "../log.ts";
import { Quality, SequenceCounter } from "../record.ts";
import { DeviceRuntime, type DeviceRuntimeOptions } from "./device.ts";
import { PollRunner } from "./poll.ts";

function pollOf(device: string): PollConfig {
  return {
    name: "p",
    device,
    tags: "*",
    everyMs: 1000,
    origin: { file: "f.yaml", line: 1, column: 1 },
  };
}

function tag(name: string, address: string, type: string, extra: Partial<TagConfig> = {}) {
  return { name, address, type, writable: false, config: { address, type }, ...extra };
}

/** A started Modbus TCP device "plc" on a simulator port, and a poll of all its tags. */
function modbusPoll(port: number, tags: TagConfig[], o: Partial<DeviceRuntimeOptions> = {}) {
  const config: DeviceConfig = {
    name: "plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, timeout: "500ms" },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
  const device = new DeviceRuntime(config, modbusTcp, {
    log: nullLogger,
    clock: systemClock,
    ...o,
  });
  device.start();
  const poll = new PollRunner(pollOf("plc"), device, {
    log: nullLogger,
    clock: systemClock,
    seq: new SequenceCounter(1),
  });
  return { device, poll };
}

Deno.test("PollRunner: a Modbus poll reads every tag into one batch, scaled, numbered in order", async () => {
  await using sim = await startModbusSimulator({
    units: {
      1: {
        HR0: { type: "float32", value: 21.5 },
        HR2: { type: "int16", value: -40 },
        HR3: { type: "uint16", value: 250 },
      },
    },
  });
  const tags: TagConfig[] = [
    tag("temp", "HR0", "float32"),
    tag("offset", "HR2", "int16"),
    tag("level", "HR3", "uint16", { scale: { gain: 0.1, offset: 0 } }),
  ];
  const { device, poll } = modbusPoll(sim.port, tags);
  try {
    await device.whenConnected();
    const first = await poll.read();
    const second = await poll.read();
    assertEquals(first.toArray().map((r) => [r.device, r.tag, r.value, r.quality]), [
      ["plc", "temp", 21.5, "good"],
      ["plc", "offset", -40, "good"],
      ["plc", "level", 25, "good"],
    ]);
    // Records of a poll carry no reason and no object value: those columns stay empty.
    assertEquals([first.reason.length, first.obj.length], [0, 0]);
    assertEquals([...first.seq.subarray(0, 3)], [1000, 1001, 1002]);
    assertEquals([...second.seq.subarray(0, 3)], [1003, 1004, 1005]);
  } finally {
    await device.stop();
  }
});

for (const pollEveryMs of [1000, undefined]) {
  Deno.test(`PollRunner: a device that drops the connection between polls (pollEveryMs ${pollEveryMs})`, async () => {
    await using sim = await startModbusSimulator({
      units: { 1: { HR0: { type: "uint16", value: 7 } } },
    });
    const tags = [tag("a", "HR0", "uint16")];
    const { device, poll } = modbusPoll(sim.port, tags, {
      backoff: { baseMs: 20, maxMs: 20 },
      ...(pollEveryMs === undefined ? {} : { pollEveryMs }),
    });
    try {
      await device.whenConnected();
      const quality = async () => (await poll.read()).toArray().map((r) => [r.value, r.quality]);
      assertEquals(await quality(), [[7, "good"]]);
      const client = (device.driver as { client?: { reading: boolean } }).client!;
      // Polls every 5 s or faster keep no read pending between polls; slower ones (and a
      // device with no interval poll) do.
      assertEquals(client.reading, pollEveryMs === undefined);
      sim.faults.disconnectClients();
      await new Promise((r) => setTimeout(r, 100));
      if (pollEveryMs === undefined) {
        // The pending read saw the close; the device reconnected before the next poll.
        assertEquals(device.health().connects, 2);
        assertEquals(await quality(), [[7, "good"]]);
      } else {
        // The next poll finds the close: that poll is bad, the device reconnects at once.
        const lost = await poll.read();
        assertEquals(lost.toArray().map((r) => r.quality), ["bad"]);
        assert(/Lost the connection/.test(lost.reason[0] ?? ""), lost.reason[0]);
        for (let i = 0; i < 50 && device.health().state !== "connected"; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assertEquals(await quality(), [[7, "good"]]);
        assertEquals(device.health().connects, 2);
      }
    } finally {
      await device.stop();
    }
  });
}

/** A driver with only `read`, which answers for the first tag and fails the second. */
const partial: DriverModule = {
  name: "partial",
  description: "Answers some tags only (test).",
  status: "experimental",
  deviceSpec: Type.Object({}),
  tagSpec: Type.Object({}),
  create: (): Driver => ({
    maxInFlight: 1,
    connect: () => Promise.resolve(),
    close: () => Promise.resolve(),
    plan: (tags) => ({ tags, describe: () => [] }),
    read: (plan: ReadPlan) =>
      Promise.resolve(
        plan.tags.length < 2 ? [] : [
          { ok: true as const, value: 7 },
          {
            ok: false as const,
            error: new BifrostError("DEVICE_EXCEPTION", "Cannot read b: busy"),
          },
        ],
      ),
    write: () => Promise.resolve(),
  }),
  valueKind: () => "integer",
};

Deno.test("PollRunner: through a driver without readInto, unreported tags come out bad with the reason", async () => {
  const tags = [tag("a", "x", "uint16"), tag("b", "y", "uint16"), tag("c", "z", "uint16")];
  const clock = new ManualClock(5_000);
  const device = new DeviceRuntime(
    { name: "dev", driver: "partial", config: {}, tags: new Map(tags.map((t) => [t.name, t])) },
    partial,
    { log: nullLogger, clock },
  );
  device.start();
  try {
    await device.whenConnected();
    const poll = new PollRunner(pollOf("dev"), device, {
      log: nullLogger,
      clock,
      seq: new SequenceCounter(1),
    });
    const b = await poll.read();
    assertEquals(b.toArray().map((r) => [r.tag, r.value, r.quality, r.reason, r.sourceTs]), [
      ["a", 7, "good", undefined, 5_000],
      ["b", null, "bad", "Cannot read b: busy", 5_000],
      ["c", null, "bad", 'Driver returned no result for "c"', 5_000],
    ]);
    assert(b.quality.subarray(0, 3).every((q) => q <= Quality.bad), "no quality left unset");
  } finally {
    await device.stop();
  }
});
