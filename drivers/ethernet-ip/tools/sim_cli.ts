/**
 * @module
 * `bifrost sim ethernet-ip [--host 127.0.0.1] [--port 44818] [--map tags.yaml] [--fault ...]`:
 * runs the simulated Logix controller until SIGINT or SIGTERM. The map is YAML with
 * `tags:`, `programs:` and `structures:` (see `simulator/demo.ts`, the default content).
 */

import { parse } from "yaml";
import { type EipFaults, type EipSimulatorMap, startEipSimulator } from "../simulator/server.ts";
import { parseDuration } from "../../../engine/plugin.ts";
import { DEMO_MAP } from "../simulator/demo.ts";
import { SIM_USAGE } from "./usage.ts";

/** Applies one `--fault` to the simulator's switches; throws a RangeError for a bad one. */
export function applyFault(f: EipFaults, text: string): void {
  const [kind, value] = text.split(/=(.*)/s) as [string, string | undefined];
  switch (kind) {
    case "delay":
      f.delayMs = parseDuration(value ?? "");
      return;
    case "silent":
      f.silent = true;
      return;
    case "refuse-forward-open":
      f.refuseForwardOpen = true;
      return;
    case "refuse-large-forward-open":
      f.refuseLargeForwardOpen = true;
      return;
    case "no-browse":
      f.noBrowse = true;
      return;
    case "malformed":
      f.malformed = true;
      return;
    case "drop-every":
      f.dropEveryMs = parseDuration(value ?? "");
      if (f.dropEveryMs <= 0) throw new RangeError(`drop-every needs a duration above 0`);
      return;
    case "tag-error": {
      const m = /^([^:]+):(0x[0-9a-f]+|[0-9]+)$/i.exec(value ?? "");
      if (!m) throw new RangeError(`tag-error needs TAG:STATUS, got "${value}"`);
      f.tagErrors.set(m[1]!.toLowerCase(), { status: Number(m[2]), extended: [] });
      return;
    }
    default:
      throw new RangeError(`unknown fault "${kind}"`);
  }
}

/** Runs the simulator from the command line; resolves with the exit code. */
export async function runSimCli(args: string[]): Promise<number> {
  let host = "127.0.0.1";
  let port = 44818;
  let map: EipSimulatorMap = DEMO_MAP;
  const faults: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--help" || a === "-h") {
        console.log(SIM_USAGE);
        return 0;
      }
      const v = args[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      if (a === "--host") host = v;
      else if (a === "--port") {
        port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new RangeError(`port "${v}" is not 0..65535`);
        }
      } else if (a === "--map") map = parse(await Deno.readTextFile(v)) as EipSimulatorMap;
      else if (a === "--fault") faults.push(v);
      else throw new RangeError(`unknown argument "${a}"`);
    }
  } catch (e) {
    console.error(`Cannot start the simulator: ${(e as Error).message}`);
    console.error(SIM_USAGE);
    return 2;
  }
  let sim;
  try {
    sim = await startEipSimulator({ host, port, map });
    for (const f of faults) applyFault(sim.faults, f);
  } catch (e) {
    await sim?.close();
    console.error(`Cannot start the simulator: ${(e as Error).message}`);
    return e instanceof RangeError ? 2 : 1;
  }
  console.log(`EtherNet/IP simulator listening on ${sim.host}:${sim.port}`);
  const { promise, resolve } = Promise.withResolvers<void>();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, resolve);
  await promise;
  await sim.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runSimCli(Deno.args));
