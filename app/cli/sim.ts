/**
 * @module
 * `bifrost sim <name> [options]`: runs a driver's simulator (from the driver's tools) or the
 * protocol-neutral network condition proxy `netem` until interrupted.
 */

import { errorMessage } from "../../engine/errors.ts";
import { runNetemCli } from "../../simulators/netem/mod.ts";
import { namesOffering, toolsByName } from "./_tools.ts";

/** Usage of `bifrost sim`. */
export const SIM_USAGE = "Usage: bifrost sim <name> [options]   (bifrost sim <name> --help)";

/** Runs a simulator; returns its exit code. */
export async function simCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === "netem") return await runNetemCli(rest);
  if (name === "--help" || name === "-h") {
    console.log(`${SIM_USAGE}\nSimulators: ${[...namesOffering("simulator"), "netem"].join(", ")}`);
    return 0;
  }
  try {
    return await toolsByName(name, "simulator", ["netem"]).simulator!.cli(rest);
  } catch (e) {
    console.error(errorMessage(e));
    if (name === undefined || name.startsWith("-")) {
      console.error(SIM_USAGE);
      return 2;
    }
    return 1;
  }
}
