/**
 * @module
 * Conversions between BACnet application values and the values of tags: a REAL present
 * value becomes a float (shortest float32 text), a binary one a boolean, an object
 * identifier `analog-input:3`, a list an array. Writes go the other way, checked against the
 * tag's type before anything is sent.
 */

import type { AppValue } from "./asn.ts";
import type { TagType } from "./address.ts";
import { formatObject } from "./address.ts";
import { shortestFloat32, type Value } from "../../../engine/plugin.ts";

/** One application value as a tag value. */
export function appToValue(v: AppValue): Value {
  switch (v.type) {
    case "null":
      return null;
    case "real":
      return shortestFloat32(v.value);
    case "octetString":
      return [...v.value].map((b) => b.toString(16).padStart(2, "0")).join("");
    case "objectId":
      return formatObject(v.value);
    case "date": {
      const [y, m, d] = v.value;
      return y === 255
        ? "unspecified"
        : `${1900 + y!}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
    }
    case "time": {
      const [h, mi, s] = v.value;
      return `${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:${
        String(s).padStart(2, "0")
      }`;
    }
    default:
      return v.value as Value;
  }
}

/**
 * The tag value of a property's values for a tag of type `t`: one value for scalar types
 * (an enumerated 0/1 is a boolean for `boolean`), an array for `bits` and `any`.
 */
export function valuesToTag(values: AppValue[], t: TagType): Value {
  if (t === "any") return values.map(appToValue);
  const v = values[0];
  if (v === undefined) throw new Error("the device returned no value");
  if (t === "bits") {
    if (v.type !== "bitString") throw new Error(`expected a bit string, got ${v.type}`);
    return v.value;
  }
  if (t === "boolean") {
    if (v.type === "boolean") return v.value;
    if (v.type === "enumerated" || v.type === "unsigned") return v.value !== 0;
    if (v.type === "null") return null;
    throw new Error(`expected a binary value, got ${v.type}`);
  }
  return appToValue(v);
}

/**
 * The application value written for `value` to a tag of type `t`; `null` relinquishes (a
 * NULL). Throws `Error` saying why the value does not fit.
 */
export function valueToApp(value: Value, t: TagType): AppValue {
  if (value === null) return { type: "null" };
  const num = () => {
    const n = typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
    if (typeof value === "string" && value.trim() === "" || !Number.isFinite(n)) {
      throw new Error(`${JSON.stringify(value)} is not a number`);
    }
    return n;
  };
  switch (t) {
    case "real": {
      const n = num();
      if (Math.abs(n) > 3.4028234663852886e38) {
        throw new Error(`${n} does not fit a REAL (float32)`);
      }
      return { type: "real", value: n };
    }
    case "double":
      return { type: "double", value: num() };
    case "boolean":
      if (typeof value === "boolean") return { type: "enumerated", value: value ? 1 : 0 };
      if (value === 0 || value === 1) return { type: "enumerated", value };
      if (value === "active" || value === "inactive") {
        return { type: "enumerated", value: value === "active" ? 1 : 0 };
      }
      throw new Error(
        `${JSON.stringify(value)} is not a binary value (true/false, active/inactive, 1/0)`,
      );
    case "unsigned":
    case "enumerated": {
      const n = num();
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new Error(`${n} is not an unsigned integer (0-4294967295)`);
      }
      return { type: t, value: n };
    }
    case "signed": {
      const n = num();
      if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
        throw new Error(`${n} is not a 32-bit signed integer`);
      }
      return { type: "signed", value: n };
    }
    case "string":
      if (typeof value !== "string") throw new Error(`${JSON.stringify(value)} is not a string`);
      return { type: "characterString", value };
    case "bits":
      if (!Array.isArray(value) || value.some((b) => typeof b !== "boolean")) {
        throw new Error(`${JSON.stringify(value)} is not an array of booleans`);
      }
      return { type: "bitString", value: value as boolean[] };
    case "any":
      if (typeof value === "boolean") return { type: "boolean", value };
      if (typeof value === "number") return { type: "real", value };
      if (typeof value === "string") return { type: "characterString", value };
      throw new Error(
        `${JSON.stringify(value)} cannot be written to a tag of type any: declare its type`,
      );
  }
}
