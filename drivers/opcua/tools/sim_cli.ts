/**
 * @module
 * `bifrost sim opcua [--config F] [--check] [--port 4840] [--variables N] [--user NAME:PASSWORD]
 * [--fault ...]`: runs the OPC UA simulator until SIGINT or SIGTERM, or (`--check`) only
 * validates the config and says what it holds.
 */

import { isBifrostError, parseDuration } from "../../../engine/plugin.ts";
import { allFolders, expandVariables, hasTemplate } from "../simulator/config.ts";
import {
  type OpcuaSimOptions,
  type OpcuaSimulator,
  resolveConfig,
  startOpcuaSimulator,
} from "../simulator/server.ts";
import { SIM_USAGE } from "./usage.ts";
import { guardOpensslConf, repairOpensslConf } from "../client/load.ts";

/** Faults of the command line, applied once the simulator runs. */
interface Faults {
  slowMs: number;
  dropEveryMs: number;
  restartEveryMs: number;
}

function applyFault(f: Partial<Faults>, text: string): void {
  const [kind, value] = text.split(/=(.*)/s) as [string, string | undefined];
  const ms = () => {
    const n = parseDuration(value ?? "");
    if (n <= 0) throw new RangeError(`${kind} needs a duration above 0, e.g. ${kind}=30s`);
    return n;
  };
  if (kind === "slow") f.slowMs = ms();
  else if (kind === "drop-every") f.dropEveryMs = ms();
  else if (kind === "restart-every") f.restartEveryMs = ms();
  else throw new RangeError(`unknown fault "${kind}" (known: slow, drop-every, restart-every)`);
}

/** Runs the simulator from the command line; resolves with the exit code. */
export async function runSimCli(args: string[]): Promise<number> {
  const o: OpcuaSimOptions = { port: 4840, users: [] };
  const faults: Partial<Faults> = {};
  let check = false;
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--help" || a === "-h") {
        console.log(SIM_USAGE);
        return 0;
      }
      if (a === "--check") {
        check = true;
        continue;
      }
      if (a === "--no-anonymous") {
        o.anonymous = false;
        continue;
      }
      const v = args[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      if (a === "--port") {
        o.port = Number(v);
        if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
          throw new RangeError(`port "${v}" is not 0..65535`);
        }
      } else if (a === "--variables") {
        o.variables = Number(v);
        if (!Number.isInteger(o.variables) || o.variables < 0 || o.variables > 100_000) {
          throw new RangeError(`--variables "${v}" is not 0..100000`);
        }
      } else if (a === "--change-every") o.changeEveryMs = parseDuration(v);
      else if (a === "--user") {
        const m = /^([^:]+):(.*)$/.exec(v);
        if (!m) throw new RangeError(`--user needs NAME:PASSWORD, got "${v}"`);
        o.users!.push({ user: m[1]!, password: m[2]! });
      } else if (a === "--pki") o.pki = v;
      else if (a === "--config") o.config = v;
      else if (a === "--fault") applyFault(faults, v);
      else throw new RangeError(`unknown argument "${a}"`);
    }
  } catch (e) {
    console.error(`Cannot start the simulator: ${(e as Error).message}`);
    console.error(SIM_USAGE);
    return 2;
  }
  if (check) return await checkOnly(o);
  o.faults = faults;
  o.log = (line) => console.log(line);
  let sim: OpcuaSimulator;
  try {
    sim = await startOpcuaSimulator(o);
  } catch (e) {
    console.error(
      isBifrostError(e) ? e.message : `Cannot start the simulator: ${(e as Error).message}`,
    );
    return 1;
  }
  console.log(`OPC UA simulator listening on ${sim.endpoint} (server PKI in ${sim.pki})`);
  const { promise, resolve } = Promise.withResolvers<void>();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, resolve);
  await promise;
  await sim.close();
  return 0;
}

/** `--check`: validates the config (and `--variables`), prints what it holds, starts nothing. */
async function checkOnly(o: OpcuaSimOptions): Promise<number> {
  try {
    const c = await resolveConfig(o.config);
    if (o.variables && !hasTemplate(c)) {
      throw new RangeError(`--variables ${o.variables}: ${c.file} has no variable with repeat:`);
    }
    const vars = expandVariables(c, o.variables);
    // Status names and units are node-opcua's tables: checked against them here too.
    guardOpensslConf();
    const ua = await import("node-opcua");
    repairOpensslConf();
    const bad: string[] = [];
    let folders = 0, methods = 0, alarms = 0;
    for (const f of allFolders(c.objects)) {
      folders++;
      methods += f.methods.length;
      alarms += f.alarms.length;
      for (const m of f.methods) {
        if (m.status && !(m.status in ua.StatusCodes)) {
          bad.push(`${m.at} error: unknown status code "${m.status}" of method "${m.id}"`);
        }
      }
      for (const v of f.variables) {
        if (v.units && !(v.units in ua.standardUnits)) {
          bad.push(
            `${v.at} error: unknown units "${v.units}" of variable "${v.id}" (node-opcua standardUnits)`,
          );
        }
      }
    }
    if (bad.length) {
      console.error(`Invalid OPC UA simulator config:\n${bad.join("\n")}`);
      return 1;
    }
    console.log(
      `${c.file}: OK (${folders} folders, ${vars.length} variables, ${methods} methods, ${alarms} alarms)`,
    );
    return 0;
  } catch (e) {
    console.error(
      isBifrostError(e) ? e.message : `Cannot check the config: ${(e as Error).message}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await runSimCli(Deno.args));
