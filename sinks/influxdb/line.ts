/**
 * @module
 * InfluxDB line protocol for records: `<measurement>,<tags> value=<v>[,reason="…"] <ms>`.
 * Escaping follows the line protocol reference and Telegraf's serializer: measurement
 * escapes comma and space; tag keys, tag values and field keys escape comma, equals sign
 * and space; string field values escape `"` and `\`. Tabs, newlines, CR and FF in names
 * become the two characters `\t`, `\n`… (Influx cannot take them raw there), and trailing
 * backslashes are trimmed from names (a trailing `\` would escape the separator after it;
 * the protocol has no way to write one). Empty tag values are left out (not allowed).
 *
 * Values: numbers are floats, booleans booleans, strings strings, bigints integers
 * (`123i`), JSON arrays/objects strings of their JSON. A null or non-finite number has no
 * `value` field; such a point is written only if it has a `reason`, otherwise it cannot be
 * encoded (the sink dead-letters it).
 */

import { type Batch, BifrostError, QUALITY_NAMES, StorageKind } from "../../engine/plugin.ts";

const CONTROL = /[\t\n\r\f]/g;
const CONTROL_NAMES: Record<string, string> = {
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
  "\f": "\\f",
};

function clean(s: string): string {
  let out = s.replace(CONTROL, (c) => CONTROL_NAMES[c]!);
  while (out.endsWith("\\")) out = out.slice(0, -1);
  return out;
}

/** Escapes a measurement name. */
export function escapeMeasurement(s: string): string {
  return clean(s).replace(/[, ]/g, "\\$&");
}

/** Escapes a tag key, tag value or field key. */
export function escapeKey(s: string): string {
  return clean(s).replace(/[,= ]/g, "\\$&");
}

/** Quotes and escapes a string field value. */
export function quoteString(s: string): string {
  return `"${s.replace(/["\\]/g, "\\$&")}"`;
}

/** The `value` field's text of record `i`, or undefined when it has none. */
export function fieldValue(b: Batch, i: number): string | undefined {
  switch (b.kind[i]) {
    case StorageKind.number: {
      const v = b.num[i]!;
      return Number.isFinite(v) ? String(v) : undefined;
    }
    case StorageKind.boolean:
      return b.num[i] !== 0 ? "true" : "false";
    case StorageKind.string:
      return quoteString(b.obj[i] as string);
    case StorageKind.bigint:
      return `${b.obj[i]}i`;
    case StorageKind.json:
      return quoteString(
        JSON.stringify(b.obj[i], (_k, v) => typeof v === "bigint" ? v.toString() : v),
      );
    default:
      return undefined;
  }
}

/** Turns records into lines. */
export interface LineEncoder {
  /** Line of record `i`, without newline; undefined when it cannot be encoded (no field). */
  line(b: Batch, i: number, historical: boolean): string | undefined;
}

/** Tag keys a record fills in; static tags may not use them. */
export const RECORD_TAGS = ["device", "tag", "quality", "historical"] as const;

/**
 * Compiles an encoder from a measurement template (`{device}` and `{tag}` are replaced) and
 * static tags. Tags are written sorted by key, as InfluxDB recommends.
 *
 * @example
 * ```ts
 * const enc = lineEncoder("{device}", { site: "north" });
 * enc.line(batch, 0, false); // 'boiler,device=boiler,quality=good,site=north,tag=temp value=71.5 1764324000123'
 * ```
 */
export function lineEncoder(
  measurement: string,
  tags: Record<string, string> = {},
  sink = "influxdb",
): LineEncoder {
  for (const k of Object.keys(tags)) {
    if ((RECORD_TAGS as readonly string[]).includes(k)) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot use static tag "${k}" in sink "${sink}": the record sets it (reserved: ${
          RECORD_TAGS.join(", ")
        })`,
      );
    }
  }
  const parts: (string | 0 | 1)[] = [];
  let last = 0;
  for (const m of measurement.matchAll(/\{(device|tag)\}/g)) {
    parts.push(measurement.slice(last, m.index));
    parts.push(m[1] === "device" ? 0 : 1);
    last = m.index + m[0].length;
  }
  parts.push(measurement.slice(last));
  // Keys in sorted order; record tags are marked by negative numbers.
  const keys = [...RECORD_TAGS, ...Object.keys(tags).filter((k) => tags[k] !== "")].sort();
  const statics = new Map(
    Object.entries(tags).map(([k, v]) => [k, `,${escapeKey(k)}=${escapeKey(v)}`]),
  );
  // Device, tag and measurement names repeat: escape each once (bounded caches).
  const memo = (f: (s: string) => string) => {
    const cache = new Map<string, string>();
    return (s: string) => {
      let e = cache.get(s);
      if (e === undefined) {
        e = f(s);
        if (cache.size < 100_000) cache.set(s, e);
      }
      return e;
    };
  };
  const esc = memo(escapeKey);
  const escM = memo(escapeMeasurement);
  return {
    line(b, i, historical) {
      const device = b.device[i]!;
      const tag = b.tag[i]!;
      let m = "";
      for (const p of parts) m += p === 0 ? device : p === 1 ? tag : p;
      let line = escM(m);
      if (line === "") return undefined;
      for (const k of keys) {
        if (k === "device") {
          const v = esc(device);
          if (v) line += `,device=${v}`;
        } else if (k === "tag") {
          const v = esc(tag);
          if (v) line += `,tag=${v}`;
        } else if (k === "quality") line += `,quality=${QUALITY_NAMES[b.quality[i]!]}`;
        else if (k === "historical") {
          if (historical) line += ",historical=true";
        } else line += statics.get(k)!;
      }
      const v = fieldValue(b, i);
      const reason = b.reason[i];
      if (v === undefined && reason === undefined) return undefined;
      let fields = v === undefined ? "" : `value=${v}`;
      if (reason !== undefined) fields += `${fields ? "," : ""}reason=${quoteString(reason)}`;
      return `${line} ${fields} ${Math.round(b.sourceTs[i]!)}`;
    },
  };
}
