/**
 * @module
 * The Modbus simulator (TCP, RTU over TCP, RTU on a serial device):
 * `startModbusSimulator()` for tests and `--simulate`; `bifrost sim modbus` runs it from
 * `../tools/sim_cli.ts`.
 */

export { type ExceptionRule, Faults } from "./faults.ts";
export { type PointSpec, resolveMap, type SimulatorMap } from "./map.ts";
export { parseMapYaml } from "./map_yaml.ts";
export { UnitMemory } from "./memory.ts";
export {
  type ModbusSimulator,
  type SimulatorOptions,
  type SimulatorStats,
  startModbusSimulator,
  type ValueOptions,
} from "./server.ts";
