/**
 * @module
 * `bifrost sim <protocol>`: runs a virtual device until interrupted.
 */

import { runSimCli } from "../../simulators/modbus/mod.ts";

/** Runs a simulator; returns its exit code. */
export async function simCommand(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (protocol === "modbus") return await runSimCli(rest);
  console.error(
    `Cannot start a simulator for "${protocol ?? ""}": available protocols are: modbus`,
  );
  return 2;
}
