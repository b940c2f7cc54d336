/**
 * @module
 * Dispatches `bifrost <command>`; each command returns its exit code.
 */

// Commands load on demand: `run` must not pay for the modules of `check` (see _load.ts).
import { VERSION } from "../../engine/version.ts";

const USAGE = `bifrost ${VERSION}: industrial edge gateway

Usage: bifrost <command> [options]   (bifrost <command> --help)

Commands:
  run <flow-dir> [--simulate] [--data-dir DIR] [--log-level L] [--no-reload]
      [--http HOST:PORT | --no-http] [--tokens FILE] [--tls-cert F --tls-key F] [--cors ORIGIN]
                                       run the flows and the HTTP API; reload the flows live on
                                       change (SIGHUP too); Ctrl-C stops cleanly
  status [--url http://127.0.0.1:8720] [--token T] [--json]
                                       devices, polls and sinks of a running gateway
  check <flow-dir> [--json]            validate flows; every problem with file:line:column
  plan <flow-dir>                      print the requests each poll makes
  read <flow-dir> <device> <tag>       read one tag through a flow's device
  read <url> [--timeout 5s]            read one value straight from a device
  write <flow-dir> <device> <tag> <value>
  write <url> <value>                  write one value
  read|write --api URL <device> <tag> [<value>]
                                       through a running gateway (checked, audited)
  browse <url> [--depth 2] [--out flows/new.yaml] [--force]
                                       write a flow draft of what a device exposes
  discover <driver> [options]          find the devices or units that answer
  <driver> <command> [options]         a driver's own command (listed below)
  sim <driver> [options]               run a virtual device
  sim netem --listen 5021 --target HOST:PORT [--latency 50ms --jitter 10ms --loss 1%
            --bandwidth 9600bps --blackhole]
                                       a network condition proxy for any TCP protocol
  init [dir]                           write a new flow repository (flows, functions, types)
  schema                               print the flow JSON Schema
  version                              print the version

Environment: BIFROST_LOG_LEVEL=debug|info|warn|error, BIFROST_API_TOKENS (run), BIFROST_TOKEN (status)`;

/** The full help: the commands, then what the installed drivers offer. */
async function usage(): Promise<string> {
  const { toolsHelp } = await import("./_tools.ts");
  return `${USAGE}\n\n${toolsHelp()}`;
}

/** Runs the command line `args`; returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "run":
      return await (await import("./run.ts")).runGatewayCommand(rest);
    case "status":
      return await (await import("./status.ts")).statusCommand(rest);
    case "check":
      return await (await import("./check.ts")).checkCommand(rest);
    case "plan":
      return await (await import("./check.ts")).planCommand(rest);
    case "read":
      return await (await import("./read_write.ts")).readCommand(rest);
    case "write":
      return await (await import("./read_write.ts")).writeCommand(rest);
    case "browse":
      return await (await import("./browse.ts")).browseCommand(rest);
    case "sim":
      return await (await import("./sim.ts")).simCommand(rest);
    case "discover":
      return await (await import("./discover.ts")).discoverCommand(rest);
    case "init":
      return await (await import("./init.ts")).initCommand(rest);
    case "__function-child":
      // Hidden: a function's process when the gateway is the compiled binary (see
      // engine/functions/child_process.ts); it drops every permission before user code.
      await (await import("../../engine/functions/child.ts")).runChild({ dropPermissions: true });
      return 0;
    case "schema":
      return (await import("./schema.ts")).schemaCommand(rest);
    case "version":
    case "--version":
    case "-V":
      console.log(`bifrost ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(await usage());
      return cmd === undefined ? 2 : 0;
    default: {
      // A driver's own commands (`bifrost <driver> <command>`), found by its tools' name.
      const code = await (await import("./_tools.ts")).runDriverCommand(cmd, rest);
      if (code !== undefined) return code;
      console.error(`Unknown command "${cmd}": see bifrost --help`);
      console.error("Usage: bifrost <command> [options]");
      return 2;
    }
  }
}
