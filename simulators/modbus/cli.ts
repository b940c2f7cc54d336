/**
 * @module
 * `bifrost sim modbus [--host 127.0.0.1] [--port 5020] [--map sim.yaml]`: runs the
 * simulator until SIGINT or SIGTERM and prints the address it listens on.
 */

import type { SimulatorMap } from "./map.ts";
import { parseMapYaml } from "./map_yaml.ts";
import { startModbusSimulator } from "./server.ts";

const USAGE = "Usage: bifrost sim modbus [--host 127.0.0.1] [--port 5020] [--map sim.yaml]";

/** Parsed command line of the simulator. */
export interface SimCliArgs {
  host: string;
  port: number;
  map?: string;
}

/** Parses `--host`, `--port` and `--map` (also `--port=5020`); throws a `RangeError`. */
export function parseSimArgs(args: readonly string[]): SimCliArgs {
  const out: SimCliArgs = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let [flag, value] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--help" || flag === "-h") throw new RangeError(USAGE);
    if (value === undefined) value = args[++i];
    if (value === undefined) {
      throw new RangeError(`Cannot parse ${flag}: it needs a value. ${USAGE}`);
    }
    if (flag === "--port") {
      const p = Number(value);
      if (!Number.isInteger(p) || p < 0 || p > 65535) {
        throw new RangeError(`Cannot use port "${value}": expected an integer 0..65535`);
      }
      out.port = p;
    } else if (flag === "--host") out.host = value;
    else if (flag === "--map") out.map = value;
    else throw new RangeError(`Cannot parse argument "${arg}". ${USAGE}`);
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
    if (parsed.map) map = parseMapYaml(await Deno.readTextFile(parsed.map));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const sim = await startModbusSimulator({
    host: parsed.host,
    port: parsed.port,
    ...(map ? { map } : {}),
  });
  console.log(`Modbus simulator listening on ${sim.host}:${sim.port}`);
  const { promise, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, resolve);
  await promise;
  for (const s of signals) Deno.removeSignalListener(s, resolve);
  await sim.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runSimCli(Deno.args));
