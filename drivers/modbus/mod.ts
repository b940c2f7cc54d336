/**
 * @module
 * The Modbus drivers: `modbus-tcp` (holding and input registers, coils and discrete inputs
 * over Modbus TCP, with coalesced reads, arrays (`count`), opt-in pipelining, per-device
 * workarounds, unit discovery and a simulator), and `modbus-rtu` / `modbus-rtu-tcp` (the
 * same tags over an RTU line shared by several slaves; see `rtu/module.ts`). The folder map
 * and limits are in README.md beside this file.
 *
 * @example
 * ```yaml
 * devices:
 *   boiler-plc:
 *     driver: modbus-tcp
 *     host: 192.168.1.10
 *     tags:
 *       temp1: { address: HR0, type: float32 }
 * ```
 */

import type { DeviceConfig, DriverIssue, DriverModule } from "../../engine/plugin.ts";
import { ModbusTcpDriver } from "./tcp/driver.ts";
import { simulateDevice, validateSimulator } from "./simulator/simulate.ts";
import { ModbusDeviceSpec, ModbusTagSpec } from "./core/spec.ts";
import { minIntervalMs, validateDevice } from "./core/validate.ts";
import { modbusTools } from "./tools/mod.ts";
import { modbusValueKind } from "./core/kind.ts";

/** The Modbus TCP driver module. */
export const modbusTcp: DriverModule = {
  name: "modbus-tcp",
  description: "Modbus TCP client: holding and input registers, coils and discrete inputs.",
  status: "beta",
  tools: modbusTools,
  deviceSpec: ModbusDeviceSpec,
  tagSpec: ModbusTagSpec,
  create: (device, ctx) => new ModbusTcpDriver(device, ctx),
  validate: (device: DeviceConfig): DriverIssue[] => [
    ...validateDevice(device),
    ...validateSimulator(device),
  ],
  minIntervalMs,
  simulate: simulateDevice,
  valueKind: modbusValueKind,
};

// The entry exports the driver modules and their tools; everything else is reached by its
// own module path (tests, benchmarks), so that this list says what the registry needs.
export { modbusRtu, modbusRtuTcp } from "./rtu/module.ts";
export { modbusTools } from "./tools/mod.ts";
export { parseModbusUrl } from "./tools/url.ts";
export { modbusValueKind } from "./core/kind.ts";
