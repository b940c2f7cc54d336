/**
 * @module
 * Checks a value against an OPC UA node's type before a write and converts it to what
 * node-opcua's `Variant` takes: a device must never receive a value it cannot hold, and the
 * engineer reads what did not fit, where, and the value seen.
 */

import type { Value } from "../../../engine/plugin.ts";
import { INTEGER_RANGES, type ScalarType } from "./types.ts";

/** Why a value does not fit (a sentence fragment), or the converted value. */
export type Converted = { ok: true; value: unknown } | { ok: false; why: string };

const show = (v: Value) => typeof v === "bigint" ? `${v}` : JSON.stringify(v);

/** Converts one element for a variant of scalar type `t`. */
export function elementForWrite(t: ScalarType, v: Value): Converted {
  const range = INTEGER_RANGES[t];
  if (range) {
    let n: bigint;
    if (typeof v === "bigint") n = v;
    else if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
    else if (typeof v === "string" && /^-?[0-9]+$/.test(v.trim())) n = BigInt(v.trim());
    else return { ok: false, why: `${show(v)} is not an integer (${t})` };
    if (n < range[0] || n > range[1]) {
      return { ok: false, why: `${show(v)} is outside ${t} range ${range[0]}..${range[1]}` };
    }
    if (t === "Int64" || t === "UInt64") {
      // node-opcua takes 64-bit values as [high, low] uint32 pairs.
      const u = BigInt.asUintN(64, n);
      return { ok: true, value: [Number(u >> 32n), Number(u & 0xffffffffn)] };
    }
    return { ok: true, value: Number(n) };
  }
  switch (t) {
    case "Boolean":
      if (typeof v === "boolean") return { ok: true, value: v };
      if (v === "true" || v === "false") return { ok: true, value: v === "true" };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return { ok: false, why: `${show(v)} is not a Boolean` };
    case "Float":
    case "Double": {
      const n = typeof v === "number"
        ? v
        : typeof v === "bigint"
        ? Number(v)
        : typeof v === "string" && v.trim() !== ""
        ? Number(v)
        : NaN;
      if (Number.isNaN(n) && !(typeof v === "number")) {
        return { ok: false, why: `${show(v)} is not a number (${t})` };
      }
      if (t === "Float" && Number.isFinite(n) && Math.abs(n) > 3.4028234663852886e38) {
        return { ok: false, why: `${show(v)} is outside the Float range` };
      }
      return { ok: true, value: n };
    }
    case "String":
    case "XmlElement":
      return typeof v === "string"
        ? { ok: true, value: v }
        : { ok: false, why: `${show(v)} is not text (${t})` };
    case "LocalizedText":
      return typeof v === "string"
        ? { ok: true, value: { text: v } }
        : { ok: false, why: `${show(v)} is not text (${t})` };
    case "DateTime": {
      const d = typeof v === "number" ? new Date(v) : typeof v === "string" ? new Date(v) : null;
      return d && !isNaN(d.getTime())
        ? { ok: true, value: d }
        : { ok: false, why: `${show(v)} is not a date (ISO 8601 text or ms since the epoch)` };
    }
    case "ByteString":
      return typeof v === "string" && /^([0-9a-fA-F]{2})*$/.test(v)
        ? { ok: true, value: fromHex(v) }
        : { ok: false, why: `${show(v)} is not hex bytes (ByteString)` };
    case "Guid":
      return typeof v === "string" &&
          /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)
        ? { ok: true, value: v }
        : { ok: false, why: `${show(v)} is not a GUID` };
    default:
      return typeof v === "string"
        ? { ok: true, value: v }
        : { ok: false, why: `${show(v)} cannot be written as ${t}` };
  }
}

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Converts a value (an array when `array`) for a variant of scalar type `t`. */
export function valueForWrite(t: ScalarType, array: boolean, v: Value): Converted {
  if (!array) {
    if (Array.isArray(v)) return { ok: false, why: `an array was given for a scalar ${t}` };
    return elementForWrite(t, v);
  }
  if (!Array.isArray(v)) return { ok: false, why: `${show(v)} is not an array (${t}[])` };
  const out: unknown[] = [];
  for (const [i, e] of v.entries()) {
    const c = elementForWrite(t, e);
    if (!c.ok) return { ok: false, why: `element ${i}: ${c.why}` };
    out.push(c.value);
  }
  if (t === "Double" || t === "Float") {
    return {
      ok: true,
      value: t === "Double"
        ? Float64Array.from(out as number[])
        : Float32Array.from(out as number[]),
    };
  }
  return { ok: true, value: out };
}
