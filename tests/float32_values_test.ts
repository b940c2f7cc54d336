/**
 * @module
 * A float32 register's value travels as the shortest decimal that reads back as the same
 * float32: read from the Modbus simulator through the engine's poll (scaling off) and
 * printed by the console sink and the MQTT and HTTP JSON encoders, it is `123.456`, never
 * `123.45600128173828`.
 */

import { assert, assertEquals } from "./_assert.ts";
import { modbusTcp } from "../drivers/modbus/mod.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { systemClock } from "../engine/clock.ts";
import type { DeviceConfig, TagConfig } from "../engine/driver.ts";
import { nullLogger } from "../engine/log.ts";
import { SequenceCounter } from "../engine/record.ts";
import { DeviceRuntime } from "../engine/runtime/device.ts";
import { PollRunner } from "../engine/runtime/poll.ts";
import { formatJson, formatText } from "../sinks/console/mod.ts";
import { recordJson } from "../sinks/http/encode.ts";
import { payload } from "../sinks/mqtt/format.ts";

function tag(name: string, address: string, order: string): TagConfig {
  const config = { address, type: "float32", order };
  return { name, address, type: "float32", writable: false, config, kind: "float" };
}

Deno.test("a float32 value reads and prints as the shortest decimal of that float32", async () => {
  await using sim = await startModbusSimulator({
    units: {
      1: {
        HR0: { type: "float32", value: 123.456 },
        HR2: { type: "float32", value: -0.1, order: "CDAB" },
      },
    },
  });
  const tags = [tag("temp", "HR0", "ABCD"), tag("delta", "HR2", "CDAB")];
  const device: DeviceConfig = {
    name: "plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port: sim.port, unitId: 1, timeout: "500ms" },
    tags: new Map(tags.map((t) => [t.name, t])),
  };
  const rt = new DeviceRuntime(device, modbusTcp, { log: nullLogger, clock: systemClock });
  rt.start();
  try {
    await rt.whenConnected();
    const poll = new PollRunner(
      {
        name: "p",
        device: "plc",
        tags: "*",
        everyMs: 1000,
        origin: { file: "", line: 1, column: 1 },
      },
      rt,
      { log: nullLogger, clock: systemClock, seq: new SequenceCounter() },
    );
    const batch = await poll.read();
    assertEquals([batch.value(0), batch.value(1)], [123.456, -0.1]);
    assert(formatText(batch, 0).includes(" = 123.456 good"), formatText(batch, 0));
    assert(formatJson(batch, 1).includes('"value":-0.1,'), formatJson(batch, 1));
    assert(payload(batch, 0, false).startsWith('{"value":123.456,'), payload(batch, 0, false));
    assert(recordJson(batch, 1, false).includes('"value":-0.1,'), recordJson(batch, 1, false));
  } finally {
    await rt.stop();
  }
});
