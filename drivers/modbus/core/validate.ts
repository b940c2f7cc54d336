/**
 * @module
 * Semantic checks of a Modbus device beyond its schema: address syntax, types that do not
 * fit their table, tags larger than one request, workarounds, and tags sharing a register or
 * a bit (an error unless one of the two sets `overlap: true`). Also the shortest poll
 * interval a set of tags allows.
 */

import type { DeviceConfig, DriverIssue, TagConfig } from "../../../engine/plugin.ts";
import { isRegisterTable } from "./address.ts";
import { planRead } from "./planner.ts";
import { deviceFields, type ResolvedDeviceFields, type ResolvedTag, resolveTag } from "./tags.ts";

/** Assumed round trip of one request, ms (a PLC on a LAN). */
export const ASSUMED_ROUND_TRIP_MS = 5;
/** The floor of any poll interval, ms. */
export const MIN_INTERVAL_FLOOR_MS = 10;

function shares(a: ResolvedTag, b: ResolvedTag): boolean {
  if (a.table !== b.table) return false;
  if (a.start >= b.start + b.count || b.start >= a.start + a.count) return false;
  // Bits of one register are independent tags unless they name the same bit.
  if (a.bit !== undefined && b.bit !== undefined) return a.bit === b.bit;
  return true;
}

/**
 * Reports problems of a device's config; path `["tags", name, "address"]` for tags. `kind`
 * "rtu" for the RTU drivers (no host).
 */
export function validateDevice(device: DeviceConfig, kind: "tcp" | "rtu" = "tcp"): DriverIssue[] {
  const issues: DriverIssue[] = [];
  const optedIn = (t: ResolvedTag) => device.tags.get(t.name)?.config.overlap === true;
  let fields: ResolvedDeviceFields;
  try {
    fields = deviceFields(device.config, kind);
  } catch (e) {
    const message = (e as Error).message;
    return [{ message, path: /swapWords|addressOffset/.test(message) ? ["workarounds"] : [] }];
  }
  const resolved: ResolvedTag[] = [];
  for (const tag of device.tags.values()) {
    try {
      const r = resolveTag(tag, fields.tagContext);
      const regs = isRegisterTable(r.table);
      const max = regs ? fields.maxRegistersPerRequest : fields.maxBitsPerRequest;
      if (r.count > max) {
        issues.push({
          message: `Cannot read tag "${tag.name}" in one request: it spans ${r.count} ${
            regs ? "registers and maxRegistersPerRequest" : "bits and maxBitsPerRequest"
          } is ${max}`,
          path: ["tags", tag.name, "address"],
        });
      }
      resolved.push(r);
      const { min: lo, max: hi } = tag.config;
      if (typeof lo === "number" && typeof hi === "number" && lo > hi) {
        issues.push({
          message: `Cannot use min ${lo} above max ${hi} for tag "${tag.name}": no value fits`,
          path: ["tags", tag.name, "min"],
        });
      }
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["tags", tag.name, "address"] });
    }
  }
  const sorted = [...resolved].sort((a, b) => a.table.localeCompare(b.table) || a.start - b.start);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (b.table !== a.table || b.start >= a.start + a.count) break;
      if (!shares(a, b)) continue;
      if (optedIn(b) || optedIn(a)) continue;
      issues.push({
        message: `Tag "${b.name}" (${device.tags.get(b.name)?.address}) overlaps tag "${a.name}" (${
          device.tags.get(a.name)?.address
        }): both read ${a.table}${
          Math.max(a.start, b.start)
        }; give one of them its own address, or set overlap: true on the one that is a deliberate second view`,
        path: ["tags", b.name, "address"],
      });
    }
  }
  return issues;
}

/**
 * The shortest poll interval for `tags`: one assumed round trip per planned request (per
 * batch of `maxInFlight` requests with pipelining), at least {@linkcode MIN_INTERVAL_FLOOR_MS}.
 */
export function minIntervalMs(device: DeviceConfig, tags: readonly TagConfig[]): number {
  try {
    const f = deviceFields(device.config);
    const plan = planRead(tags, tags.map((t) => resolveTag(t, f.tagContext)), f);
    const trips = Math.ceil(plan.requests.length / f.wireInFlight);
    return Math.max(MIN_INTERVAL_FLOOR_MS, trips * ASSUMED_ROUND_TRIP_MS);
  } catch {
    return MIN_INTERVAL_FLOOR_MS;
  }
}
