/**
 * @module
 * Dispatches `bifrost <command>`; each command returns its exit code.
 */

// Commands load on demand: `run` must not pay for the modules of `check` (see _load.ts).
import { VERSION } from "../version.ts";

const USAGE = `bifrost ${VERSION}: industrial edge gateway

Usage: bifrost <command> [options]

Commands:
  run <flow-dir> [--simulate] [--data-dir DIR]   run the flows (Ctrl-C stops cleanly)
  check <flow-dir> [--json]                      validate flows; every problem with file:line:column
  plan <flow-dir>                                print the requests each poll makes
  read <flow-dir> <device> <tag>                 read one tag through a flow's device
  read modbus://host:502/1/HR100:float32:CDAB    read one value straight from a device
  read modbus-rtu:///dev/ttyUSB0/1/HR0?baud=19200  (also modbus-rtu-tcp://host:4001/1/HR0)
  write <flow-dir> <device> <tag> <value>        write one tag
  write modbus://host:502/1/HR100:float32 <value>
  discover modbus --host H [--port 502] [--units 1-247] [--timeout 200ms] [--register HR0]
                                                 list the Modbus unit ids that answer
  sim modbus [--port 5020] [--map sim.yaml] [--rtu-tcp PORT] [--serial DEV [--baud 9600]
             [--parity even|odd|none]]           run a virtual Modbus device (TCP, RTU)
             [--fault busy=5% --fault delay=1.5s ...]  with faults (sim modbus --help lists them)
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
      return await (await import("./run.ts")).runGatewayCommand(rest);
    case "check":
      return await (await import("./check.ts")).checkCommand(rest);
    case "plan":
      return await (await import("./check.ts")).planCommand(rest);
    case "read":
      return await (await import("./read_write.ts")).readCommand(rest);
    case "write":
      return await (await import("./read_write.ts")).writeCommand(rest);
    case "sim":
      return await (await import("./sim.ts")).simCommand(rest);
    case "discover":
      return await (await import("./discover.ts")).discoverCommand(rest);
    case "schema":
      return (await import("./schema.ts")).schemaCommand();
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
