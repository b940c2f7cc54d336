/**
 * @module
 * `bifrost discover <name> [options]`: runs a driver's discovery (which devices or units
 * answer), from the driver's tools.
 */

import { errorMessage } from "../../engine/errors.ts";
import { namesOffering, toolsByName } from "./_tools.ts";

/** Usage of `bifrost discover`. */
export const DISCOVER_USAGE =
  "Usage: bifrost discover <name> [options]   (bifrost discover <name> --help)";

/** Runs `bifrost discover`; returns the exit code. */
export async function discoverCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h") {
    console.log(
      `${DISCOVER_USAGE}\nDrivers with discover: ${namesOffering("discover").join(", ")}`,
    );
    return 0;
  }
  let run;
  try {
    run = toolsByName(name, "discover").discover!;
  } catch (e) {
    console.error(errorMessage(e));
    if (name === undefined || name.startsWith("-")) {
      console.error(DISCOVER_USAGE);
      return 2;
    }
    return 1;
  }
  return await run.run(rest, console);
}
