/**
 * @module
 * The read planner: coalesces the tags of one poll into as few Modbus requests as possible.
 * Tags are grouped per table (never mixed), sorted by offset and merged greedily while the
 * request stays within `maxRegistersPerRequest` (or `maxBitsPerRequest`) and the unused
 * span between two tags is at most `maxGap`. Greedy merging in offset order is optimal for
 * this one-dimensional problem: a new request starts only when the next tag cannot join.
 */

import type { ReadPlan, TagConfig } from "../../engine/driver.ts";
import type { Value } from "../../engine/record.ts";
import { isRegisterTable, type Table } from "./address.ts";
import { readRequest } from "./pdu.ts";
import type { ResolvedTag } from "./tags.ts";
import { decodeItem } from "./write.ts";

const FC: Record<Table, 1 | 2 | 3 | 4> = { C: 1, DI: 2, HR: 3, IR: 4 };

/** Where one tag sits inside a planned request. */
export interface PlannedItem {
  /** Index of the tag in `plan.tags`. */
  index: number;
  tag: ResolvedTag;
  /** Registers (or bits) from the request's start to the tag's start. */
  at: number;
  /** Decodes the tag from its request's checked response PDU (see {@linkcode itemReader}). */
  read: (pdu: Uint8Array) => Value;
}

/** One request of a plan. */
export interface PlannedRequest {
  table: Table;
  fc: 1 | 2 | 3 | 4;
  start: number;
  count: number;
  unitId: number;
  /** The request PDU, built once. */
  pdu: Uint8Array;
  items: PlannedItem[];
  /** `HR0..HR11`, or `C0` for a single element. */
  range: string;
}

/** Limits of the planner. */
export interface PlanLimits {
  unitId: number;
  maxRegistersPerRequest: number;
  maxBitsPerRequest: number;
  maxGap: number;
}

/** A compiled read of Modbus tags. */
export class ModbusReadPlan implements ReadPlan {
  constructor(readonly tags: readonly TagConfig[], readonly requests: readonly PlannedRequest[]) {}

  /** One line per request, e.g. `FC3 HR0..HR11 (12 regs) unit 1: temp1, temp2, pressure`. */
  describe(): string[] {
    return this.requests.map((r) => {
      const unit = isRegisterTable(r.table) ? "reg" : "bit";
      const names = [...new Set(r.items.map((i) => i.tag.name))].join(", ");
      return `FC${r.fc} ${r.range} (${r.count} ${unit}${
        r.count === 1 ? "" : "s"
      }) unit ${r.unitId}: ${names}`;
    });
  }
}

/** The range text of a request, e.g. `HR100..HR109`. */
export function rangeText(table: Table, start: number, count: number): string {
  return count === 1 ? `${table}${start}` : `${table}${start}..${table}${start + count - 1}`;
}

/**
 * Plans the read of `resolved` (in the order of `tags`, index for index).
 *
 * @example
 * ```ts
 * planRead(tags, tags.map((t) => resolveTag(t, "ABCD")), limits).describe();
 * // ["FC3 HR0..HR5 (6 regs) unit 1: temp1, temp2, pressure"]
 * ```
 */
export function planRead(
  tags: readonly TagConfig[],
  resolved: readonly ResolvedTag[],
  limits: PlanLimits,
): ModbusReadPlan {
  const byTable = new Map<Table, { index: number; tag: ResolvedTag }[]>();
  resolved.forEach((tag, index) => {
    const list = byTable.get(tag.table) ?? [];
    list.push({ index, tag });
    byTable.set(tag.table, list);
  });
  const requests: PlannedRequest[] = [];
  for (const table of ["HR", "IR", "C", "DI"] as const) {
    const list = byTable.get(table);
    if (!list) continue;
    list.sort((a, b) => a.tag.start - b.tag.start || a.index - b.index);
    const max = isRegisterTable(table) ? limits.maxRegistersPerRequest : limits.maxBitsPerRequest;
    let cur: { start: number; end: number; items: typeof list } | undefined;
    const flush = () => {
      if (!cur) return;
      const count = cur.end - cur.start;
      requests.push({
        table,
        fc: FC[table],
        start: cur.start,
        count,
        unitId: limits.unitId,
        pdu: readRequest(FC[table], cur.start, count),
        items: cur.items.map(({ index, tag }) => {
          const at = tag.start - cur!.start;
          return { index, tag, at, read: itemReader(tag, at) };
        }),
        range: rangeText(table, cur.start, count),
      });
    };
    for (const e of list) {
      const start = e.tag.start;
      const end = start + e.tag.count;
      if (
        cur && start - cur.end <= limits.maxGap && Math.max(cur.end, end) - cur.start <= max
      ) {
        cur.end = Math.max(cur.end, end);
        cur.items.push(e);
      } else {
        flush();
        cur = { start, end, items: [e] };
      }
    }
    flush();
  }
  return new ModbusReadPlan(tags, requests);
}

const scratch = new DataView(new ArrayBuffer(4));

/**
 * A decoder of one tag from the response PDU of an FC1-4 read (data from byte 2 on), the
 * tag sitting `at` registers (or bits) after the request's start. Same values as
 * `decodeItem(pdu.subarray(2), at, tag)`, which it falls back to for arrays, strings and
 * 64-bit types; single bits and 16/32-bit values, the bulk of real tag lists, are read
 * straight from the PDU without the view and the type dispatch of every read.
 */
export function itemReader(tag: ResolvedTag, at: number): (pdu: Uint8Array) => Value {
  if (tag.elements === 1) {
    if (tag.table === "C" || tag.table === "DI") {
      const byte = (16 + at) >> 3;
      const bit = (16 + at) & 7;
      return (p) => ((p[byte]! >> bit) & 1) === 1;
    }
    const o = 2 + 2 * at;
    if (tag.bit !== undefined) {
      const bit = tag.bit;
      return (p) => ((((p[o]! << 8) | p[o + 1]!) >> bit) & 1) === 1;
    }
    const swapBytes = tag.order === "BADC" || tag.order === "DCBA";
    const swapWords = tag.order === "CDAB" || tag.order === "DCBA";
    // Byte positions of A (most significant), B, C, D.
    const w0 = swapWords && tag.count === 2 ? o + 2 : o;
    const w1 = swapWords && tag.count === 2 ? o : o + 2;
    const a = swapBytes ? w0 + 1 : w0;
    const b = swapBytes ? w0 : w0 + 1;
    const c = swapBytes ? w1 + 1 : w1;
    const d = swapBytes ? w1 : w1 + 1;
    switch (tag.type) {
      case "uint16":
        return (p) => (p[a]! << 8) | p[b]!;
      case "int16":
        return (p) => (((p[a]! << 8) | p[b]!) << 16) >> 16;
      case "int32":
        return (p) => (p[a]! << 24) | (p[b]! << 16) | (p[c]! << 8) | p[d]!;
      case "uint32":
        return (p) => ((p[a]! << 24) | (p[b]! << 16) | (p[c]! << 8) | p[d]!) >>> 0;
      case "float32":
        return (p) => {
          scratch.setUint32(0, (p[a]! << 24) | (p[b]! << 16) | (p[c]! << 8) | p[d]!);
          return scratch.getFloat32(0);
        };
    }
  }
  return (p) => decodeItem(p.subarray(2), at, tag);
}
