/**
 * @module
 * Every driver module by its `driver:` name, imported on demand: a gateway imports the
 * drivers its flows name (`app/sources.ts`), the CLI and the flow loader all of them
 * (`registry.ts`). Adding a driver means adding one line here, in the order the schema and
 * the help list them.
 */

import type { DriverModule } from "../engine/plugin.ts";

/** Imports each driver module by its `driver:` name. */
export const driverLoaders: Readonly<Record<string, () => Promise<DriverModule>>> = {
  "modbus-tcp": async () => (await import("./modbus/mod.ts")).modbusTcp,
  "modbus-rtu": async () => (await import("./modbus/mod.ts")).modbusRtu,
  "modbus-rtu-tcp": async () => (await import("./modbus/mod.ts")).modbusRtuTcp,
  "ethernet-ip": async () => (await import("./ethernet-ip/mod.ts")).ethernetIp,
  "opcua": async () => (await import("./opcua/mod.ts")).opcua,
  "bacnet": async () => (await import("./bacnet/mod.ts")).bacnet,
};
