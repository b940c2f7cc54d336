/**
 * @module
 * The device side of the Modbus benchmark's tag-level runs: many Modbus TCP simulators in
 * one process (one listening port each, so that every Bifrost device is its own TCP
 * connection), all holding the register layout of {@linkcode benchTags}. The first `--dead`
 * of them answer nothing (`faults.dropNext = Infinity`): every request to them times out.
 *
 * ```sh
 * taskset -c 1 deno run -A scripts/bench/_modbus_farm.ts --devices 1000 --dead 0
 * ```
 *
 * Prints one JSON line `{"ports":[...]}` once every simulator listens, then runs until
 * stdin closes or SIGTERM; on the way out it prints `{"requests":N,"cpuMs":C}`.
 */

import process from "node:process";
import { parseArgs } from "node:util";
import {
  type ModbusSimulator,
  startModbusSimulator,
} from "../../drivers/modbus/simulator/server.ts";
import type { PointSpec } from "../../drivers/modbus/simulator/map.ts";

/** One tag of a benchmark device: name, address and type. */
export interface BenchTag {
  name: string;
  address: string;
  type: "float32" | "int16";
}

/**
 * The tags of every benchmark device: half float32 (HR0, HR2…), half int16 right after
 * them; 100 tags make 150 registers, which the planner reads in 2 requests.
 */
export function benchTags(n: number): BenchTag[] {
  const floats = Math.ceil(n / 2);
  return Array.from(
    { length: n },
    (_, i) =>
      i < floats
        ? { name: `f${i}`, address: `HR${2 * i}`, type: "float32" }
        : { name: `i${i}`, address: `HR${2 * floats + i - floats}`, type: "int16" },
  );
}

/** The simulator points of {@linkcode benchTags}: constants, distinct per tag. */
export function benchPoints(n: number): Record<string, PointSpec> {
  return Object.fromEntries(
    benchTags(n).map((
      t,
      i,
    ) => [t.address, { type: t.type, value: t.type === "int16" ? i : i + 0.5 }]),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      devices: { type: "string", default: "1000" },
      tags: { type: "string", default: "100" },
      dead: { type: "string", default: "0" },
    },
  });
  const devices = Number(values.devices);
  const dead = Number(values.dead);
  const units = { 1: benchPoints(Number(values.tags)) };
  const sims: ModbusSimulator[] = [];
  for (let i = 0; i < devices; i++) {
    const sim = await startModbusSimulator({ units, updateMs: 0 });
    if (i < dead) sim.faults.dropNext = Infinity;
    sims.push(sim);
  }
  console.log(JSON.stringify({ ports: sims.map((s) => s.port) }));
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* until closed */ }
    resolve();
  })();
  await promise;
  const cpu = process.cpuUsage();
  const requests = sims.reduce((n, s) => n + s.stats.requests, 0);
  console.log(JSON.stringify({ requests, cpuMs: (cpu.user + cpu.system) / 1000 }));
  await Promise.all(sims.map((s) => s.close()));
  Deno.exit(0);
}
