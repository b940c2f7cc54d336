/**
 * @module
 * The driver conformance suite (`tests/conformance/driver.ts`) for the three Modbus
 * transports, each against its own simulator: `modbus-tcp` against the Modbus TCP simulator,
 * `modbus-rtu-tcp` against the RTU simulator's TCP listener, `modbus-rtu` against the RTU
 * simulator on one end of a `socat` pty pair (skipped by name when socat is missing).
 *
 * A restart is a new simulator at the same address (port or pty end) with the values the
 * suite set; a silent device is a silent unit; a failing tag is an exception (code 2) on
 * the tag's registers.
 */

import type { TagConfig, Value } from "../../engine/plugin.ts";
import type { SimulatorControl, ValueOptions } from "./simulator/core.ts";
import { startRtuSimulator } from "./simulator/rtu_server.ts";
import { startModbusSimulator } from "./simulator/server.ts";
import {
  type ConformanceSimulator,
  type DriverConformanceOptions,
  runDriverConformance,
} from "../../tests/conformance/driver.ts";
import { freePort } from "../../tests/fixtures/net.ts";
import { parseAddress } from "./core/address.ts";
import { modbusRtu, modbusRtuTcp, modbusTcp } from "./mod.ts";
import { canRun, startPtyPair } from "./rtu/pty.ts";
import type { DataType } from "./core/spec.ts";

const UNIT = 1;

type Running = SimulatorControl & { close(): Promise<void> };

function tag(name: string, address: string, type: string, writable = true): TagConfig {
  return { name, address, type, writable, config: { address, type } };
}

const options = (t: TagConfig): ValueOptions => ({ type: t.type as DataType, unitId: UNIT });

/**
 * A {@linkcode ConformanceSimulator} over a Modbus simulator that `listen()` starts (again
 * at the same address after `stop()`), replaying the values the suite set.
 */
async function modbusSimulator(
  listen: () => Promise<Running>,
  connection: Record<string, unknown>,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): Promise<ConformanceSimulator> {
  let sim: Running | undefined = await listen();
  const held = new Map<string, [TagConfig, Value]>();
  const live = () => {
    if (!sim) throw new Error("The simulator is stopped");
    return sim;
  };
  const close = async () => {
    await sim?.close();
    sim = undefined;
    await cleanup();
  };
  return {
    connection,
    setValue(t, value) {
      held.set(t.address, [t, value]);
      live().setValue(t.address, value, options(t));
    },
    getValue: (t) => live().getValue(t.address, options(t)),
    failTag(t) {
      const a = parseAddress(t.address);
      const count = t.type.endsWith("64") ? 4 : t.type.endsWith("32") ? 2 : 1;
      return live().faults.exception({ table: a.table, start: a.offset, count, code: 2 });
    },
    silence: (on) => live().faults.silence(UNIT, on),
    async stop() {
      for (const [t] of held.values()) {
        held.set(t.address, [t, live().getValue(t.address, options(t))]);
      }
      await sim?.close();
      sim = undefined;
    },
    async start() {
      sim = await listen();
      for (const [t, v] of held.values()) sim.setValue(t.address, v, options(t));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A port of 127.0.0.1 that nothing listens on (bound, then released). */
const closedPort = () => ({ host: "127.0.0.1", port: freePort() });

/** The tight timeout of the cases that check time bounds; the suite relaxes it in the others. */
const TIMEOUT_MS = 200;

const common: Omit<DriverConformanceOptions, "module" | "startSimulator" | "device" | "refused"> = {
  timeoutMs: TIMEOUT_MS,
  tags: [
    { tag: tag("temperature", "HR0", "float32"), value: 21.5 },
    { tag: tag("level", "IR10", "int16", false), value: -7 },
    { tag: tag("running", "C3", "bool"), value: true },
    { tag: tag("counter", "HR100", "uint32"), value: 3_000_000_000 },
  ],
  readOnlyTag: tag("flow", "IR20", "int16"),
  writeValue: 42.25,
};

await runDriverConformance({
  ...common,
  module: modbusTcp,
  async startSimulator() {
    const first = await startModbusSimulator({ units: { [UNIT]: {} } });
    const port = first.port;
    let next: Running | undefined = first;
    return modbusSimulator(async () => {
      const s = next ?? await startModbusSimulator({ port, units: { [UNIT]: {} } });
      next = undefined;
      return s;
    }, { host: "127.0.0.1", port });
  },
  device: (c, timeoutMs) => ({ ...c, unitId: UNIT, timeout: `${timeoutMs}ms`, retries: 0 }),
  refused: closedPort,
});

await runDriverConformance({
  ...common,
  module: modbusRtuTcp,
  async startSimulator() {
    const first = await startRtuSimulator({ tcpPort: 0, units: { [UNIT]: {} } });
    const port = first.port;
    let next: Running | undefined = first;
    return modbusSimulator(async () => {
      const s = next ?? await startRtuSimulator({ tcpPort: port, units: { [UNIT]: {} } });
      next = undefined;
      return s;
    }, { host: "127.0.0.1", port });
  },
  device: (c, timeoutMs) => ({
    ...c,
    unitId: UNIT,
    timeout: `${timeoutMs}ms`,
    turnaround: "10ms",
    retries: 0,
    probeInterval: "100ms",
  }),
  refused: closedPort,
});

const socat = await canRun("socat", ["-V"]);
const RTU_TIMEOUT_MS = 300;

await runDriverConformance({
  ...common,
  timeoutMs: RTU_TIMEOUT_MS,
  module: modbusRtu,
  ...(socat ? {} : { unavailable: "socat is not installed (apt-get install socat)" }),
  async startSimulator() {
    const pty = await startPtyPair();
    const listen = () =>
      startRtuSimulator({ serialPath: pty.b, baudRate: 38400, units: { [UNIT]: {} } });
    return modbusSimulator(listen, { port: pty.a }, () => pty.close());
  },
  device: (c, timeoutMs) => ({
    ...c,
    unitId: UNIT,
    baudRate: 38400,
    parity: "none",
    timeout: `${timeoutMs}ms`,
    turnaround: "20ms",
    retries: 0,
    probeInterval: "100ms",
  }),
  refused: () => ({ port: "/nonexistent/ttyBIFROST0" }),
});
