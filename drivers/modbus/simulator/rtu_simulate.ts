/**
 * @module
 * Virtual devices of the RTU drivers for `--simulate`. Slaves that share a line in the flow
 * share one virtual line too: the first device naming a port (or host:port) starts an RTU
 * simulator, the next ones add their unit to it, and the last one to close stops it. So
 * `--simulate` exercises the bus scheduler as the plant would.
 *
 * - `modbus-rtu-tcp`: an RTU-over-TCP simulator on 127.0.0.1, port 0.
 * - `modbus-rtu`: a `socat` pty pair, the simulator on one end; the device gets the other
 *   end, with parity none (Linux ptys refuse `parenb`).
 */

import { BifrostError, type DeviceConfig, type SimulatedDevice } from "../../../engine/plugin.ts";
import { type RtuSimulator, startRtuSimulator } from "./rtu_server.ts";
import { canRun, startPtyPair } from "../rtu/pty.ts";
import { simulatorPoints } from "./simulate.ts";
import { deviceFields } from "../core/tags.ts";

interface VirtualLine {
  refs: number;
  sim: RtuSimulator;
  connection: Record<string, unknown>;
  stop: () => Promise<void>;
}

const virtualLines = new Map<string, Promise<VirtualLine>>();

async function join(
  key: string,
  device: DeviceConfig,
  start: () => Promise<VirtualLine>,
): Promise<SimulatedDevice> {
  const unitId = deviceFields(device.config, "rtu").unitId;
  let p = virtualLines.get(key);
  if (!p) {
    p = start();
    virtualLines.set(key, p);
    p.catch(() => virtualLines.delete(key));
  }
  const line = await p;
  line.refs++;
  if (unitId !== 0) line.sim.addUnit(unitId, simulatorPoints(device, "rtu"));
  let closed = false;
  return {
    connection: line.connection,
    async close() {
      if (closed) return;
      closed = true;
      if (--line.refs > 0) return;
      virtualLines.delete(key);
      await line.stop();
    },
  };
}

/** Starts (or joins) the virtual RTU-over-TCP line of a `modbus-rtu-tcp` device. */
export function simulateRtuTcpDevice(device: DeviceConfig): Promise<SimulatedDevice> {
  const key = `tcp:${device.config.host}:${device.config.port}`;
  return join(key, device, async () => {
    // Unit 0 (broadcast) is not a unit: start empty and let every device add its own.
    const sim = await startRtuSimulator({ tcpPort: 0, units: { 0: {} } });
    return {
      refs: 0,
      sim,
      connection: { host: sim.host, port: sim.port },
      stop: () => sim.close(),
    };
  });
}

/** Starts (or joins) the virtual serial line (a socat pty pair) of a `modbus-rtu` device. */
export function simulateRtuDevice(device: DeviceConfig): Promise<SimulatedDevice> {
  const key = `serial:${device.config.port}`;
  return join(key, device, async () => {
    if (!(await canRun("socat", ["-V"]))) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot simulate device "${device.name}": a virtual serial line needs socat, which is not installed`,
      );
    }
    const pty = await startPtyPair();
    const baudRate = Number(device.config.baudRate ?? 9600);
    let sim: RtuSimulator;
    try {
      sim = await startRtuSimulator({
        serialPath: pty.b,
        baudRate,
        parity: "none",
        units: { 0: {} },
      });
    } catch (e) {
      await pty.close();
      throw e;
    }
    return {
      refs: 0,
      sim,
      connection: { port: pty.a, parity: "none" },
      stop: async () => {
        await sim.close();
        await pty.close();
      },
    };
  });
}
