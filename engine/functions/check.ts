/**
 * @module
 * Validation of the messages a function's child process sends: the child runs user code,
 * so everything it sends is untrusted input. A message that is not one the protocol
 * defines is described (for the log) and dropped by the host; it never throws.
 */

import { type Batch, Quality, StorageKind } from "../record.ts";
import { HEADER_BYTES } from "./wire_layout.ts";
import type { WireEnd, WireExtras } from "./codec.ts";
import type { EmittedRecord } from "./api.ts";
import { type FromChild, LOG_LEVELS, type LogMessage, type ResponseMessage } from "./protocol.ts";

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
    case "response":
      return checkResponse(m);
    case "call": {
      if (!isId(m.cid)) return `"call" with cid ${kind(m.cid)}`;
      if (m.op !== "read" && m.op !== "write") return `"call" with op ${kind(m.op)}`;
      if (typeof m.device !== "string" || typeof m.tag !== "string") {
        return `"call" with device ${kind(m.device)} and tag ${kind(m.tag)}`;
      }
      const c = { cid: m.cid as number, device: cut(m.device), tag: cut(m.tag) };
      return m.op === "read"
        ? { t: "call", op: "read", ...c }
        : { t: "call", op: "write", ...c, value: m.value };
    }
    default:
      return `unknown message type ${kind(t)}`;
  }
}

/** The most headers a response may set. */
const MAX_HEADERS = 32;

function checkResponse(m: Record<string, unknown>): FromChild | string {
  if (!isId(m.id)) return `"response" with id ${kind(m.id)}`;
  const status = m.status;
  if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
    return `a response with status ${kind(status)} (expected 200 to 599)`;
  }
  if (!isObject(m.headers)) return `a response with headers ${kind(m.headers)}`;
  const keys = Object.keys(m.headers);
  if (keys.length > MAX_HEADERS) return `a response with ${keys.length} headers`;
  const headers: Record<string, string> = {};
  for (const k of keys) {
    const v = m.headers[k];
    // A header name is a token; a value has no line breaks (no header injection).
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== "string" || /[\r\n\0]/.test(v)) {
      return `a response with header ${kind(k)}: ${kind(v)}`;
    }
    headers[k] = v;
  }
  const out: ResponseMessage = {
    t: "response",
    id: m.id as number,
    status: status as number,
    headers,
    body: m.body,
  };
  if (m.emit !== undefined) {
    if (!Array.isArray(m.emit)) return `a response with emitted records ${kind(m.emit)}`;
    if (m.emit.length > MAX_EMIT) return `a response with ${m.emit.length} emitted records`;
    for (let i = 0; i < m.emit.length; i++) {
      const bad = checkEmitted(m.emit[i]);
      if (bad !== undefined) return `emitted record ${i} ${bad}`;
    }
    out.emit = m.emit as EmittedRecord[];
  }
  return out;
}

/** The most records one response may emit. */
export const MAX_EMIT = 10_000;

const QUALITIES = ["good", "uncertain", "bad"];

/** What is wrong with an emitted record, or undefined. */
function checkEmitted(r: unknown): string | undefined {
  if (!isObject(r)) return `is ${kind(r)}`;
  for (const k of Object.keys(r)) {
    if (!["device", "tag", "value", "quality", "reason", "sourceTs"].includes(k)) {
      return `has an unknown field ${kind(k)}`;
    }
  }
  if (typeof r.device !== "string" || r.device === "") return `has device ${kind(r.device)}`;
  if (typeof r.tag !== "string" || r.tag === "") return `has tag ${kind(r.tag)}`;
  const v = r.value;
  const okValue = v === null || typeof v === "boolean" || typeof v === "string" ||
    (typeof v === "number" && Number.isFinite(v)) ||
    (typeof v === "object" &&
      (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype));
  if (!okValue) return `has value ${kind(v)}`;
  if (r.quality !== undefined && !QUALITIES.includes(r.quality as string)) {
    return `has quality ${kind(r.quality)}`;
  }
  if (r.reason !== undefined && typeof r.reason !== "string") return `has reason ${kind(r.reason)}`;
  if (r.sourceTs !== undefined && !Number.isFinite(r.sourceTs)) {
    return `has sourceTs ${kind(r.sourceTs)}`;
  }
  return undefined;
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
    if (kind[i] === StorageKind.number && v - v !== 0 && q[i] !== Quality.bad) {
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

/**
 * Checks a reply loaded into the host's wire end (`WireEnd.load`) before
 * `WireEnd.decodeBatch` reads it: a count within `maxRecords` and the bytes received,
 * known value kinds and qualities, name ids in the string table, values that match their
 * kinds. Returns what is wrong, or undefined.
 */
export function checkReply(
  wire: WireEnd,
  bytes: number,
  x: WireExtras | undefined,
  maxRecords: number,
): string | undefined {
  const h = wire.header();
  const n = h.n;
  if (bytes < HEADER_BYTES) return "a reply without records";
  if (!Number.isInteger(n) || n < 0) return `a record count of ${n}`;
  if (n > maxRecords) return `${n} records, more than its limit of ${maxRecords}`;
  if (h.need > bytes) return `${n} records in ${bytes} bytes`;
  if (!h.known) return "unknown flags";
  if (h.reset) return "a string table reset in a reply";
  const c = wire.columnsOf(n);
  for (let i = 0; i < n; i++) {
    if (c.kind[i]! > StorageKind.null) return `value kind ${c.kind[i]} in record ${i}`;
    if (c.quality[i]! > Quality.bad) return `quality ${c.quality[i]} in record ${i}`;
  }
  const strs = x?.strs;
  if (strs !== undefined && (!Array.isArray(strs) || strs.some((v) => typeof v !== "string"))) {
    return "names that are not strings";
  }
  if (h.sameNames) {
    if (h.lastN !== n) return `the names of ${h.lastN} records for ${n}`;
  } else {
    const size = wire.strings.size + (strs?.length ?? 0);
    for (let i = 0; i < n; i++) {
      const d = c.dev[i]!, t = c.tag[i]!;
      if (d < 0 || d >= size || t < 0 || t >= size) return `an unknown name id in record ${i}`;
    }
  }
  if (badSparse(x?.objI, x?.objV, n, false)) return "malformed values";
  if (badSparse(x?.reasonI, x?.reasonV, n, true)) return "malformed reasons";
  const objI = x?.objI;
  if (objI) {
    for (let j = 0; j < objI.length; j++) {
      const i = objI[j]!, k = c.kind[i]!, v = x!.objV![j];
      const ok = k === StorageKind.string
        ? typeof v === "string"
        : k === StorageKind.bigint
        ? typeof v === "bigint"
        : k === StorageKind.json && typeof v === "object" && v !== null &&
          (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
      if (!ok) return `a value that does not match its kind in record ${i}`;
    }
  }
  return undefined;
}

/** True when a sparse column (ascending indexes below `n`, one value each) is malformed. */
function badSparse(is: unknown, vs: unknown, n: number, strings: boolean): boolean {
  if (is === undefined && vs === undefined) return false;
  if (!Array.isArray(is) || !Array.isArray(vs) || is.length !== vs.length) return true;
  let last = -1;
  for (let j = 0; j < is.length; j++) {
    const i = is[j];
    if (!Number.isInteger(i) || i <= last || i >= n) return true;
    if (strings && typeof vs[j] !== "string") return true;
    last = i;
  }
  return false;
}
