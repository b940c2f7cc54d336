/**
 * @module
 * Every driver Bifrost knows, by its `driver:` name. No import side effects: adding a driver
 * means adding it to this array.
 */

import type { DriverModule } from "../engine/plugin.ts";
import { modbusRtu, modbusRtuTcp, modbusTcp } from "./modbus/mod.ts";
import { ethernetIp } from "./ethernet-ip/mod.ts";
import { opcua } from "./opcua/mod.ts";
import { bacnet } from "./bacnet/mod.ts";

/** The registered drivers. */
export const drivers: readonly DriverModule[] = [
  modbusTcp,
  modbusRtu,
  modbusRtuTcp,
  ethernetIp,
  opcua,
  bacnet,
];
