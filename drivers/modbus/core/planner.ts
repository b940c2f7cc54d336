/**
 * @module
 * The read planner: coalesces the tags of one poll into as few Modbus requests as possible.
 * Tags are grouped per table (never mixed), sorted by offset and merged greedily while the
 * request stays within `maxRegistersPerRequest` (or `maxBitsPerRequest`) and the unused
 * span between two tags is at most `maxGap`. Greedy merging in offset order is optimal for
 * this one-dimensional problem: a new request starts only when the next tag cannot join.
 */

import type { ReadPlan, TagConfig } from "../../../engine/plugin.ts";
import { isRegisterTable, type Table } from "./address.ts";
import { readRequest } from "./pdu.ts";
import { type PlanSlots, planSlots, setSlot, type SlotRange } from "./plan_decode.ts";
import type { ResolvedTag } from "./tags.ts";

const FC: Record<Table, 1 | 2 | 3 | 4> = { C: 1, DI: 2, HR: 3, IR: 4 };

/**
 * One request of a plan. Its tags are the slots `first..end` of the plan's parallel typed
 * arrays (`slots`), decoded by `decodeInto` (`plan_decode.ts`).
 */
export class PlannedRequest implements SlotRange {
  constructor(
    readonly table: Table,
    readonly fc: 1 | 2 | 3 | 4,
    readonly start: number,
    readonly count: number,
    readonly unitId: number,
    /** The request PDU, built once. */
    readonly pdu: Uint8Array,
    readonly slots: PlanSlots,
    readonly first: number,
    readonly end: number,
    readonly generic: readonly ResolvedTag[],
  ) {}

  /** `HR0..HR11`, or `C0` for a single element (built when asked: messages and `describe()`). */
  get range(): string {
    return rangeText(this.table, this.start, this.count);
  }

  /** The indexes in `plan.tags` of the request's tags, in slot order (not for hot paths). */
  tagIndexes(): number[] {
    return Array.from(this.slots.index.subarray(this.first, this.end));
  }
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
      const names = [...new Set(r.tagIndexes().map((i) => this.tags[i]!.name))].join(", ");
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

const NO_TAGS: readonly ResolvedTag[] = Object.freeze([]);

interface Group {
  table: Table;
  start: number;
  end: number;
  items: { index: number; tag: ResolvedTag }[];
}

/**
 * Plans the read of `resolved` (in the order of `tags`, index for index). The plan keeps
 * no object per tag: 8 bytes of typed arrays per tag; the resolved tags are dropped once
 * planned, except those that need the generic decoder (arrays, strings, 64-bit types).
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
  const slots = planSlots(resolved.length);
  let first = 0;
  const requests = groupTags(resolved, limits).map((g) => {
    const generic: ResolvedTag[] = [];
    const begin = first;
    for (const { index, tag } of g.items) {
      slots.index[first] = index;
      if (setSlot(slots, first, tag, tag.start - g.start)) generic.push(tag);
      first++;
    }
    const count = g.end - g.start;
    const fc = FC[g.table];
    const pdu = readRequest(fc, g.start, count);
    const gen = generic.length === 0 ? NO_TAGS : generic;
    return new PlannedRequest(
      g.table,
      fc,
      g.start,
      count,
      limits.unitId,
      pdu,
      slots,
      begin,
      first,
      gen,
    );
  });
  return new ModbusReadPlan(tags, requests);
}

/** The tags of each request, tables in the order HR, IR, C, DI, offsets ascending. */
function groupTags(resolved: readonly ResolvedTag[], limits: PlanLimits): Group[] {
  const byTable = new Map<Table, { index: number; tag: ResolvedTag }[]>();
  resolved.forEach((tag, index) => {
    const list = byTable.get(tag.table) ?? [];
    list.push({ index, tag });
    byTable.set(tag.table, list);
  });
  const groups: Group[] = [];
  for (const table of ["HR", "IR", "C", "DI"] as const) {
    const list = byTable.get(table);
    if (!list) continue;
    list.sort((a, b) => a.tag.start - b.tag.start || a.index - b.index);
    const max = isRegisterTable(table) ? limits.maxRegistersPerRequest : limits.maxBitsPerRequest;
    let cur: Group | undefined;
    for (const e of list) {
      const start = e.tag.start;
      const end = start + e.tag.count;
      if (
        cur && start - cur.end <= limits.maxGap && Math.max(cur.end, end) - cur.start <= max
      ) {
        cur.end = Math.max(cur.end, end);
        cur.items.push(e);
      } else {
        cur = { table, start, end, items: [e] };
        groups.push(cur);
      }
    }
  }
  return groups;
}
