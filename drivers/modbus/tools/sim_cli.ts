/**
 * @module
 * `bifrost sim modbus [--host 127.0.0.1] [--port 5020] [--map sim.yaml] [--rtu-tcp 4001]
 * [--serial /dev/ttyS1 [--baud 9600] [--parity even]] [--fault busy=5% ...]`: runs the
 * simulator until SIGINT or SIGTERM and prints the addresses it listens on: Modbus TCP
 * always, RTU over TCP with `--rtu-tcp`, RTU on a serial device with `--serial` (the same
 * units on every listener). `--fault` injects faults (see `cli_faults.ts`).
 */

import { applyFaults, describeFault, type FaultOption, parseFault } from "./cli_faults.ts";
import type { SimulatorMap } from "../simulator/map.ts";
import { parseMapYaml } from "../simulator/map_yaml.ts";
import { startModbusSimulator } from "../simulator/server.ts";

import { SIM_USAGE as USAGE } from "./usage.ts";

/** Parsed command line of the simulator. */
export interface SimCliArgs {
  host: string;
  port: number;
  map?: string;
  /** Port of an RTU-over-TCP listener. */
  rtuTcp?: number;
  /** Serial device to serve RTU on. */
  serial?: string;
  baud?: number;
  parity?: "none" | "even" | "odd";
  /** Faults to inject (`--fault`, in order). */
  faults?: FaultOption[];
  /** `--help` was given: print the usage, start nothing. */
  help?: true;
}

function portArg(value: string): number {
  const p = Number(value);
  if (!Number.isInteger(p) || p < 0 || p > 65535) {
    throw new RangeError(`Cannot use port "${value}": expected an integer 0..65535`);
  }
  return p;
}

/**
 * Parses `--host`, `--port`, `--map`, `--rtu-tcp`, `--serial`, `--baud`, `--parity` and
 * `--fault` (also `--port=5020`); throws a `RangeError` of one line saying what is wrong.
 */
export function parseSimArgs(args: readonly string[]): SimCliArgs {
  const out: SimCliArgs = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (flag === "--help" || flag === "-h") return { ...out, help: true };
    if (value === undefined) value = args[++i];
    if (value === undefined) throw new RangeError(`Cannot parse ${flag}: it needs a value`);
    if (flag === "--port") out.port = portArg(value);
    else if (flag === "--rtu-tcp") out.rtuTcp = portArg(value);
    else if (flag === "--host") out.host = value;
    else if (flag === "--map") out.map = value;
    else if (flag === "--serial") out.serial = value;
    else if (flag === "--baud") {
      const b = Number(value);
      if (!Number.isInteger(b) || b <= 0) {
        throw new RangeError(`Cannot use baud rate "${value}": expected a positive integer`);
      }
      out.baud = b;
    } else if (flag === "--parity") {
      if (value !== "none" && value !== "even" && value !== "odd") {
        throw new RangeError(`Cannot use parity "${value}": expected even, odd or none`);
      }
      out.parity = value;
    } else if (flag === "--fault") (out.faults ??= []).push(parseFault(value));
    else throw new RangeError(`Cannot parse argument "${arg}"`);
  }
  return out;
}

/**
 * Runs the simulator from the command line; resolves with the exit code when a signal
 * stops it (2 for bad arguments or a bad map).
 */
export async function runSimCli(args: string[]): Promise<number> {
  let parsed: SimCliArgs;
  let map: SimulatorMap | undefined;
  try {
    parsed = parseSimArgs(args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    console.error(USAGE);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (parsed.map) map = parseMapYaml(await Deno.readTextFile(parsed.map));
  } catch (e) {
    const message = e instanceof Deno.errors.NotFound
      ? `Cannot read the simulator map "${parsed.map}": no such file`
      : e instanceof Error
      ? e.message
      : String(e);
    console.error(message);
    return 2;
  }
  const rtu = parsed.rtuTcp !== undefined || parsed.serial !== undefined
    ? {
      ...(parsed.rtuTcp !== undefined ? { tcpPort: parsed.rtuTcp } : {}),
      ...(parsed.serial !== undefined
        ? {
          serialPath: parsed.serial,
          baudRate: parsed.baud ?? 9600,
          parity: parsed.parity ?? "even",
        }
        : {}),
    }
    : undefined;
  let sim;
  try {
    sim = await startModbusSimulator({
      host: parsed.host,
      port: parsed.port,
      ...(map ? { map } : {}),
      ...(rtu ? { rtu } : {}),
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
  applyFaults(sim.faults, parsed.faults ?? []);
  console.log(`Modbus simulator listening on ${sim.host}:${sim.port}`);
  if (parsed.faults?.length) console.log(`Faults: ${parsed.faults.map(describeFault).join(", ")}`);
  if (parsed.rtuTcp !== undefined) {
    console.log(`Modbus RTU over TCP listening on ${sim.host}:${sim.rtuPort}`);
  }
  if (parsed.serial !== undefined) {
    console.log(`Modbus RTU serving serial device ${sim.serialPath}`);
  }
  const { promise, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, resolve);
  await promise;
  for (const s of signals) Deno.removeSignalListener(s, resolve);
  await sim.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runSimCli(Deno.args));
