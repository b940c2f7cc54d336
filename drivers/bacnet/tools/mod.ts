/**
 * @module
 * What the BACnet driver offers the command line: `bacnet://` URLs for `bifrost read|write`
 * (with `--priority N` on write), `bifrost browse bacnet://HOST[:PORT]/DEVICE`,
 * `bifrost discover bacnet [--network N]` (Who-Is) and `bifrost sim bacnet`. Commands,
 * browse and the simulator load on first use.
 */

import type { DriverTools, StartedSimulator } from "../../../engine/plugin.ts";
import { BACNET_URL_SCHEMES, parseBacnetUrl } from "./url.ts";
import { DISCOVER_USAGE, SIM_USAGE } from "./usage.ts";

async function startSimulator(options: Record<string, unknown> = {}): Promise<StartedSimulator> {
  const { startSite, DEMO_DEVICE } = await import("../simulator/config.ts");
  const site = await startSite({ devices: [(options.device as never) ?? DEMO_DEVICE] });
  const sim = site.endpoints[0]!;
  const instance = sim.served[0]!.db.info.instance;
  return {
    connection: { host: sim.host, port: sim.port, device: instance, localPort: 0 },
    url: `bacnet://${sim.host}:${sim.port}/${instance}`,
    close: () => site.close(),
  };
}

/** The BACnet tools. */
export const bacnetTools: DriverTools = {
  name: "bacnet",
  schemes: BACNET_URL_SCHEMES,
  urlExamples: [
    "bacnet://10.0.0.5/1001/analog-input:1",
    "bacnet://10.0.0.5:47809/1001/binary-output:1/present-value?priority=8",
    "bacnet://10.0.0.1/2001/analog-value:3?network=5&mac=0a",
  ],
  parseUrl: parseBacnetUrl,
  writeOptions: [{
    name: "priority",
    usage: "--priority N   BACnet write priority 1-16 (a write of null relinquishes it)",
    apply(target, value) {
      if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 16) {
        throw new Error(`--priority must be 1..16, got "${value}"`);
      }
      const config = { ...target.tag.config, priority: Number(value) };
      const tag = { ...target.tag, config };
      return { device: { ...target.device, tags: new Map([[tag.name, tag]]) }, tag };
    },
  }],
  discover: {
    usage: DISCOVER_USAGE,
    run: async (args, out) => await (await import("./discover.ts")).runDiscover(args, out),
  },
  browse: async (url, options) => await (await import("./browse.ts")).browseBacnet(url, options),
  simulator: {
    usage: SIM_USAGE,
    cli: async (args) => await (await import("./sim_cli.ts")).runSimCli(args),
    start: startSimulator,
  },
};
