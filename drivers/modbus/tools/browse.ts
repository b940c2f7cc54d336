/**
 * @module
 * `bifrost browse modbus://host[:port][/unit]`: what a Modbus TCP device exposes, as a flow
 * draft. A Modbus device cannot name its registers, so browsing finds what answers, one
 * level at a time: the unit ids (level 1, skipped when the URL names a unit), then the
 * readable ranges of each unit's four tables (next level). Registers that read non-zero
 * become candidate tags (a pair that reads as a plausible float32 becomes one float32
 * candidate); the first candidate of a device is written as a tag so that the draft is a
 * valid flow as it is, the others commented out.
 *
 * Query parameters: `units=1-247` (the ids to probe when the URL names none),
 * `registers=0-999` (the window of each table to scan), `timeout=200ms` (per request).
 * Requests go one at a time; each table's scan is bounded (see `browse_scan.ts`).
 */

import {
  BifrostError,
  type BrowseToolOptions,
  errorMessage,
  type FlowDraft,
  type FlowDraftDevice,
  parseDuration,
} from "../../../engine/plugin.ts";
import type { Table } from "../core/address.ts";
import { ModbusTcpClient } from "../tcp/client.ts";
import { candidatesOf, scanTable } from "./browse_scan.ts";
import { discoverUnits, parseUnitList } from "./discover.ts";

const USAGE = "expected modbus://host[:port][/unit][?units=1-247&registers=0-999&timeout=200ms]";
const TABLES: readonly Table[] = ["HR", "IR", "C", "DI"];

/** What a Modbus browse URL names. */
export interface BrowseTarget {
  host: string;
  port: number;
  /** The unit to scan; undefined: find the units first. */
  unitId?: number;
  units: number[];
  first: number;
  last: number;
  timeoutMs: number;
}

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot browse "${url}": ${why}`);
}

/** Parses a browse URL; throws `CONFIG_INVALID` saying what is wrong. */
export function parseBrowseUrl(url: string): BrowseTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== "modbus" && scheme !== "modbus-tcp") {
    fail(url, `browsing works over Modbus TCP only (modbus://); ${USAGE}`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail(url, USAGE);
  }
  if (!u.hostname) fail(url, `no host; ${USAGE}`);
  const parts = decodeURIComponent(u.pathname).split("/").filter((p) => p !== "");
  if (parts.length > 1) fail(url, `a browse URL names a unit at most, not an address; ${USAGE}`);
  const t: BrowseTarget = {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? 502 : Number(u.port),
    units: parseUnitList("1-247"),
    first: 0,
    last: 999,
    timeoutMs: 200,
  };
  if (parts.length === 1) {
    if (!/^[0-9]+$/.test(parts[0]!) || Number(parts[0]) > 255) {
      fail(url, `unit id must be 0..255, got "${parts[0]}"`);
    }
    t.unitId = Number(parts[0]);
  }
  for (const [k, v] of u.searchParams) {
    try {
      if (k === "units") t.units = parseUnitList(v);
      else if (k === "timeout") t.timeoutMs = parseDuration(v);
      else if (k === "registers") {
        const m = /^([0-9]+)-([0-9]+)$/.exec(v);
        if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) {
          throw new RangeError(`registers must be a range like 0-999 within 0..65535, got "${v}"`);
        }
        t.first = Number(m[1]);
        t.last = Number(m[2]);
      } else throw new RangeError(`unknown parameter "${k}": known are units, registers, timeout`);
    } catch (e) {
      fail(url, errorMessage(e));
    }
  }
  return t;
}

function deviceName(host: string, unitId: number): string {
  return `modbus-${host.replace(/[^A-Za-z0-9_.-]/g, "-")}-u${unitId}`;
}

async function scanUnit(
  t: BrowseTarget,
  unitId: number,
  options: BrowseToolOptions,
): Promise<FlowDraftDevice> {
  const device: FlowDraftDevice = {
    name: deviceName(t.host, unitId),
    fields: { driver: "modbus-tcp", host: t.host, port: t.port, unitId },
    tags: [],
    candidates: [],
    notes: [],
  };
  const client = await ModbusTcpClient.connect({
    host: t.host,
    port: t.port,
    timeoutMs: t.timeoutMs,
    maxInFlight: 1,
    signal: options.signal,
  });
  try {
    for (const table of TABLES) {
      options.out.error(`Scanning unit ${unitId} ${table}${t.first}-${table}${t.last}`);
      const scan = await scanTable(client, unitId, table, t.first, t.last, options.signal);
      const c = candidatesOf(scan);
      device.candidates.push(...c.tags);
      device.notes.push(...c.notes);
    }
  } finally {
    await client.close();
  }
  // One tag as is keeps the draft a valid flow a poll can name; the rest are for picking.
  const i = Math.max(0, device.candidates.findIndex((c) => c.comment !== "reads 0"));
  const [first] = device.candidates.splice(i, 1);
  if (first) device.tags.push(first);
  else device.notes.push(`nothing readable in ${t.first}-${t.last} of any table`);
  return device;
}

/**
 * Browses a Modbus TCP device `options.depth` levels down: units, then the readable ranges
 * of their tables. Throws `CONFIG_INVALID` for a bad URL, `DEVICE_UNREACHABLE` when nothing
 * listens, `NOT_FOUND` when no unit answers.
 */
export async function browseModbus(url: string, options: BrowseToolOptions): Promise<FlowDraft> {
  const t = parseBrowseUrl(url);
  const draft: FlowDraft = { devices: [], notes: [] };
  let units: number[];
  let depth = options.depth;
  if (t.unitId !== undefined) units = [t.unitId];
  else {
    options.out.error(`Probing ${t.units.length} unit ids at ${t.host}:${t.port}`);
    const found = await discoverUnits({
      host: t.host,
      port: t.port,
      units: t.units,
      timeoutMs: t.timeoutMs,
      signal: options.signal,
    });
    if (found.units.length === 0) {
      throw new BifrostError(
        "NOT_FOUND",
        `Cannot browse "${url}": none of ${found.probed} unit ids answered at ${t.host}:${t.port}`,
      );
    }
    units = found.units.map((u) => u.unitId);
    draft.notes.push(`Units that answered at ${t.host}:${t.port}: ${units.join(", ")}`);
    depth--;
  }
  for (const unitId of units) {
    if (depth < 1) {
      draft.devices.push({
        name: deviceName(t.host, unitId),
        fields: { driver: "modbus-tcp", host: t.host, port: t.port, unitId },
        tags: [],
        candidates: [],
        notes: [
          `Registers not scanned: browse with --depth 2, or browse ${
            url.replace(/\/?(\?.*)?$/, "")
          }/${unitId}`,
        ],
      });
    } else draft.devices.push(await scanUnit(t, unitId, options));
  }
  return draft;
}
