import assert from "node:assert/strict";
import {
  type DeviceConfig,
  type DriverModule,
  nullLogger,
  systemClock,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { canRun } from "../rtu/pty.ts";
import { modbusRtu, modbusRtuTcp } from "../rtu/module.ts";

// The clients load on first use (`load()`), as in a gateway.
await modbusRtu.load?.();
await modbusRtuTcp.load?.();

const HAVE_SOCAT = await canRun("socat", ["-V"]);
const TAG: TagConfig = {
  name: "t",
  address: "HR0",
  type: "float32",
  writable: false,
  config: { address: "HR0", type: "float32" },
};

function slave(driver: string, line: Record<string, unknown>, unitId: number): DeviceConfig {
  return {
    name: `s${unitId}`,
    driver,
    config: { ...line, unitId, timeout: "500ms" },
    tags: new Map([["t", TAG]]),
    simulator: { t: { value: unitId + 0.5 } },
  };
}

/** Simulates two slaves of one line; both read their own value through one virtual line. */
async function twoSlaves(module: DriverModule, line: Record<string, unknown>): Promise<void> {
  const devices = [slave(module.name, line, 1), slave(module.name, line, 2)];
  const sims = [];
  try {
    for (const d of devices) sims.push(await module.simulate!(d));
    assert.deepEqual(sims[0]!.connection, sims[1]!.connection, "one virtual line per real line");
    for (const [i, d] of devices.entries()) {
      const drv = module.create(
        { ...d, config: { ...d.config, ...sims[i]!.connection } },
        { log: nullLogger, clock: systemClock },
      );
      await drv.connect(AbortSignal.timeout(5000));
      try {
        const [r] = await drv.read(drv.plan([TAG]), AbortSignal.timeout(5000));
        assert.deepEqual(r, {
          ok: true,
          value: i + 1.5,
          sourceTs: (r as { sourceTs: number }).sourceTs,
        });
      } finally {
        await drv.close();
      }
    }
  } finally {
    for (const s of sims) await s.close();
  }
}

Deno.test("modbus-rtu-tcp simulate() serves the slaves of one line on one RTU-over-TCP port", async () => {
  await twoSlaves(modbusRtuTcp, { host: "gw.plant", port: 4001 });
});

Deno.test({
  name: "modbus-rtu simulate() serves the slaves of one port on one socat pty pair" +
    (HAVE_SOCAT ? "" : " (skipped: socat is not installed)"),
  ignore: !HAVE_SOCAT,
  async fn() {
    await twoSlaves(modbusRtu, { port: "/dev/ttyUSB7", baudRate: 19200 });
  },
});
