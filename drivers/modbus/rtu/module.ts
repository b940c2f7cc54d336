/**
 * @module
 * The Modbus RTU drivers: `modbus-rtu` (a serial port) and `modbus-rtu-tcp` (RTU frames
 * over TCP to a serial device server). Same tags as `modbus-tcp`. Several devices naming
 * the same port are slaves on one line, scheduled fairly with a breaker per slave.
 *
 * @example
 * ```yaml
 * devices:
 *   meter-1:
 *     driver: modbus-rtu
 *     port: /dev/ttyUSB0
 *     baudRate: 19200
 *     unitId: 1
 *     tags:
 *       power: { address: IR0, type: float32 }
 *   meter-2:
 *     driver: modbus-rtu
 *     port: /dev/ttyUSB0
 *     baudRate: 19200
 *     unitId: 2
 *     tags:
 *       power: { address: IR0, type: float32 }
 * ```
 */

import {
  type DeviceConfig,
  type DriverIssue,
  type DriverModule,
  lazyCreate,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { expectedResponseLength } from "./frame.ts";
import { rtuTimings, transmitTimeMs } from "./timing.ts";
import { ModbusRtuDeviceSpec, ModbusRtuTcpDeviceSpec, rtuFields } from "./spec.ts";
import { validateSimulator } from "../simulator/simulate.ts";
import { ModbusTagSpec } from "../core/spec.ts";
import { modbusTools } from "../tools/mod.ts";
import { modbusValueKind } from "../core/kind.ts";
import { planRead } from "../core/planner.ts";
import { deviceFields, resolveTag } from "../core/tags.ts";
import { MIN_INTERVAL_FLOOR_MS, validateDevice } from "../core/validate.ts";

/** Assumed time a slave takes to start answering, ms. */
export const ASSUMED_SLAVE_LATENCY_MS = 5;

/** Broadcast devices (unit 0) can only be written: every tag must say so. */
function validateBroadcast(device: DeviceConfig): DriverIssue[] {
  if (device.config.unitId !== 0) return [];
  return [...device.tags.values()].filter((t) => !t.writable).map((t) => ({
    message:
      `Cannot read tag "${t.name}" of "${device.name}": unitId 0 is the broadcast address, which nobody answers; mark the tag writable: true and do not poll it`,
    path: ["tags", t.name],
  }));
}

function validateRtu(device: DeviceConfig): DriverIssue[] {
  return [
    ...validateDevice(device, "rtu"),
    ...validateBroadcast(device),
    ...validateSimulator(device),
  ];
}

/**
 * The shortest poll interval of RTU tags: per planned request, the request and its
 * response on the wire at the line's baud rate (9600 when unknown), two t3.5 silences and
 * an assumed slave latency. Other slaves on the line are not counted: the line is shared.
 */
export function rtuMinIntervalMs(device: DeviceConfig, tags: readonly TagConfig[]): number {
  try {
    const f = deviceFields(device.config, "rtu");
    const baud = rtuFields(device.config, true).baudRate ?? 9600;
    const plan = planRead(tags, tags.map((t) => resolveTag(t, f.tagContext)), f);
    const t35 = rtuTimings(baud).t35Ms;
    let ms = 0;
    for (const r of plan.requests) {
      const bytes = 3 + r.pdu.length + expectedResponseLength(r.pdu);
      ms += transmitTimeMs(baud, bytes) + 2 * t35 + ASSUMED_SLAVE_LATENCY_MS;
    }
    return Math.max(MIN_INTERVAL_FLOOR_MS, Math.ceil(ms));
  } catch {
    return MIN_INTERVAL_FLOOR_MS;
  }
}

/** The Modbus RTU driver module (serial port). */
export const modbusRtu: DriverModule = {
  name: "modbus-rtu",
  description:
    "Modbus RTU master on a serial port (RS-485/RS-232): several devices on one port are slaves sharing the line.",
  status: "beta",
  tools: modbusTools,
  deviceSpec: ModbusRtuDeviceSpec,
  tagSpec: ModbusTagSpec,
  // The line, its scheduler and the serial transport load with the first RTU device.
  ...lazyCreate('driver "modbus-rtu"', async () => {
    const { ModbusRtuDriver } = await import("./driver.ts");
    return (device, ctx) => new ModbusRtuDriver(device, ctx);
  }),
  validate: validateRtu,
  minIntervalMs: rtuMinIntervalMs,
  simulate: async (device) =>
    await (await import("../simulator/rtu_simulate.ts")).simulateRtuDevice(device),
  valueKind: modbusValueKind,
};

/** The Modbus RTU-over-TCP driver module (serial device servers). */
export const modbusRtuTcp: DriverModule = {
  name: "modbus-rtu-tcp",
  description:
    "Modbus RTU frames over TCP to a serial device server (Moxa NPort, USR…): several devices on one host:port are slaves sharing the line.",
  status: "beta",
  tools: modbusTools,
  deviceSpec: ModbusRtuTcpDeviceSpec,
  tagSpec: ModbusTagSpec,
  ...lazyCreate('driver "modbus-rtu-tcp"', async () => {
    const { ModbusRtuTcpDriver } = await import("./driver.ts");
    return (device, ctx) => new ModbusRtuTcpDriver(device, ctx);
  }),
  validate: validateRtu,
  minIntervalMs: rtuMinIntervalMs,
  simulate: async (device) =>
    await (await import("../simulator/rtu_simulate.ts")).simulateRtuTcpDevice(device),
  valueKind: modbusValueKind,
};
