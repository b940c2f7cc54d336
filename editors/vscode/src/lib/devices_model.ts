/**
 * @module
 * What the Devices tree shows of one gateway: each device with its state, latency and last
 * error; each tag with its value, unit and quality. Live values are merged in as they come,
 * and {@linkcode DevicesModel.applyLive} says which tags' text changed, so the tree
 * refreshes those rows only (with 1,000 tags, a full refresh every poll would flicker and
 * lose the selection).
 */

import type { DeviceInfo, JsonValue, TagInfo } from "./gateway.ts";
import type { LiveValue } from "./live.ts";

/** A tag's quality as the tree shows it. */
export type Quality = "good" | "uncertain" | "bad" | "none";

/** How a value reads in the tree: numbers to 4 significant decimals, with the unit. */
export function formatValue(v: JsonValue | undefined, unit?: string): string {
  if (v === undefined) return "—";
  let s: string;
  if (typeof v === "number") {
    s = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  } else if (v === null) s = "null";
  else if (typeof v === "string") s = v.length > 60 ? `${v.slice(0, 57)}…` : v;
  else s = JSON.stringify(v).slice(0, 60);
  return unit ? `${s} ${unit}` : s;
}

/** The description of a device row: state and latency. */
export function deviceDescription(d: DeviceInfo): string {
  const parts = [d.state];
  if (d.latencyMs !== undefined) parts.push(`${d.latencyMs.toFixed(1)} ms`);
  if (d.readErrors > 0) parts.push(`${d.readErrors} error(s)`);
  return parts.join(" · ");
}

/** The key of a tag: `device/tag`, as the WebSocket names it. */
export function tagKey(device: string, tag: string): string {
  return `${device}/${tag}`;
}

/** One tag row. */
export interface TagRow {
  key: string;
  device: string;
  name: string;
  info: TagInfo;
  value?: JsonValue;
  quality: Quality;
  reason?: string;
  ts?: number;
  /** The text after the name. */
  text: string;
}

function quality(q: string | undefined): Quality {
  return q === "good" || q === "uncertain" || q === "bad" ? q : "none";
}

/** Devices and tags of one gateway with their latest values. */
export class DevicesModel {
  devices = new Map<string, DeviceInfo>();
  #rows = new Map<string, TagRow>();
  #byDevice = new Map<string, TagRow[]>();

  /** Replaces the devices; returns whether the list of names changed. */
  setDevices(list: DeviceInfo[]): boolean {
    const before = [...this.devices.keys()].join("\n");
    this.devices = new Map(list.map((d) => [d.name, d]));
    return before !== list.map((d) => d.name).join("\n");
  }

  /** Replaces the tags (with their last values); rows keep their identity by key. */
  setTags(list: TagInfo[]): void {
    const rows = new Map<string, TagRow>();
    const byDevice = new Map<string, TagRow[]>();
    for (const t of list) {
      const key = tagKey(t.device, t.name);
      const row: TagRow = this.#rows.get(key) ??
        { key, device: t.device, name: t.name, info: t, quality: "none", text: "" };
      row.info = t;
      if (t.value !== undefined && row.ts === undefined) {
        row.value = t.value;
        row.quality = quality(t.quality);
        if (t.reason !== undefined) row.reason = t.reason;
        if (t.sourceTs !== undefined) row.ts = t.sourceTs;
      }
      row.text = formatValue(row.value, t.unit);
      rows.set(key, row);
      byDevice.set(t.device, [...(byDevice.get(t.device) ?? []), row]);
    }
    this.#rows = rows;
    this.#byDevice = byDevice;
  }

  /** The tag rows of a device, in the gateway's order. */
  tagsOf(device: string): TagRow[] {
    return this.#byDevice.get(device) ?? [];
  }

  /** One row. */
  row(key: string): TagRow | undefined {
    return this.#rows.get(key);
  }

  /** Merges live values; returns the rows whose text or quality changed. */
  applyLive(values: LiveValue[]): TagRow[] {
    const changed = new Set<TagRow>();
    for (const v of values) {
      const row = this.#rows.get(v.tag);
      if (!row || (row.ts !== undefined && v.ts < row.ts)) continue;
      const text = formatValue(v.value, row.info.unit);
      const q = quality(v.quality);
      row.value = v.value;
      row.ts = v.ts;
      if (v.reason !== undefined) row.reason = v.reason;
      else delete row.reason;
      if (text !== row.text || q !== row.quality) {
        row.text = text;
        row.quality = q;
        changed.add(row);
      }
    }
    return [...changed];
  }
}
