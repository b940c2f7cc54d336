/**
 * @module
 * Values as JSON: a 64-bit integer (bigint) becomes its decimal text, NaN and infinities
 * become null (JSON has neither), arrays and objects recursively.
 */

import type { Value } from "../../engine/record.ts";

/** A value JSON can carry. */
export function toJson(v: Value): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}
