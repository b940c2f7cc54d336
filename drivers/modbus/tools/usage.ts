/**
 * @module
 * The usage texts of `bifrost discover modbus` and `bifrost sim modbus`. They live apart from
 * the commands so that the tools object (`mod.ts`) can list them in the help without loading
 * the commands: the gateway imports every driver module, and the commands (simulator server,
 * map parser, discovery) load only when a command runs.
 */

import { FAULT_HELP } from "./cli_faults.ts";

/** `bifrost discover modbus` usage. */
export const DISCOVER_USAGE =
  "Usage: bifrost discover modbus --host H [--port 502] [--units 1-247] [--timeout 200ms] [--register HR0] [--parallel 1]";

/** `bifrost sim modbus` usage and the fault kinds, printed by `--help` and after a bad argument. */
export const SIM_USAGE =
  `Usage: bifrost sim modbus [--host 127.0.0.1] [--port 5020] [--map sim.yaml] [--rtu-tcp PORT]
       [--serial DEV [--baud 9600] [--parity even|odd|none]] [--fault KIND=VALUE ...]
${FAULT_HELP}`;
