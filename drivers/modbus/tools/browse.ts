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
 * Requests go one at a time; each table's scan stops after {@linkcode MAX_REQUESTS}.
 */

import {
  BifrostError,
  type BrowseToolOptions,
  errorMessage,
  type FlowDraft,
  type FlowDraftDevice,
  type FlowDraftTag,
  isBifrostError,
  parseDuration,
} from "../../../engine/plugin.ts";
import { isRegisterTable, type Table } from "../core/address.ts";
import { decodeResponse, readRequest } from "../core/pdu.ts";
import { ModbusTcpClient } from "../tcp/client.ts";
import { discoverUnits, parseUnitList } from "./discover.ts";

/** Requests one table's scan may make (a sparse map costs a bisection per hole). */
export const MAX_REQUESTS = 300;
/** Candidates listed per table; the rest are summed up in a note. */
export const MAX_CANDIDATES = 40;

const USAGE = "expected modbus://host[:port][/unit][?units=1-247&registers=0-999&timeout=200ms]";
const TABLES: readonly Table[] = ["HR", "IR", "C", "DI"];
const FC_OF: Record<Table, 1 | 2 | 3 | 4> = { C: 1, DI: 2, HR: 3, IR: 4 };

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

/** What one table's scan found. */
export interface TableScan {
  table: Table;
  /** Readable ranges, in address order. */
  ranges: { start: number; count: number }[];
  /** Every word (registers) or bit read, by offset. */
  values: Map<number, number>;
  /** Why the scan ended early, if it did. */
  stopped?: string;
}

type Outcome = "ok" | "illegal" | "unsupported" | "absent" | "timeout";

/** Refused blocks this small are not split further; the edges of ranges are read singly. */
const LEAF = 8;

/**
 * Scans `[first, last]` of `table` of a unit: reads blocks, halves the refused ones down to
 * {@linkcode LEAF} addresses, then reads single addresses outward from each readable range's
 * edges until refused, so that a range is exact at a cost of about 30 requests per refused
 * block of 100.
 */
export async function scanTable(
  client: ModbusTcpClient,
  unitId: number,
  table: Table,
  first: number,
  last: number,
  signal: AbortSignal,
): Promise<TableScan> {
  const out: TableScan = { table, ranges: [], values: new Map() };
  const block = isRegisterTable(table) ? 100 : 800;
  let requests = 0;
  const read = async (start: number, count: number): Promise<Outcome> => {
    requests++;
    const request = readRequest(FC_OF[table], start, count);
    let pdu: Uint8Array;
    try {
      pdu = await client.request(unitId, request, signal);
    } catch (e) {
      if (isBifrostError(e, "TIMEOUT")) return "timeout";
      throw e;
    }
    const r = decodeResponse(request, pdu);
    if (!r.ok) {
      if (!("exception" in r)) return "illegal";
      return r.exception === 1 ? "unsupported" : r.exception >= 10 ? "absent" : "illegal";
    }
    for (let i = 0; i < count; i++) {
      const v = isRegisterTable(table)
        ? (r.data[2 * i]! << 8) | r.data[2 * i + 1]!
        : (r.data[i >> 3]! >> (i & 7)) & 1;
      out.values.set(start + i, v);
    }
    return "ok";
  };
  const budget = (at: number) => {
    if (requests < MAX_REQUESTS) return true;
    out.stopped ??= `stopped after ${MAX_REQUESTS} requests at ${table}${at}`;
    return false;
  };
  const walk = async (start: number, count: number): Promise<void> => {
    if (out.stopped || signal.aborted || !budget(start)) return;
    const r = await read(start, count);
    if (r === "unsupported") out.stopped = `${table}: not supported (Modbus exception 1)`;
    else if (r === "timeout") out.stopped = `${table}${start}: no answer in time`;
    else if (r === "absent") out.stopped = `${table}: the gateway found no unit behind it`;
    else if (r === "illegal" && count > LEAF) {
      const half = Math.ceil(count / 2);
      await walk(start, half);
      await walk(start + half, count - half);
    }
  };
  for (let s = first; s <= last && !out.stopped; s += block) {
    await walk(s, Math.min(block, last - s + 1));
  }
  // Edges: a range found by halving may go on into a refused leaf on either side.
  for (const o of [...out.values.keys()]) {
    for (const step of [-1, 1]) {
      if (out.values.has(o + step)) continue;
      let a = o + step;
      while (
        a >= first && a <= last && !out.values.has(a) && !out.stopped && budget(a) &&
        await read(a, 1) === "ok"
      ) a += step;
    }
  }
  const offsets = [...out.values.keys()].sort((a, b) => a - b);
  for (const o of offsets) {
    const prev = out.ranges.at(-1);
    if (prev && prev.start + prev.count === o) prev.count++;
    else out.ranges.push({ start: o, count: 1 });
  }
  return out;
}

/** The float32 (ABCD) of two words when it looks like a measurement, else undefined. */
function plausibleFloat(hi: number, lo: number): number | undefined {
  const e = (hi >> 7) & 0xff;
  // Exponents of 1e-3 .. 1e7: integers that large are rarer in a register than floats.
  if (e < 117 || e > 150) return undefined;
  const v = new DataView(new ArrayBuffer(4));
  v.setUint16(0, hi);
  v.setUint16(2, lo);
  return Number(v.getFloat32(0).toPrecision(7));
}

/** Candidate tags of a scanned table, and notes on what was found. */
export function candidatesOf(scan: TableScan): { tags: FlowDraftTag[]; notes: string[] } {
  const { table } = scan;
  const name = (o: number) => `${table.toLowerCase()}${o}`;
  const tags: FlowDraftTag[] = [];
  const notes = scan.ranges.map((r) =>
    `${table}${r.start}-${table}${r.start + r.count - 1} readable (${r.count} ${
      isRegisterTable(table) ? "registers" : "bits"
    })`
  );
  if (scan.stopped) notes.push(scan.stopped);
  let more = 0;
  const add = (t: FlowDraftTag) => tags.length < MAX_CANDIDATES ? tags.push(t) : more++;
  const offsets = [...scan.values.keys()].sort((a, b) => a - b);
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i]!;
    const v = scan.values.get(o)!;
    if (v === 0) continue;
    if (!isRegisterTable(table)) {
      add({ name: name(o), fields: { address: `${table}${o}`, type: "bool" }, comment: "true" });
      continue;
    }
    const next = scan.values.get(o + 1);
    const f = next === undefined ? undefined : plausibleFloat(v, next);
    if (f !== undefined) {
      add({
        name: name(o),
        fields: { address: `${table}${o}`, type: "float32" },
        comment: `${f} as float32 (words ${v}, ${next})`,
      });
      if (offsets[i + 1] === o + 1) i++;
      continue;
    }
    const hex = v.toString(16).toUpperCase().padStart(4, "0");
    add({
      name: name(o),
      fields: { address: `${table}${o}`, type: "uint16" },
      comment: `${v} (0x${hex})`,
    });
  }
  if (tags.length === 0 && scan.ranges.length > 0) {
    const o = scan.ranges[0]!.start;
    add({
      name: name(o),
      fields: { address: `${table}${o}`, type: isRegisterTable(table) ? "uint16" : "bool" },
      comment: "reads 0",
    });
  }
  if (more > 0) notes.push(`${more} more non-zero ${table} addresses not listed`);
  return { tags, notes };
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
