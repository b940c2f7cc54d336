/**
 * @module
 * The BACnet/IP driver (`driver: bacnet`) for building automation: devices by instance
 * (Who-Is/I-Am, directed or broadcast, or a fixed address), devices behind routers
 * (DNET/DADR), BBMD foreign-device registration, ReadPropertyMultiple planned under the
 * device's max APDU and segmentation (segmented replies reassembled), WriteProperty with
 * priority and relinquish, COV subscriptions with polling fallback, a simulator and the CLI
 * tools. Our own codec (`core/`): the folder map and limits are in README.md beside this file.
 *
 * The entry is light: COV, browse, the simulator and the tools' commands load on first use.
 *
 * @example
 * ```yaml
 * devices:
 *   ahu-1:
 *     driver: bacnet
 *     device: 1001
 *     host: 192.168.10.21
 *     tags:
 *       supplyTemp: { address: analog-input:1 }
 *       fanCmd: { address: binary-output:1, priority: 8 }
 * ```
 */

import {
  type DeviceConfig,
  type DriverIssue,
  type DriverModule,
  lazyCreate,
  type TagConfig,
  type ValueKind,
} from "../../engine/plugin.ts";
import { defaultType, kindOfType, parseAddress, type TagType } from "./core/address.ts";
import { BacnetDeviceSpec, BacnetSubscribeSpec, BacnetTagSpec } from "./core/spec.ts";
import { bacnetTools } from "./tools/mod.ts";

/** The kind of a tag's values: from its declared type, else its property's own type. */
export function bacnetValueKind(tag: TagConfig): ValueKind {
  const declared = tag.config.type as TagType | undefined;
  if (declared) return kindOfType(declared);
  try {
    return kindOfType(defaultType(parseAddress(tag.address)));
  } catch {
    return "array";
  }
}

/** Address checks beyond the schema. */
export function validateBacnet(device: DeviceConfig): DriverIssue[] {
  const issues: DriverIssue[] = [];
  for (const [name, tag] of device.tags) {
    try {
      parseAddress(tag.address);
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["tags", name, "address"] });
    }
  }
  const c = device.config;
  if ((c.mac !== undefined) !== (c.network !== undefined) && c.mac !== undefined) {
    issues.push({
      message: "mac needs network: the DADR of a routed device is on a network number",
      path: ["network"],
    });
  }
  if (c.mac !== undefined && c.host === undefined) {
    issues.push({
      message: "A routed device (network and mac) needs host: the address of its router",
      path: ["host"],
    });
  }
  return issues;
}

/** The BACnet/IP driver module. */
export const bacnet: DriverModule = {
  name: "bacnet",
  description:
    "BACnet/IP client for building automation: Who-Is discovery, routed devices, BBMD, ReadPropertyMultiple, priorities, COV.",
  status: "beta",
  tools: bacnetTools,
  deviceSpec: BacnetDeviceSpec,
  tagSpec: BacnetTagSpec,
  subscribeSpec: BacnetSubscribeSpec,
  // The client (sessions, the UDP port, COV) loads with the first BACnet device.
  ...lazyCreate('driver "bacnet"', async () => {
    const { BacnetDriver } = await import("./client/driver.ts");
    return (device, ctx) => new BacnetDriver(device, ctx);
  }),
  validate: validateBacnet,
  simulate: async (device) =>
    await (await import("./simulator/simulate.ts")).simulateDevice(device),
  valueKind: bacnetValueKind,
};

export { bacnetTools } from "./tools/mod.ts";
