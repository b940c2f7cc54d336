/**
 * @module
 * The one check every Modbus write goes through before anything is sent (the driver's
 * `write()` calls it first, so `bifrost write` by flow or by URL, the API and functions all
 * meet it): the value count against the tag's `count`, each value against its type (integer
 * ranges, float32 and float64 finite and within range, bool, string bytes against `length`)
 * and against the tag's declared `min`/`max`. A value that fails is never sent: writing
 * `1e300` to a float32 would otherwise leave Infinity in the device.
 *
 * `min`/`max` are in the tag's engineering units, the units of reads and of `bifrost write`:
 * when the tag has a `scale`, the raw value the driver receives is scaled back (without
 * clamping) before the comparison, so the range speaks of what lands in the device.
 */

import { applyScaling, BifrostError, type TagConfig, type Value } from "../../../engine/plugin.ts";
import type { ResolvedTag } from "./tags.ts";
import { valueIssue } from "./values.ts";

/** How a value is named in a rejection: numbers as JavaScript prints them, text quoted. */
export function showValue(v: Value): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** A declared bound of the tag (`min` or `max`), when it is a number. */
function bound(tag: TagConfig, key: "min" | "max"): number | undefined {
  const v = tag.config[key];
  return typeof v === "number" ? v : undefined;
}

/** The tag's declared range as text, or undefined when it declares none. */
function rangeText(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `the tag takes ${min}..${max}`;
  if (min !== undefined) return `the tag takes at least ${min}`;
  if (max !== undefined) return `the tag takes at most ${max}`;
  return undefined;
}

/** The engineering value of a raw number (the inverse of the write's unscaling, unclamped). */
function engineering(raw: number, tag: TagConfig): number {
  if (!tag.scale) return raw;
  const eng = applyScaling(raw, { ...tag.scale, clampMin: undefined, clampMax: undefined });
  return Number(eng.toPrecision(12));
}

/**
 * Throws a `WRITE_REJECTED` {@linkcode BifrostError} when `value` cannot be written to `t`
 * (tag `tag` of device `device`), naming the tag, the device, the value and what the tag
 * takes. `value` is raw: a tag's `scale` already inverted.
 *
 * @example
 * ```ts
 * checkWrite(resolved, tag, "boiler-plc", 1e300);
 * // WRITE_REJECTED: Cannot write 1e+300 to "setpoint" on "boiler-plc": float32 holds at most 3.4028235e+38
 * ```
 */
export function checkWrite(t: ResolvedTag, tag: TagConfig, device: string, value: Value): void {
  const where = `"${tag.name}" on "${device}"`;
  const reject = (what: string, why: string): never => {
    throw new BifrostError("WRITE_REJECTED", `Cannot write ${what} to ${where}: ${why}`);
  };
  let values: readonly Value[];
  if (Array.isArray(value)) {
    if (value.length !== t.elements) {
      reject(
        `${value.length} value${value.length === 1 ? "" : "s"}`,
        t.elements === 1
          ? "the tag holds one value"
          : `the tag holds ${t.elements} (count ${t.elements}), give exactly ${t.elements}`,
      );
    }
    values = value;
  } else {
    if (t.elements !== 1) {
      reject(showValue(value), `the tag holds ${t.elements} values, give an array of them`);
    }
    values = [value];
  }
  const min = bound(tag, "min");
  const max = bound(tag, "max");
  const range = rangeText(min, max);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const eng = typeof v === "number" && tag.scale ? engineering(v, tag) : v;
    const what = showValue(eng) + (tag.scale && eng !== v ? ` (raw ${showValue(v)})` : "") +
      (values.length > 1 ? ` at index ${i}` : "");
    // Coils and register bits are type bool (resolveTag makes sure).
    const issue = valueIssue(v, t.type, t.length);
    if (issue) reject(what, issue);
    if (range === undefined || typeof eng === "boolean" || typeof eng === "string") continue;
    const n = Number(eng);
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) reject(what, range);
  }
}
