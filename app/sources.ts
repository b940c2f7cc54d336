/**
 * @module
 * The modules a running gateway holds, imported on demand. `bifrost run` validates its flows
 * in a child process and then imports only the drivers, steps and sinks they name: a
 * Modbus-to-SQLite gateway never carries the OPC UA, BACnet or EtherNet/IP modules, the MQTT
 * sinks or the analytics steps. Each new revision of the flows brings in what it names
 * (the gateway's `prepare` hook) before it is applied.
 */

import type { DriverModule, SinkModule, StepModule } from "../engine/plugin.ts";
import type { FlowSet } from "../engine/flow/types.ts";
import { driverLoaders } from "../drivers/loaders.ts";
import { sinkLoaders } from "../sinks/loaders.ts";
import { stepLoaders } from "../steps/loaders.ts";

/** The modules imported so far; the arrays grow in place, so every holder sees new ones. */
export interface GatewaySources {
  drivers: DriverModule[];
  steps: StepModule[];
  sinks: SinkModule[];
}

/** Sources holding no module yet. */
export function emptySources(): GatewaySources {
  return { drivers: [], steps: [], sinks: [] };
}

async function add<M extends { name: string }>(
  into: M[],
  names: Iterable<string>,
  loaders: Readonly<Record<string, () => Promise<M>>>,
): Promise<void> {
  const wanted = new Set(
    [...names].filter((n) => Object.hasOwn(loaders, n) && !into.some((m) => m.name === n)),
  );
  // A module is one object however often it is imported: a concurrent call adds it once.
  for (const m of await Promise.all([...wanted].map((n) => loaders[n]!()))) {
    if (!into.includes(m)) into.push(m);
  }
}

/**
 * Imports the modules `flows` name that `into` does not hold yet, and adds them. A name no
 * loader knows is left out: the gateway then reports the unknown driver, step or sink.
 */
export async function addModulesOf(flows: FlowSet, into: GatewaySources): Promise<GatewaySources> {
  await Promise.all([
    add(into.drivers, [...flows.devices.values()].map((d) => d.driver), driverLoaders),
    add(into.steps, [...flows.steps.values()].map((s) => s.use), stepLoaders),
    add(into.sinks, [...flows.sinks.values()].map((s) => s.use), sinkLoaders),
  ]);
  return into;
}
