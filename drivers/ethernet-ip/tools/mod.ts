/**
 * @module
 * What the EtherNet/IP driver offers the command line: `eip://` URLs for `bifrost
 * read|write`, `bifrost browse eip://HOST`, `bifrost discover ethernet-ip` (ListIdentity)
 * and `bifrost sim ethernet-ip`. Commands, browse and the simulator load on first use.
 */

import type { DriverTools, StartedSimulator } from "../../../engine/plugin.ts";
import { DISCOVER_USAGE, SIM_USAGE } from "./usage.ts";
import { EIP_URL_SCHEMES, parseEipUrl } from "./url.ts";

async function startSimulator(options: Record<string, unknown> = {}): Promise<StartedSimulator> {
  const { startEipSimulator } = await import("../simulator/server.ts");
  const { DEMO_MAP } = await import("../simulator/demo.ts");
  const sim = await startEipSimulator({ map: (options.map as never) ?? DEMO_MAP, udp: false });
  return {
    connection: { host: sim.host, port: sim.port },
    url: `eip://${sim.host}:${sim.port}`,
    close: () => sim.close(),
  };
}

/** The EtherNet/IP tools. */
export const eipTools: DriverTools = {
  name: "ethernet-ip",
  schemes: EIP_URL_SCHEMES,
  urlExamples: [
    "eip://10.0.0.5/Program:Main.Speed",
    "eip://127.0.0.1/TestDINT[3]",
    "eip://10.0.0.5:44818/Recipe[0]:REAL?path=1,0&count=10",
  ],
  parseUrl: parseEipUrl,
  discover: {
    usage: DISCOVER_USAGE,
    run: async (args, out) => await (await import("./discover.ts")).runDiscover(args, out),
  },
  browse: async (url, options) => await (await import("./browse.ts")).browseEip(url, options),
  simulator: {
    usage: SIM_USAGE,
    cli: async (args) => await (await import("./sim_cli.ts")).runSimCli(args),
    start: startSimulator,
  },
};
