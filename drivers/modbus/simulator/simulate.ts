/**
 * @module
 * The virtual device of `--simulate`: the simulator serving a device's tags, with values
 * from the device's `simulator:` block (generators keyed by tag name; tags without an
 * entry hold 0).
 */

import type { DeviceConfig, DriverIssue, SimulatedDevice } from "../../../engine/plugin.ts";
import { checkGeneratorSpec, type GeneratorSpec } from "../../../simulators/generators.ts";
import type { PointSpec } from "./map.ts";
import { formatAddress } from "../core/address.ts";
import { deviceFields, resolveTag } from "../core/tags.ts";

/**
 * The simulator points of a device, by address: where the driver will read them
 * (`addressOffset` applied), one point per element of an array tag, in the byte order the
 * driver decodes (`swapWords` applied). Tags that do not resolve are left out.
 */
export function simulatorPoints(
  device: DeviceConfig,
  kind: "tcp" | "rtu" = "tcp",
): Record<string, PointSpec> {
  const f = deviceFields(device.config, kind);
  const points: Record<string, PointSpec> = {};
  for (const tag of device.tags.values()) {
    let t;
    try {
      t = resolveTag(tag, f.tagContext);
    } catch {
      continue;
    }
    const entry = (device.simulator?.[tag.name] ?? {}) as Partial<PointSpec>;
    for (let i = 0; i < t.elements; i++) {
      const point: PointSpec = { ...entry, type: t.type, order: t.orders?.[i] ?? t.order };
      if (t.type === "string") point.length = t.length;
      const v = (entry as { value?: unknown }).value;
      if (Array.isArray(v)) point.value = v[i] as PointSpec["value"];
      const key = formatAddress({
        table: t.table,
        offset: t.start + i * t.size,
        ...(t.bit === undefined ? {} : { bit: t.bit }),
      });
      points[key] = point;
    }
  }
  return points;
}

/** Checks the `simulator:` block: entries must name tags and be valid generators. */
export function validateSimulator(device: DeviceConfig): DriverIssue[] {
  const issues: DriverIssue[] = [];
  for (const [name, entry] of Object.entries(device.simulator ?? {})) {
    if (!device.tags.has(name)) {
      issues.push({
        message: `Simulator entry "${name}" names no tag of device "${device.name}"`,
        path: ["simulator", name],
        severity: "warning",
      });
      continue;
    }
    if (typeof entry !== "object" || entry === null) {
      issues.push({
        message: `Cannot use simulator entry "${name}": expected a mapping with a generator`,
        path: ["simulator", name],
      });
      continue;
    }
    const g = entry as GeneratorSpec;
    if (g.generator === undefined) continue;
    try {
      checkGeneratorSpec(g);
    } catch (e) {
      issues.push({
        message: `Cannot use simulator entry "${name}": ${(e as Error).message}`,
        path: ["simulator", name],
      });
    }
  }
  return issues;
}

/** Starts a simulator on 127.0.0.1, port 0, serving the device's tags. */
export async function simulateDevice(device: DeviceConfig): Promise<SimulatedDevice> {
  const f = deviceFields(device.config);
  // The server loads on first use: a gateway without `--simulate` never carries it.
  const { startModbusSimulator } = await import("./server.ts");
  const sim = await startModbusSimulator({
    host: "127.0.0.1",
    port: 0,
    units: { [f.unitId]: simulatorPoints(device) },
  });
  return { connection: { host: sim.host, port: sim.port }, close: () => sim.close() };
}
