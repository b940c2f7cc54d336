/**
 * @module
 * The register-level part of a Modbus browse: which addresses of a table a unit answers
 * (read in blocks, refused blocks halved, range edges read singly) and what candidate tags
 * the values read suggest.
 */

import { type FlowDraftTag, isBifrostError } from "../../../engine/plugin.ts";
import { isRegisterTable, type Table } from "../core/address.ts";
import { decodeResponse, readRequest } from "../core/pdu.ts";
import type { ModbusTcpClient } from "../tcp/client.ts";

/** Requests one table's scan may make (a sparse map costs a bisection per hole). */
export const MAX_REQUESTS = 300;
/** Candidates listed per table; the rest are summed up in a note. */
export const MAX_CANDIDATES = 40;
const FC_OF: Record<Table, 1 | 2 | 3 | 4> = { C: 1, DI: 2, HR: 3, IR: 4 };

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
