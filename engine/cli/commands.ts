/**
 * @module
 * Dispatches `bifrost <command>`; each command returns its exit code.
 */

import { checkCommand, planCommand } from "./check.ts";
import { readCommand, writeCommand } from "./read_write.ts";
import { runGatewayCommand } from "./run.ts";
import { schemaCommand } from "./schema.ts";
import { simCommand } from "./sim.ts";
import { VERSION } from "../version.ts";

const USAGE = `bifrost ${VERSION}: industrial edge gateway

Usage: bifrost <command> [options]

Commands:
  run <flow-dir> [--simulate] [--data-dir DIR]   run the flows (Ctrl-C stops cleanly)
  check <flow-dir> [--json]                      validate flows; every problem with file:line:column
  plan <flow-dir>                                print the requests each poll makes
  read <flow-dir> <device> <tag>                 read one tag through a flow's device
  read modbus://host:502/1/HR100:float32:CDAB    read one value straight from a device
  write <flow-dir> <device> <tag> <value>        write one tag
  write modbus://host:502/1/HR100:float32 <value>
  sim modbus [--port 5020] [--map sim.yaml]      run a virtual Modbus TCP device
  sim netem --listen 5021 --target HOST:PORT [--latency 50ms --jitter 10ms --loss 1%
            --bandwidth 9600bps --blackhole]     a network condition proxy for any TCP protocol
  schema                                         print the flow JSON Schema
  version                                        print the version

Environment: BIFROST_LOG_LEVEL=debug|info|warn|error`;

/** Runs the command line `args`; returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "run":
      return await runGatewayCommand(rest);
    case "check":
      return await checkCommand(rest);
    case "plan":
      return await planCommand(rest);
    case "read":
      return await readCommand(rest);
    case "write":
      return await writeCommand(rest);
    case "sim":
      return await simCommand(rest);
    case "schema":
      return schemaCommand();
    case "version":
    case "--version":
    case "-V":
      console.log(`bifrost ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`Unknown command "${cmd}".\n\n${USAGE}`);
      return 2;
  }
}
