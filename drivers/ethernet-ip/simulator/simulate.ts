/**
 * @module
 * The virtual controller of `--simulate`: a simulator whose tags are the device's tags
 * (types and array sizes from the flow; members of structures become members of a
 * structure of the simulator), with values from the device's `simulator:` block (a value,
 * or a generator run on one timer).
 */

import type { DeviceConfig, SimulatedDevice } from "../../../engine/plugin.ts";
import {
  type GeneratorSpec,
  type GeneratorState,
  initGenerator,
  stepGenerator,
} from "../../../simulators/generators.ts";
import { parseAddress } from "../core/address.ts";
import type { EipSimulatorMap } from "./server.ts";
import { type SimTagSpec, writeElement } from "./store.ts";

/** The simulator map serving a device's tags. */
export function mapOfDevice(device: DeviceConfig): EipSimulatorMap {
  const map: EipSimulatorMap = { tags: {}, programs: {}, structures: {} };
  for (const tag of device.tags.values()) {
    let a;
    try {
      a = parseAddress(tag.address);
    } catch {
      continue;
    }
    const count = typeof tag.config.count === "number" ? tag.config.count : 1;
    const first = a.parts[0]!;
    const scope = a.program ? (map.programs![a.program.slice(8)] ??= {}) : map.tags!;
    const type = a.bit !== undefined ? "DINT" : tag.type === "" ? "DINT" : tag.type;
    if (a.parts.length === 1) {
      const last = first.indexes;
      const size = last.length
        ? last.map((i, k) => k === last.length - 1 ? i + count : i + 1)
        : count > 1
        ? [count]
        : [];
      const spec: SimTagSpec = {
        type,
        ...(size.length ? { dims: type === "BOOL" ? [Math.max(32, size[0]!)] : size } : {}),
      };
      const have = scope[first.name];
      if (!have || (have.dims?.[0] ?? 0) < (spec.dims?.[0] ?? 0)) scope[first.name] = spec;
      continue;
    }
    // A member path: one structure per tag name, its members from the flow's tags.
    const sname = `${first.name}_T`;
    const s = map.structures![sname] ??= {};
    const member = a.parts[1]!;
    if (a.parts.length === 2) {
      s[member.name] = {
        type,
        ...(member.indexes.length || count > 1 ? { dims: (member.indexes[0] ?? 0) + count } : {}),
      };
    }
    scope[first.name] = { type: sname };
  }
  return map;
}

/** Starts a simulator on 127.0.0.1, port 0, serving the device's tags. */
export async function simulateDevice(device: DeviceConfig): Promise<SimulatedDevice> {
  const { startEipSimulator } = await import("./server.ts");
  const sim = await startEipSimulator({ map: mapOfDevice(device), udp: false });
  const gens: { set(v: unknown): void; spec: GeneratorSpec; state: GeneratorState }[] = [];
  for (const tag of device.tags.values()) {
    const entry = device.simulator?.[tag.name] as (GeneratorSpec & { value?: unknown }) | undefined;
    if (!entry || typeof entry !== "object") continue;
    const a = parseAddress(tag.address);
    const names = [...(a.program ? [a.program] : []), ...a.parts.map((p) => p.name)];
    const indexes = [...(a.program ? [[]] : []), ...a.parts.map((p) => p.indexes)];
    const last = indexes[indexes.length - 1]!;
    // A BOOL array element lives in the DWORD that holds it.
    const element = tag.type === "BOOL" && last.length === 1 ? last[0]! : undefined;
    if (element !== undefined) indexes[indexes.length - 1] = [element >> 5];
    const set = (v: unknown) => {
      try {
        const view = sim.store.resolve(names, indexes);
        if (element !== undefined) {
          writeElement(view.tag.data, "BOOL", view.offset + ((element & 31) >> 3), v, element & 7);
          return;
        }
        const isInt = typeof view.type === "string" &&
          !["REAL", "LREAL", "BOOL"].includes(view.type);
        const value = tag.type === "BOOL"
          ? Boolean(v)
          : /LINT$/.test(tag.type) && typeof v === "number"
          ? BigInt(Math.round(v))
          : isInt && typeof v === "number"
          ? Math.round(v)
          : v;
        writeElement(view.tag.data, view.type, view.offset, value, view.bit);
      } catch { /* a value that does not fit stays out */ }
    };
    if (entry.generator === undefined) {
      if (entry.value !== undefined) set(entry.value);
      continue;
    }
    const g = { set, spec: entry, state: initGenerator(entry) };
    set(g.state.value);
    gens.push(g);
  }
  const timer = gens.length
    ? setInterval(() => {
      const t = Date.now();
      for (const g of gens) {
        g.state = stepGenerator(g.spec, g.state, t);
        g.set(g.state.value);
      }
    }, 200)
    : undefined;
  return {
    connection: { host: sim.host, port: sim.port },
    close: async () => {
      clearInterval(timer);
      await sim.close();
    },
  };
}
