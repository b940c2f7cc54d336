/**
 * @module
 * What the Modbus drivers offer the command line: `modbus://`, `modbus-rtu://` and
 * `modbus-rtu-tcp://` URLs for `bifrost read|write`, `bifrost browse modbus://...`,
 * `bifrost discover modbus` and `bifrost sim modbus`. The three Modbus driver modules share
 * this one object.
 */

import type { DriverTools, StartedSimulator } from "../../../engine/plugin.ts";
import type { SimulatorMap } from "../simulator/map.ts";
import { DISCOVER_USAGE, SIM_USAGE } from "./usage.ts";
import { MODBUS_URL_SCHEMES, parseModbusUrl } from "./url.ts";

// The gateway imports every driver module, and this object with it: the commands, the
// simulator server and the browser load on first use (`import()`), so a gateway that never
// runs them does not carry them (about 9 MB of RSS measured on 2026-12-04).

/**
 * Starts a Modbus TCP simulator on 127.0.0.1 (a free port). `options.units` is a simulator
 * map's `units` block; without it unit 1 serves zeros.
 */
async function startSimulator(options: Record<string, unknown> = {}): Promise<StartedSimulator> {
  const { startModbusSimulator } = await import("../simulator/server.ts");
  const sim = await startModbusSimulator({
    ...(options.units ? { units: options.units as SimulatorMap["units"] } : {}),
  });
  return {
    connection: { host: sim.host, port: sim.port },
    url: `modbus://${sim.host}:${sim.port}`,
    close: () => sim.close(),
  };
}

/** The Modbus tools. */
export const modbusTools: DriverTools = {
  name: "modbus",
  schemes: MODBUS_URL_SCHEMES,
  urlExamples: [
    "modbus://host:502/1/HR100:float32:CDAB",
    "modbus-rtu:///dev/ttyUSB0/1/HR0?baud=19200",
    "modbus-rtu-tcp://host:4001/1/HR0",
  ],
  parseUrl: parseModbusUrl,
  discover: {
    usage: DISCOVER_USAGE,
    run: async (args, out) =>
      await (await import("./discover_cli.ts")).modbusDiscover.run(args, out),
  },
  browse: async (url, options) => await (await import("./browse.ts")).browseModbus(url, options),
  simulator: {
    usage: SIM_USAGE,
    cli: async (args) => await (await import("./sim_cli.ts")).runSimCli(args),
    start: startSimulator,
  },
};
