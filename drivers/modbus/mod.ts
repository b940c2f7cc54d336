/**
 * @module
 * The Modbus drivers: `modbus-tcp` (holding and input registers, coils and discrete inputs
 * over Modbus TCP, with coalesced reads, arrays (`count`), opt-in pipelining, per-device
 * workarounds, unit discovery and a simulator), and `modbus-rtu` / `modbus-rtu-tcp` (the
 * same tags over an RTU line shared by several slaves; see `rtu_mod.ts`).
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

import type { DeviceConfig, DriverIssue, DriverModule } from "../../engine/driver.ts";
import { ModbusTcpDriver } from "./driver.ts";
import { modbusValueKind } from "./kind.ts";
import { simulateDevice, validateSimulator } from "./simulate.ts";
import { ModbusDeviceSpec, ModbusTagSpec } from "./spec.ts";
import { minIntervalMs, validateDevice } from "./validate.ts";

/** The Modbus TCP driver module. */
export const modbusTcp: DriverModule = {
  name: "modbus-tcp",
  description: "Modbus TCP client: holding and input registers, coils and discrete inputs.",
  status: "beta",
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

export { formatAddress, type ModbusAddress, parseAddress, type Table } from "./address.ts";
export { type ClientOptions, type ClientStats, ModbusTcpClient } from "./client.ts";
export {
  answerText,
  type DiscoveredUnit,
  type DiscoverOptions,
  type DiscoverResult,
  discoverUnits,
  formatDiscovery,
  parseUnitList,
  type ProbeAnswer,
} from "./discover.ts";
export { ModbusDriver, ModbusTcpDriver, type TransportOpener } from "./driver.ts";
export {
  type BreakerOptions,
  type BreakerState,
  type BusLine,
  type BusOptions,
  BusScheduler,
  type BusStats,
  type SlaveStats,
} from "./bus.ts";
export {
  busStats,
  joinLine,
  type JoinOptions,
  openLines,
  type SlaveTransport,
} from "./bus_registry.ts";
export { ModbusRtuDriver, ModbusRtuTcpDriver } from "./rtu_driver.ts";
export { modbusRtu, modbusRtuTcp, rtuMinIntervalMs } from "./rtu_mod.ts";
export { ModbusRtuDeviceSpec, ModbusRtuTcpDeviceSpec } from "./rtu_spec.ts";
export type { ModbusTransport } from "./transport.ts";
export { exceptionName, FunctionCodes, ModbusExceptions } from "./pdu.ts";
export { ModbusReadPlan, planRead } from "./planner.ts";
export {
  BYTE_ORDERS,
  type ByteOrder,
  DATA_TYPES,
  type DataType,
  ModbusDeviceSpec,
  ModbusTagSpec,
  type ModbusWorkarounds,
  ModbusWorkaroundsSpec,
} from "./spec.ts";
export { ResponseStream, type ResponseStreamStats } from "./response_stream.ts";
export { parseModbusUrl } from "./url.ts";
export { modbusValueKind } from "./kind.ts";
export { decodeRegisters, encodeRegisters } from "./values.ts";
