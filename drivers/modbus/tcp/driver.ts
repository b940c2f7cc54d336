/**
 * @module
 * The Modbus TCP driver: the transport-independent {@linkcode ModbusDriver} over a
 * {@linkcode ModbusTcpClient} per device.
 */

import type { DeviceConfig, DriverContext } from "../../../engine/plugin.ts";
import { ModbusDriver, resolveDeviceFields } from "../core/driver.ts";
import { ModbusTcpClient } from "./client.ts";

/**
 * Polls at least this often make the TCP client read only while requests are on the wire
 * (`idleRead: false`): the next poll notices a close soon enough, and reads do not live from
 * one poll to the next. Slower devices keep a read pending, which notices at once a device
 * that closes idle connections (many do after 30-120 s) and reconnects before the next poll.
 */
export const IDLE_READ_ABOVE_MS = 5000;

/** The driver of one Modbus TCP device. */
export class ModbusTcpDriver extends ModbusDriver {
  constructor(device: DeviceConfig, ctx: DriverContext) {
    const f = resolveDeviceFields(device, "tcp");
    const idleRead = ctx.pollEveryMs === undefined || ctx.pollEveryMs > IDLE_READ_ABOVE_MS;
    super(device, ctx, f, (signal) =>
      ModbusTcpClient.connect({
        host: f.host,
        port: f.port,
        timeoutMs: f.timeoutMs,
        maxInFlight: f.wireInFlight,
        idleRead,
        signal,
        onLost: (e) => ctx.connectionLost?.(e.message),
      }));
  }

  /** The connected client, for tests and statistics. */
  get client(): ModbusTcpClient | undefined {
    return this.transport as ModbusTcpClient | undefined;
  }
}
