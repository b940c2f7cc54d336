/**
 * @module
 * Validation of the messages a function's child process sends: the child runs user code,
 * so everything it sends is untrusted input. A message that is not one the protocol
 * defines is described (for the log) and dropped by the host; it never throws.
 */

import { type Batch, Quality, ValueKind } from "../record.ts";
import { type FromChild, LOG_LEVELS, type LogMessage } from "./protocol.ts";

/** The longest log line kept, in characters; longer lines are cut. */
export const MAX_LOG_CHARS = 4096;

/** The most fields a log line may carry. */
const MAX_FIELDS = 32;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isId = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;

/** A message that is one of {@linkcode FromChild}, or what is wrong with it. */
export function checkMessage(m: unknown): FromChild | string {
  if (!isObject(m)) return `expected an object, got ${kind(m)}`;
  const t = m.t;
  switch (t) {
    case "ready":
      return { t };
    case "loadError":
    case "crash":
      if (typeof m.message !== "string") return `"${t}" without a message`;
      return { t, message: cut(m.message) };
    case "ok":
    case "same":
      if (!isId(m.id)) return `"${t}" with id ${kind(m.id)}`;
      if (m.x !== undefined && !isObject(m.x)) return `"${t}" with extras ${kind(m.x)}`;
      return m as FromChild;
    case "fail":
      if (!isId(m.id)) return `"fail" with id ${kind(m.id)}`;
      if (typeof m.message !== "string") return `"fail" without a message`;
      if (m.x !== undefined && !isObject(m.x)) return `"fail" with extras ${kind(m.x)}`;
      return { t, id: m.id as number, message: cut(m.message), x: m.x as never };
    case "log":
      return checkLog(m);
    default:
      return `unknown message type ${kind(t)}`;
  }
}

function checkLog(m: Record<string, unknown>): LogMessage | string {
  const level = m.level;
  if (!LOG_LEVELS.includes(level as LogMessage["level"])) {
    return `a log line with level ${kind(level)} (expected ${LOG_LEVELS.join(", ")})`;
  }
  if (typeof m.msg !== "string") return `a log line with message ${kind(m.msg)}`;
  const out: LogMessage = { t: "log", level: level as LogMessage["level"], msg: cut(m.msg) };
  if (m.fields !== undefined) {
    if (!isObject(m.fields)) return `a log line with fields ${kind(m.fields)}`;
    const keys = Object.keys(m.fields);
    if (keys.length > MAX_FIELDS) return `a log line with ${keys.length} fields`;
    const fields: Record<string, unknown> = {};
    for (const k of keys) {
      const v = m.fields[k];
      fields[k] = typeof v === "string" ? cut(v) : v;
    }
    out.fields = fields;
  }
  if (m.suppressed !== undefined) {
    if (!Number.isSafeInteger(m.suppressed) || (m.suppressed as number) < 0) {
      return `a log line with suppressed ${kind(m.suppressed)}`;
    }
    out.suppressed = m.suppressed as number;
  }
  return out;
}

function cut(s: string): string {
  return s.length > MAX_LOG_CHARS ? `${s.slice(0, MAX_LOG_CHARS)}… (${s.length} chars)` : s;
}

function kind(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}

/**
 * Marks the records of a reply whose number is NaN or infinite bad, with the reason
 * `function "<step>" returned a non-finite number (<v>) for "<device>/<tag>"`: they are no
 * measurement. Returns the first such reason, or undefined when every number is finite.
 */
export function markNonFinite(b: Batch, step: string): string | undefined {
  const num = b.num, kind = b.kind, q = b.quality;
  let first: string | undefined;
  for (let i = 0; i < b.length; i++) {
    const v = num[i]!;
    // v - v is NaN for NaN and ±Infinity, 0 otherwise: one test for both.
    if (kind[i] === ValueKind.number && v - v !== 0 && q[i] !== Quality.bad) {
      q[i] = Quality.bad;
      const reason = `function "${step}" returned a non-finite number (${v}) for "${b.device[i]}/${
        b.tag[i]
      }"`;
      b.reason[i] = reason;
      first ??= reason;
    }
  }
  return first;
}
