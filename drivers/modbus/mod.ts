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
import { ModbusTcpDriver } from "./core/driver.ts";
import { simulateDevice, validateSimulator } from "./simulator/simulate.ts";
import { ModbusDeviceSpec, ModbusTagSpec } from "./core/spec.ts";
import { minIntervalMs, validateDevice } from "./core/validate.ts";
import { modbusTools } from "./tools/mod.ts";

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
};

export { formatAddress, type ModbusAddress, parseAddress, type Table } from "./core/address.ts";
export { type ClientOptions, type ClientStats, ModbusTcpClient } from "./tcp/client.ts";
export {
  answerText,
  type DiscoveredUnit,
  type DiscoverOptions,
  type DiscoverResult,
  discoverUnits,
  formatDiscovery,
  parseUnitList,
  type ProbeAnswer,
} from "./tools/discover.ts";
export { ModbusDriver, ModbusTcpDriver, type TransportOpener } from "./core/driver.ts";
export {
  type BreakerOptions,
  type BreakerState,
  type BusLine,
  type BusOptions,
  BusScheduler,
  type BusStats,
  type SlaveStats,
} from "./rtu/bus.ts";
export {
  busStats,
  joinLine,
  type JoinOptions,
  openLines,
  type SlaveTransport,
} from "./rtu/bus_registry.ts";
export { ModbusRtuDriver, ModbusRtuTcpDriver } from "./rtu/driver.ts";
export { modbusRtu, modbusRtuTcp, rtuMinIntervalMs } from "./rtu/module.ts";
export { ModbusRtuDeviceSpec, ModbusRtuTcpDeviceSpec } from "./rtu/spec.ts";
export type { ModbusTransport } from "./core/transport.ts";
export { exceptionName, FunctionCodes, ModbusExceptions } from "./core/pdu.ts";
export { ModbusReadPlan, planRead } from "./core/planner.ts";
export {
  BYTE_ORDERS,
  type ByteOrder,
  DATA_TYPES,
  type DataType,
  ModbusDeviceSpec,
  ModbusTagSpec,
  type ModbusWorkarounds,
  ModbusWorkaroundsSpec,
} from "./core/spec.ts";
export { ResponseStream, type ResponseStreamStats } from "./tcp/response_stream.ts";
export { parseModbusUrl } from "./tools/url.ts";
export { modbusTools } from "./tools/mod.ts";
export { decodeRegisters, encodeRegisters } from "./core/values.ts";
