/**
 * @module
 * What a user types to write a tag, as the JSON value the gateway's `POST /write` takes:
 * checked against the tag's kind before anything is sent, with a message saying what was
 * expected (the gateway checks again, with the tag's range).
 */

import type { JsonValue } from "./gateway.ts";

/** The value of `text` for a tag of `kind` (a value kind, or a type like `float32`). */
export function parseWriteInput(text: string, kind: string): JsonValue {
  const s = text.trim();
  const k = /^(bool|boolean)$/.test(kind)
    ? "boolean"
    : /^(u?int(8|16|32)?|integer)$/.test(kind)
    ? "integer"
    : /^(u?int64|bigint)$/.test(kind)
    ? "bigint"
    : /^(float(32|64)?|double|real)$/.test(kind)
    ? "float"
    : /^(string|bytes)$/.test(kind)
    ? "string"
    : kind === "array"
    ? "array"
    : "float";
  if (k === "string") return text;
  if (s === "") throw new Error(`Enter a value (${kind})`);
  if (k === "boolean") {
    if (/^(true|1|on)$/i.test(s)) return true;
    if (/^(false|0|off)$/i.test(s)) return false;
    throw new Error(`"${s}" is not a boolean: enter true or false`);
  }
  if (k === "bigint") {
    if (!/^-?[0-9]+$/.test(s)) throw new Error(`"${s}" is not an integer`);
    // Beyond 2^53 a JSON number loses digits: the API takes 64-bit integers as text.
    return Number.isSafeInteger(Number(s)) ? Number(s) : s;
  }
  if (k === "array") {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      throw new Error(`"${s}" is not a JSON list, e.g. [1, 2, 3]`);
    }
    if (!Array.isArray(v)) throw new Error(`"${s}" is not a JSON list, e.g. [1, 2, 3]`);
    return v as JsonValue;
  }
  const n = Number(s);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) || !Number.isFinite(n)) {
    throw new Error(`"${s}" is not a number`);
  }
  if (k === "integer" && !Number.isInteger(n)) throw new Error(`"${s}" is not an integer`);
  return n;
}
