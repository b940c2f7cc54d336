/**
 * @module
 * The `http` sink's request bodies: a record as JSON
 * `{"device","tag","value","quality","reason"?,"sourceTs","gatewayTs","seq","historical"?}`,
 * and a batch as `{"records":[...]}` or as NDJSON. Pure functions of a batch.
 */

import { type Batch, QUALITY_NAMES, StorageKind } from "../../engine/plugin.ts";

function jsonValue(b: Batch, i: number): string {
  const k = b.kind[i];
  if (k === StorageKind.number) {
    const v = b.num[i]!;
    // JSON has no NaN or Infinity: they travel as strings, as the other sinks write them.
    return Number.isFinite(v) ? String(v) : `"${v}"`;
  }
  if (k === StorageKind.boolean) return b.num[i] !== 0 ? "true" : "false";
  if (k === StorageKind.null) return "null";
  // A bigint may not fit a JSON number as parsers read them: a decimal string keeps it exact.
  if (k === StorageKind.bigint) return `"${b.obj[i]}"`;
  return JSON.stringify(b.obj[i], (_k, v) => typeof v === "bigint" ? v.toString() : v);
}

/**
 * Record `i` as a JSON object.
 *
 * @example
 * ```ts
 * recordJson(batch, 0, false);
 * // {"device":"plc","tag":"temp","value":71.3,"quality":"good","sourceTs":1764324000123,"gatewayTs":1764324000125,"seq":17}
 * ```
 */
export function recordJson(b: Batch, i: number, historical: boolean): string {
  const reason = b.reason[i];
  return `{"device":${JSON.stringify(b.device[i])},"tag":${JSON.stringify(b.tag[i])},"value":${
    jsonValue(b, i)
  },"quality":"${QUALITY_NAMES[b.quality[i]!]}"${
    reason !== undefined ? `,"reason":${JSON.stringify(reason)}` : ""
  },"sourceTs":${b.sourceTs[i]},"gatewayTs":${b.gatewayTs[i]},"seq":${b.seq[i]}${
    historical ? ',"historical":true' : ""
  }}`;
}

/** The request body of a batch in `format`. */
export function encodeBody(b: Batch, historical: boolean, format: "json" | "ndjson"): string {
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = recordJson(b, i, historical);
  return format === "json" ? `{"records":[${parts.join(",")}]}` : parts.join("\n") + "\n";
}
