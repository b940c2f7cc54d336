/**
 * @module
 * `bifrost discover modbus --host H [--port 502] [--units 1-247] [--timeout 200ms]
 * [--register HR0] [--parallel 1]`: probes unit ids behind a Modbus TCP endpoint and prints
 * which answered and how. Exit code 0 when at least one unit answered, 1 when none did or
 * the endpoint is unreachable, 2 for bad arguments.
 */

import {
  type DriverCommand,
  errorMessage,
  parseDuration,
  type ToolOutput,
} from "../../../engine/plugin.ts";
import { parseAddress } from "../core/address.ts";
import { discoverUnits, formatDiscovery, parseUnitList, probeText } from "./discover.ts";

import { DISCOVER_USAGE as USAGE } from "./usage.ts";

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
      throw new RangeError(`Cannot parse ${flag}: it needs a value`);
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
        throw new RangeError(`Cannot parse argument "${arg}"`);
    }
  }
  if (!out.host) throw new RangeError(`Cannot discover without --host`);
  out.units = parseUnitList(out.unitsText!);
  return out as DiscoverArgs;
}

/**
 * `bifrost discover modbus ...`: scans, prints a table; 0 when a unit answered, 1 when none
 * did or the endpoint is unreachable, 2 for bad arguments.
 *
 * @example
 * ```ts
 * await modbusDiscover.run(["--host", "10.0.0.5", "--units", "1-32"], console);
 * ```
 */
export const modbusDiscover: DriverCommand = {
  usage: USAGE,
  async run(args: string[], out: ToolOutput): Promise<number> {
    let a: DiscoverArgs;
    try {
      a = parseDiscoverArgs(args);
    } catch (e) {
      if (e instanceof RangeError && e.message === USAGE) {
        out.log(USAGE);
        return 0;
      }
      out.error(errorMessage(e));
      out.error(USAGE);
      return 2;
    }
    out.log(
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
      for (const line of formatDiscovery(r)) out.log(line);
      return r.units.length > 0 ? 0 : 1;
    } catch (e) {
      out.error(errorMessage(e));
      return 1;
    }
  },
};
