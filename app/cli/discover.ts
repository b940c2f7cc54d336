/**
 * @module
 * `bifrost discover modbus --host H [--port 502] [--units 1-247] [--timeout 200ms]
 * [--register HR0] [--parallel 1]`: probes unit ids behind a Modbus TCP endpoint and prints
 * which answered and how. Exit code 0 when at least one unit answered, 1 when none did,
 * 2 for bad arguments or an unreachable endpoint.
 */

import { errorMessage } from "../../engine/errors.ts";
import { parseDuration } from "../../engine/flow/duration.ts";
import {
  discoverUnits,
  formatDiscovery,
  parseUnitList,
  probeText,
} from "../../drivers/modbus/tools/discover.ts";
import { parseAddress } from "../../drivers/modbus/core/address.ts";

const USAGE =
  "Usage: bifrost discover modbus --host H [--port 502] [--units 1-247] [--timeout 200ms] [--register HR0] [--parallel 1]";

/** Parsed command line of `bifrost discover modbus`. */
export interface DiscoverArgs {
  host: string;
  port: number;
  units: number[];
  unitsText: string;
  timeoutMs: number;
  register: string;
  parallel: number;
}

/** Parses the arguments after `discover modbus`; throws a `RangeError` saying what is wrong. */
export function parseDiscoverArgs(args: readonly string[]): DiscoverArgs {
  const out: Partial<DiscoverArgs> = {
    port: 502,
    unitsText: "1-247",
    timeoutMs: 200,
    register: "HR0",
    parallel: 1,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let [flag, value] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--help" || flag === "-h") throw new RangeError(USAGE);
    if (value === undefined) value = args[++i];
    if (value === undefined) {
      throw new RangeError(`Cannot parse ${flag}: it needs a value. ${USAGE}`);
    }
    switch (flag) {
      case "--host":
        out.host = value;
        break;
      case "--port": {
        const p = Number(value);
        if (!/^[0-9]+$/.test(value) || p < 1 || p > 65535) {
          throw new RangeError(`Cannot use port "${value}": expected an integer 1..65535`);
        }
        out.port = p;
        break;
      }
      case "--units":
        out.unitsText = value;
        break;
      case "--timeout":
        out.timeoutMs = parseDuration(value);
        break;
      case "--register":
        parseAddress(value);
        out.register = value;
        break;
      case "--parallel": {
        const n = Number(value);
        if (!/^[0-9]+$/.test(value) || n < 1 || n > 16) {
          throw new RangeError(`Cannot use --parallel "${value}": expected an integer 1..16`);
        }
        out.parallel = n;
        break;
      }
      default:
        throw new RangeError(`Cannot parse argument "${arg}". ${USAGE}`);
    }
  }
  if (!out.host) throw new RangeError(`Cannot discover without --host. ${USAGE}`);
  out.units = parseUnitList(out.unitsText!);
  return out as DiscoverArgs;
}

/**
 * Runs `bifrost discover <protocol> ...` (`args` start with the protocol); returns the exit
 * code.
 *
 * @example
 * ```ts
 * await discoverCommand(["modbus", "--host", "10.0.0.5", "--units", "1-32"]);
 * ```
 */
export async function discoverCommand(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (protocol !== "modbus") {
    console.error(
      `Cannot discover devices for "${protocol ?? ""}": available protocols are: modbus. ${USAGE}`,
    );
    return 2;
  }
  let a: DiscoverArgs;
  try {
    a = parseDiscoverArgs(rest);
  } catch (e) {
    console.error(errorMessage(e));
    return 2;
  }
  console.log(
    `Scanning ${a.host}:${a.port}, unit ids ${a.unitsText}, ${
      probeText(a.register)
    }, timeout ${a.timeoutMs} ms`,
  );
  try {
    const r = await discoverUnits({
      host: a.host,
      port: a.port,
      units: a.units,
      timeoutMs: a.timeoutMs,
      register: a.register,
      parallel: a.parallel,
    });
    for (const line of formatDiscovery(r)) console.log(line);
    return r.units.length > 0 ? 0 : 1;
  } catch (e) {
    console.error(errorMessage(e));
    return 2;
  }
}
