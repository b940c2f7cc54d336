/**
 * @module
 * What the `mqtt` sink publishes: the topic of a record from the template, and its JSON
 * payload `{ "value", "quality", "reason"?, "sourceTs", "gatewayTs", "seq", "historical"? }`.
 * Both are pure functions of a batch row, so they are tested without a broker and shared
 * with the benchmark.
 */

import { type Batch, BifrostError, QUALITY_NAMES, StorageKind } from "../../engine/plugin.ts";

/** Builds the topic of a device and tag. */
export type TopicFn = (device: string, tag: string) => string;

/** Wildcards are not allowed in a published topic: they become `_`. */
const clean = (s: string) => (s.includes("+") || s.includes("#") ? s.replace(/[+#]/g, "_") : s);

/**
 * Compiles a topic template. `{device}` and `{tag}` come from the record, any other
 * placeholder from `vars`. Topics are cached per device and tag.
 *
 * @example
 * ```ts
 * const topic = compileTopic("acme/{site}/{device}/{tag}", { site: "plant1" }, "uns");
 * topic("boiler-plc", "temp1"); // "acme/plant1/boiler-plc/temp1"
 * ```
 */
export function compileTopic(
  template: string,
  vars: Record<string, string> = {},
  sink = "mqtt",
): TopicFn {
  const where = `topic "${template}" of sink "${sink}"`;
  const parts: (string | 0 | 1)[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    parts.push(template.slice(last, m.index));
    const name = m[1]!;
    if (name === "device") parts.push(0);
    else if (name === "tag") parts.push(1);
    else if (Object.hasOwn(vars, name)) parts.push(vars[name]!);
    else {
      const known = ["device", "tag", ...Object.keys(vars)].join(", ");
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot use ${where}: unknown placeholder {${name}} (known: ${known})`,
      );
    }
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  const statics = parts.filter((p): p is string => typeof p === "string").join("");
  if (/[{}+#]/.test(statics) || template.length === 0) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot use ${where}: a published topic may not contain +, # or unmatched braces`,
    );
  }
  const build = (device: string, tag: string) => {
    let s = "";
    for (const p of parts) s += p === 0 ? clean(device) : p === 1 ? clean(tag) : p;
    return s;
  };
  const cache = new Map<string, Map<string, string>>();
  return (device, tag) => {
    let byTag = cache.get(device);
    if (!byTag) cache.set(device, byTag = new Map());
    let t = byTag.get(tag);
    if (t === undefined) {
      t = build(device, tag);
      // Tag names from steps are unbounded in principle: keep the cache bounded.
      if (byTag.size < 10_000) byTag.set(tag, t);
    }
    return t;
  };
}

function jsonValue(b: Batch, i: number): string {
  const k = b.kind[i];
  if (k === StorageKind.number) {
    const v = b.num[i]!;
    // JSON has no NaN or Infinity: they travel as strings, as the console sink writes them.
    return Number.isFinite(v) ? String(v) : `"${v}"`;
  }
  if (k === StorageKind.boolean) return b.num[i] !== 0 ? "true" : "false";
  if (k === StorageKind.null) return "null";
  if (k === StorageKind.bigint) return `"${b.obj[i]}"`;
  return JSON.stringify(b.obj[i], (_k, v) => typeof v === "bigint" ? v.toString() : v);
}

/**
 * The JSON payload of record `i`.
 *
 * @example
 * ```ts
 * payload(batch, 0, false);
 * // {"value":71.3,"quality":"good","sourceTs":1764324000123,"gatewayTs":1764324000125,"seq":17}
 * ```
 */
export function payload(b: Batch, i: number, historical: boolean): string {
  const reason = b.reason[i];
  return `{"value":${jsonValue(b, i)},"quality":"${QUALITY_NAMES[b.quality[i]!]}"${
    reason !== undefined ? `,"reason":${JSON.stringify(reason)}` : ""
  },"sourceTs":${b.sourceTs[i]},"gatewayTs":${b.gatewayTs[i]},"seq":${b.seq[i]}${
    historical ? ',"historical":true' : ""
  }}`;
}
