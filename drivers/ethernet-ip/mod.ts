/**
 * @module
 * The EtherNet/IP driver (`driver: ethernet-ip`) for Allen-Bradley Logix controllers
 * (ControlLogix, CompactLogix, Micro800): tags read and written by name over CIP, many per
 * request (Multiple Service Packet), large arrays by Read Tag Fragmented, connected
 * messaging with Large Forward Open and fallbacks, symbol and template browse, ListIdentity
 * discovery and a simulator. The folder map and limits are in README.md beside this file.
 *
 * The entry is light: the simulator, browse and the tools' commands load on first use (the
 * client and the planner are small and have no library behind them).
 *
 * @example
 * ```yaml
 * devices:
 *   line2-plc:
 *     driver: ethernet-ip
 *     host: 192.168.1.20
 *     path: "1,0"
 *     tags:
 *       speed: { address: Program:MainProgram.Speed, type: REAL }
 * ```
 */

import {
  type DeviceConfig,
  type DriverIssue,
  type DriverModule,
  lazyCreate,
} from "../../engine/plugin.ts";
import { EipDeviceSpec, EipTagSpec } from "./core/spec.ts";
import { eipValueKind } from "./core/tags.ts";
import { validateDevice, validateSimulator } from "./core/validate.ts";
import { eipTools } from "./tools/mod.ts";

/** The EtherNet/IP driver module. */
export const ethernetIp: DriverModule = {
  name: "ethernet-ip",
  description:
    "EtherNet/IP (CIP) client for Allen-Bradley Logix controllers: tags by name, many per request.",
  status: "beta",
  tools: eipTools,
  deviceSpec: EipDeviceSpec,
  tagSpec: EipTagSpec,
  // The CIP client loads with the first EtherNet/IP device.
  ...lazyCreate('driver "ethernet-ip"', async () => {
    const { EipDriver } = await import("./tcp/driver.ts");
    return (device, ctx) => new EipDriver(device, ctx);
  }),
  validate: (device: DeviceConfig): DriverIssue[] => [
    ...validateDevice(device),
    ...validateSimulator(device),
  ],
  simulate: async (device) =>
    await (await import("./simulator/simulate.ts")).simulateDevice(device),
  valueKind: eipValueKind,
};

export { eipTools } from "./tools/mod.ts";
