/**
 * @module
 * The simulator's YAML: devices, their objects and faults, served on distinct ports or
 * behind one simulated router, plus generated sites (`generate: { devices, objects }`) for
 * benchmarks. {@linkcode startSite} starts the endpoints and the value generators.
 *
 * @example
 * ```yaml
 * host: 127.0.0.1
 * port: 47809            # first port: devices get 47809, 47810, ... (or all behind the router)
 * router: { network: 5 } # optional
 * devices:
 *   - instance: 1001
 *     name: AHU-1
 *     objects:
 *       - { address: analog-input:1, name: SupplyTemp, units: degrees-celsius, value: 18.5, covIncrement: 0.2 }
 *       - { address: analog-output:1, name: ValveCmd, units: percent, value: 40 }
 *       - { address: binary-output:1, name: FanCmd, value: true }
 *       - { address: multi-state-value:1, name: Mode, value: 2, states: [Off, Heat, Cool] }
 *     faults: { slow: 0ms, errors: { "analog-input:9": property/unknown-property } }
 * ```
 */

import { parse } from "yaml";
import { parseDuration } from "../../../engine/plugin.ts";
import {
  type GeneratorSpec,
  type GeneratorState,
  initGenerator,
  stepGenerator,
} from "../../../simulators/generators.ts";
import { family, parseAddress } from "../core/address.ts";
import {
  ErrorClass,
  ErrorCodeNames,
  ObjectType,
  PropertyId as P,
  Reliability,
  unitNumber,
} from "../core/enums.ts";
import { type BacnetSimulator, startBacnetSimulator } from "./server.ts";
import { newObject, SimDevice, type SimObject } from "./store.ts";

/** An object as the YAML writes it. */
export interface ObjectYaml {
  address: string;
  name?: string;
  description?: string;
  units?: string;
  value?: number | boolean;
  covIncrement?: number;
  outOfService?: boolean;
  reliability?: string;
  states?: string[];
  noCov?: boolean;
  priorityArray?: boolean;
  generator?: GeneratorSpec;
}

/** A device as the YAML writes it. */
export interface DeviceYaml {
  instance: number;
  name?: string;
  vendorName?: string;
  vendorId?: number;
  modelName?: string;
  maxApdu?: number;
  segmentation?: "both" | "transmit" | "receive" | "none";
  port?: number;
  objects?: ObjectYaml[];
  faults?: { silent?: boolean; slow?: string; errors?: Record<string, string> };
}

/** The simulator's YAML. */
export interface SiteYaml {
  host?: string;
  port?: number;
  router?: { network: number };
  devices?: DeviceYaml[];
  generate?: {
    devices: number;
    objects: number;
    firstInstance?: number;
    maxApdu?: number;
    segmentation?: DeviceYaml["segmentation"];
  };
}

const SEG = { both: 0, transmit: 1, receive: 2, none: 3 } as const;

/** Parses the YAML text of a site; throws `Error` naming the device or object at fault. */
export function parseSite(text: string): SiteYaml {
  const doc = parse(text) as SiteYaml | null;
  if (!doc || typeof doc !== "object") {
    throw new Error("The simulator YAML must be a mapping with devices: or generate:");
  }
  return doc;
}

