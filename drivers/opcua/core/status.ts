/**
 * @module
 * OPC UA status codes as Bifrost sees them: the severity bits say Good, Uncertain or Bad
 * (Part 4, 7.39), and the code's name (`BadNodeIdUnknown`) is the reason a tag is bad.
 */

import { BifrostError } from "../../../engine/plugin.ts";

/** The severity of a status code: its top two bits. */
export function severity(code: number): "good" | "uncertain" | "bad" {
  const s = (code >>> 30) & 3;
  return s === 0 ? "good" : s === 1 ? "uncertain" : "bad";
}

/** `0x80340000`: the hex form OPC UA tools print. */
export function hexCode(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/**
 * A bad status as the error of one tag: `DEVICE_EXCEPTION`, with the code's name and hex in
 * the message and `details: { protocol: "opcua", code, name }`.
 */
export function statusError(
  what: string,
  code: number,
  name: string,
  description?: string,
): BifrostError {
  const because = description && description !== name ? `: ${description}` : "";
  return new BifrostError("DEVICE_EXCEPTION", `${what}: ${name} (${hexCode(code)})${because}`, {
    details: { protocol: "opcua", code: code >>> 0, name },
  });
}
