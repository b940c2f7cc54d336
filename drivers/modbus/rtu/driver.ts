/**
 * @module
 * The Modbus RTU drivers: {@linkcode ModbusDriver} over a slave's share of an RTU line,
 * either a serial port (`modbus-rtu`) or a serial device server reached over TCP
 * (`modbus-rtu-tcp`). The line comes from the process-wide registry (`bus_registry.ts`),
 * so the devices of a flow that name the same port are slaves sharing one line.
 */

import type { DeviceConfig, DriverContext } from "../../../engine/plugin.ts";
import type { BusStats } from "./bus.ts";
import { joinLine, type SlaveTransport } from "./bus_registry.ts";
import { ModbusDriver, resolveDeviceFields } from "../core/driver.ts";
import { RtuTransport } from "./transport.ts";
import { type RtuFields, rtuFields } from "./spec.ts";
import type { ResolvedDeviceFields } from "../core/tags.ts";

/** The real path of a serial device, so that two names of one device share its line. */
async function lineKey(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return path;
  }
}

abstract class RtuDriverBase extends ModbusDriver {
  /** The statistics of this device's line (all its slaves), once connected. */
  get busStats(): BusStats | undefined {
    return (this.transport as SlaveTransport | undefined)?.bus.stats();
  }
}

/** The driver of one slave on a serial RTU line (`driver: modbus-rtu`). */
export class ModbusRtuDriver extends RtuDriverBase {
  constructor(device: DeviceConfig, ctx: DriverContext) {
    const f = resolveDeviceFields(device, "rtu");
    const r = rtuFields(device.config, true);
    const path = String(device.config.port);
    const settings = `${r.baudRate} baud, parity ${r.parity}, ${r.stopBits ?? "default"} stop`;
    super(device, ctx, f, async () =>
      joinLine({
        ...slaveOptions(f, r, ctx),
        key: await lineKey(path),
        settings,
        onMismatch: (theirs, ours) =>
          ctx.log.warn("Line already open with other settings; keeping them", {
            device: device.name,
            port: path,
            line: theirs,
            device_settings: ours,
          }),
        open: () =>
          RtuTransport.openSerial({
            path,
            baudRate: r.baudRate!,
            parity: r.parity,
            ...(r.stopBits ? { stopBits: r.stopBits } : {}),
            ...lineTimings(f, r),
          }),
      }));
  }
}

/** The driver of one slave behind a serial device server (`driver: modbus-rtu-tcp`). */
export class ModbusRtuTcpDriver extends RtuDriverBase {
  constructor(device: DeviceConfig, ctx: DriverContext) {
    const f = resolveDeviceFields(device, "rtu");
    const r = rtuFields(device.config, false);
    const host = String(device.config.host);
    const port = Number(device.config.port);
    super(device, ctx, f, () =>
      joinLine({
        ...slaveOptions(f, r, ctx),
        key: `${host}:${port}`,
        open: () =>
          RtuTransport.connectTcp({
            host,
            port,
            ...(r.baudRate ? { baudRate: r.baudRate } : {}),
            ...lineTimings(f, r),
          }),
      }));
  }
}

function slaveOptions(f: ResolvedDeviceFields, r: RtuFields, ctx: DriverContext) {
  return {
    clock: ctx.clock,
    unitId: f.unitId,
    timeoutMs: f.timeoutMs,
    breakerTimeouts: r.breakerTimeouts,
    probeIntervalMs: r.probeIntervalMs,
  };
}

function lineTimings(f: ResolvedDeviceFields, r: RtuFields) {
  return {
    timeoutMs: f.timeoutMs,
    turnaroundMs: r.turnaroundMs,
    ...(r.interFrameMs === undefined ? {} : { interFrameMs: r.interFrameMs }),
  };
}
