/**
 * @module
 * `bifrost sim opcua [--port 4840] [--variables N] [--user NAME:PASSWORD] [--fault ...]`:
 * runs the OPC UA simulator until SIGINT or SIGTERM.
 */

import { parseDuration } from "../../../engine/plugin.ts";
import {
  type OpcuaSimOptions,
  type OpcuaSimulator,
  startOpcuaSimulator,
} from "../simulator/server.ts";
import { SIM_USAGE } from "./usage.ts";

/** Faults of the command line, applied once the simulator runs. */
interface Faults {
  slowMs: number;
  dropEveryMs: number;
  restartEveryMs: number;
}

function applyFault(f: Faults, text: string): void {
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
  const faults: Faults = { slowMs: 0, dropEveryMs: 0, restartEveryMs: 0 };
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--help" || a === "-h") {
        console.log(SIM_USAGE);
        return 0;
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
      else if (a === "--fault") applyFault(faults, v);
      else throw new RangeError(`unknown argument "${a}"`);
    }
  } catch (e) {
    console.error(`Cannot start the simulator: ${(e as Error).message}`);
    console.error(SIM_USAGE);
    return 2;
  }
  if (faults.slowMs || faults.dropEveryMs) o.proxy = true;
  let sim: OpcuaSimulator;
  try {
    sim = await startOpcuaSimulator(o);
  } catch (e) {
    console.error(`Cannot start the simulator: ${(e as Error).message}`);
    return 1;
  }
  if (sim.proxy) sim.proxy.delayMs = faults.slowMs;
  const timers: ReturnType<typeof setInterval>[] = [];
  if (faults.dropEveryMs) timers.push(setInterval(() => sim.proxy?.drop(), faults.dropEveryMs));
  if (faults.restartEveryMs) {
    timers.push(setInterval(() => {
      sim.restart().then(
        () => console.log("OPC UA simulator restarted"),
        (e) => console.error(`Restart failed: ${(e as Error).message}`),
      );
    }, faults.restartEveryMs));
  }
  console.log(`OPC UA simulator listening on ${sim.endpoint} (server PKI in ${sim.pki})`);
  const { promise, resolve } = Promise.withResolvers<void>();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, resolve);
  await promise;
  for (const t of timers) clearInterval(t);
  await sim.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runSimCli(Deno.args));