/** Builds a device's database from its YAML. */
export function buildDevice(d: DeviceYaml): SimDevice {
  if (!Number.isInteger(d.instance) || d.instance < 0 || d.instance > 4194302) {
    throw new Error(
      `Device instance ${JSON.stringify(d.instance)} must be an integer from 0 to 4194302`,
    );
  }
  const dev = new SimDevice({
    instance: d.instance,
    name: d.name ?? `Device ${d.instance}`,
    vendorName: d.vendorName ?? "Bifrost",
    vendorId: d.vendorId ?? 999,
    modelName: d.modelName ?? "Bifrost BACnet simulator",
    maxApdu: d.maxApdu ?? 1476,
    segmentation: SEG[d.segmentation ?? "both"],
    databaseRevision: 1,
  });
  for (const [i, o] of (d.objects ?? []).entries()) {
    const where = `device ${d.instance}, object ${i + 1} (${o.address})`;
    let a;
    try {
      a = parseAddress(o.address);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (family(a.object.type) === "other") {
      throw new Error(`${where}: the simulator serves analog, binary and multi-state objects only`);
    }
    const units = o.units === undefined ? undefined : unitNumber(o.units);
    if (o.units !== undefined && units === undefined) {
      throw new Error(`${where}: unknown units "${o.units}"`);
    }
    const rel = o.reliability === undefined
      ? 0
      : (Reliability as readonly string[]).indexOf(o.reliability);
    if (rel < 0) throw new Error(`${where}: unknown reliability "${o.reliability}"`);
    const obj = newObject(a.object.type, a.object.instance, {
      name: o.name ?? o.address,
      description: o.description ?? "",
      ...(o.value !== undefined ? { value: o.value } : {}),
      ...(units !== undefined ? { units } : {}),
      ...(o.covIncrement !== undefined ? { covIncrement: o.covIncrement } : {}),
      outOfService: o.outOfService ?? false,
      reliability: rel,
      ...(o.states ? { states: o.states } : {}),
      ...(o.noCov ? { noCov: true } : {}),
      ...(o.priorityArray ? { priority: new Array(16).fill(null) } : {}),
    });
    dev.add(obj);
  }
  return dev;
}

/** A generated device of `objects` objects: analog inputs and values, binary values, a multi-state value. */
export function generatedDevice(
  instance: number,
  objects: number,
  o: { maxApdu?: number; segmentation?: DeviceYaml["segmentation"] } = {},
): DeviceYaml {
  const list: ObjectYaml[] = [];
  for (let i = 0; i < objects; i++) {
    const k = i % 10;
    const n = Math.floor(i / 10) + 1;
    if (k < 6) {
      list.push({
        address: `analog-input:${i + 1}`,
        name: `AI-${i + 1}`,
        units: "degrees-celsius",
        value: 20 + i / 10,
        covIncrement: 0.1,
      });
    } else if (k < 8) {
      list.push({
        address: `analog-value:${i + 1}`,
        name: `AV-${i + 1}`,
        units: "percent",
        value: i,
      });
    } else if (k === 8) {
      list.push({ address: `binary-value:${n}`, name: `BV-${n}`, value: n % 2 === 0 });
    } else {list.push({
        address: `multi-state-value:${n}`,
        name: `MSV-${n}`,
        value: 1,
        states: ["Off", "On", "Auto"],
      });}
  }
  return {
    instance,
    name: `Device ${instance}`,
    objects: list,
    ...(o.maxApdu ? { maxApdu: o.maxApdu } : {}),
    ...(o.segmentation ? { segmentation: o.segmentation } : {}),
  };
}

/** A running site: its endpoints and generators. */
export interface Site extends AsyncDisposable {
  endpoints: BacnetSimulator[];
  /** The endpoint and device of an instance. */
  find(instance: number): { sim: BacnetSimulator; device: SimDevice };
  close(): Promise<void>;
}

/** Starts every endpoint of a site. */
export async function startSite(site: SiteYaml): Promise<Site> {
  const yamls = [...(site.devices ?? [])];
  if (site.generate) {
    const g = site.generate;
    for (let i = 0; i < g.devices; i++) {
      yamls.push(
        generatedDevice((g.firstInstance ?? 1000) + i, g.objects, {
          ...(g.maxApdu ? { maxApdu: g.maxApdu } : {}),
          ...(g.segmentation ? { segmentation: g.segmentation } : {}),
        }),
      );
    }
  }
  if (yamls.length === 0) {
    throw new Error("The simulator YAML lists no devices (devices: or generate:)");
  }
  const devices = yamls.map(buildDevice);
  const seen = new Set<number>();
  for (const d of devices) {
    if (seen.has(d.info.instance)) {
      throw new Error(`Device instance ${d.info.instance} is listed twice`);
    }
    seen.add(d.info.instance);
  }
  const host = site.host ?? "127.0.0.1";
  const endpoints: BacnetSimulator[] = [];
  try {
    if (site.router) {
      endpoints.push(
        await startBacnetSimulator({
          devices,
          host,
          port: site.port ?? 0,
          network: site.router.network,
        }),
      );
    } else {
      for (const [i, d] of devices.entries()) {
        const port = yamls[i]!.port ?? (site.port ? site.port + i : 0);
        endpoints.push(await startBacnetSimulator({ devices: [d], host, port }));
      }
    }
  } catch (e) {
    for (const s of endpoints) await s.close();
    throw e;
  }
  const where = new Map<number, { sim: BacnetSimulator; device: SimDevice }>();
  for (const s of endpoints) {
    for (const d of s.served) where.set(d.db.info.instance, { sim: s, device: d.db });
  }
  // Faults.
  for (const y of yamls) {
    if (!y.faults) continue;
    const sd = where.get(y.instance)!.sim.device(y.instance);
    sd.faults.silent = y.faults.silent ?? false;
    sd.faults.slowMs = y.faults.slow ? parseDuration(y.faults.slow) : 0;
    for (const [addr, err] of Object.entries(y.faults.errors ?? {})) {
      const a = parseAddress(addr);
      const [c, code] = err.split("/");
      const cls = (ErrorClass as readonly string[]).indexOf(c ?? "");
      const num = Object.entries(ErrorCodeNames).find(([, n]) => n === code)?.[0];
      if (cls < 0 || num === undefined) {
        throw new Error(
          `device ${y.instance}: unknown error "${err}" (write class/code, e.g. property/unknown-property)`,
        );
      }
      sd.faults.errors.set(`${a.object.type}:${a.object.instance}`, { cls, code: Number(num) });
    }
  }
  // Generators.
  const gens: {
    sim: BacnetSimulator;
    instance: number;
    obj: SimObject;
    spec: GeneratorSpec;
    state: GeneratorState;
  }[] = [];
  for (const y of yamls) {
    for (const o of y.objects ?? []) {
      if (!o.generator) continue;
      const { sim, device } = where.get(y.instance)!;
      const a = parseAddress(o.address);
      gens.push({
        sim,
        instance: y.instance,
        obj: device.get(a.object),
        spec: o.generator,
        state: initGenerator(o.generator),
      });
    }
  }
  const timer = gens.length
    ? setInterval(() => {
      const t = Date.now();
      for (const g of gens) {
        g.state = stepGenerator(g.spec, g.state, t);
        const f = family(g.obj.type);
        const v = f === "binary"
          ? g.state.value >= 0.5
          : f === "multi"
          ? Math.max(1, Math.round(g.state.value))
          : Math.round(g.state.value * 100) / 100;
        g.sim.setValue(g.instance, { type: g.obj.type, instance: g.obj.instance }, v);
      }
    }, 500)
    : undefined;
  const site_: Site = {
    endpoints,
    find(instance) {
      const w = where.get(instance);
      if (!w) throw new Error(`No simulated device ${instance}`);
      return w;
    },
    async close() {
      clearInterval(timer);
      for (const s of endpoints) await s.close();
    },
    [Symbol.asyncDispose]() {
      return site_.close();
    },
  };
  return site_;
}

/** The demo device: an air handler with COV points. */
export const DEMO_DEVICE: DeviceYaml = {
  instance: 1001,
  name: "AHU-1",
  modelName: "Bifrost AHU simulator",
  objects: [
    {
      address: "analog-input:1",
      name: "SupplyAirTemp",
      units: "degrees-celsius",
      value: 14.5,
      covIncrement: 0.2,
      generator: { generator: "sine", min: 13, max: 16, period: "60s" },
    },
    {
      address: "analog-input:2",
      name: "ReturnAirTemp",
      units: "degrees-celsius",
      value: 22.1,
      covIncrement: 0.2,
      generator: { generator: "random-walk", min: 21, max: 23, step: 0.05 },
    },
    { address: "analog-input:3", name: "SupplyFanSpeed", units: "percent", value: 65 },
    { address: "analog-output:1", name: "CoolingValve", units: "percent", value: 40 },
    {
      address: "analog-value:1",
      name: "SupplyTempSetpoint",
      units: "degrees-celsius",
      value: 14,
      priorityArray: true,
    },
    { address: "binary-input:1", name: "FilterAlarm", value: false },
    { address: "binary-output:1", name: "SupplyFanCmd", value: true },
    { address: "binary-value:1", name: "OccupiedMode", value: true },
    {
      address: "multi-state-value:1",
      name: "AhuMode",
      value: 2,
      states: ["Off", "Heat", "Cool", "Economizer"],
    },
    {
      address: "multi-state-input:1",
      name: "DamperState",
      value: 1,
      states: ["Closed", "Open", "Moving"],
    },
    {
      address: "analog-input:4",
      name: "OutsideAirTemp",
      units: "degrees-celsius",
      value: 8.5,
      noCov: true,
    },
  ],
};

export { ObjectType, P };
