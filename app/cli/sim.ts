/**
 * @module
 * `bifrost sim <protocol>`: runs a virtual device until interrupted.
 */

import { runSimCli } from "../../drivers/modbus/simulator/mod.ts";
import { runNetemCli } from "../../simulators/netem/mod.ts";

/** Runs a simulator; returns its exit code. */
export async function simCommand(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (protocol === "modbus") return await runSimCli(rest);
  if (protocol === "netem") return await runNetemCli(rest);
  console.error(
    `Cannot start a simulator for "${protocol ?? ""}": available are: modbus, netem`,
  );
  return 2;
}
