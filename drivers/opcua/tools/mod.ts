/**
 * @module
 * What the OPC UA driver offers the command line: `opc.tcp://` URLs for `bifrost
 * read|write` (the NodeId after `#`), `bifrost browse opc.tcp://HOST:PORT`, `bifrost discover
 * opcua` (FindServers) and `bifrost sim opcua`. Everything loads on first use.
 */

import type { DriverTools, StartedSimulator } from "../../../engine/plugin.ts";
import { OPCUA_URL_SCHEMES, parseOpcuaUrl } from "./url.ts";
import { DISCOVER_USAGE, SIM_USAGE } from "./usage.ts";
import { pkiCommands } from "./pki.ts";

async function startSimulator(options: Record<string, unknown> = {}): Promise<StartedSimulator> {
  const { startOpcuaSimulator } = await import("../simulator/server.ts");
  const sim = await startOpcuaSimulator(options);
  return {
    connection: { endpoint: sim.endpoint },
    url: sim.endpoint,
    close: () => sim.close(),
  };
}

/** The OPC UA tools. */
export const opcuaTools: DriverTools = {
  name: "opcua",
  schemes: OPCUA_URL_SCHEMES,
  urlExamples: [
    "opc.tcp://127.0.0.1:4840#ns=1;s=Demo.Static.Double",
    "opc.tcp://plc:4840?security=SignAndEncrypt&user=op&password=secret#ns=2;s=Speed",
    "opc.tcp://plc:4840#/Objects/Boiler/Temp?type=Double",
  ],
  parseUrl: parseOpcuaUrl,
  discover: {
    usage: DISCOVER_USAGE,
    run: async (args, out) => await (await import("./discover.ts")).runDiscover(args, out),
  },
  browse: async (url, options) => await (await import("./browse.ts")).browseOpcua(url, options),
  simulator: {
    usage: SIM_USAGE,
    cli: async (args) => await (await import("./sim_cli.ts")).runSimCli(args),
    start: startSimulator,
  },
  commands: pkiCommands,
};
