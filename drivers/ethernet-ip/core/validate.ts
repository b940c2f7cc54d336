/**
 * @module
 * Checks of an `ethernet-ip` device beyond the schema: every tag's address parses and fits
 * its type (a bit is BOOL, a BOOL array element has one index), the route path parses.
 */

import type { DeviceConfig, DriverIssue } from "../../../engine/plugin.ts";
import { parseRoutePath } from "./address.ts";
import { resolveTag } from "./tags.ts";
import { checkGeneratorSpec, type GeneratorSpec } from "../../../simulators/generators.ts";

/** The problems of a device's config. */
export function validateDevice(device: DeviceConfig): DriverIssue[] {
  const issues: DriverIssue[] = [];
  const path = device.config.path;
  if (typeof path === "string" && path !== "") {
    try {
      parseRoutePath(path);
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["path"] });
    }
  }
  for (const tag of device.tags.values()) {
    try {
      resolveTag(tag);
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["tags", tag.name, "address"] });
    }
  }
  return issues;
}

/** Checks the `simulator:` block: entries must name tags and be valid generators or values. */
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
    const g = entry as GeneratorSpec;
    if (typeof entry !== "object" || entry === null || g.generator === undefined) continue;
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
