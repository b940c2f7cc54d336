/**
 * @module
 * The `deadband` step (report by exception). Per device and tag it remembers the last
 * reported record and lets a new one through when:
 * - its value kind, quality or reason changed (so bad/uncertain transitions always pass),
 * - a number moved by more than `absolute`, or by more than `percent` of the last reported
 *   value (either band suffices; with neither, any change passes),
 * - a non-numeric value (boolean, string, JSON…) changed,
 * - or `heartbeat` has elapsed since the last report of that key. Time is the record's
 *   `gatewayTs`, so the heartbeat is applied when a record arrives (no timers) and replays
 *   behave the same as live data.
 *
 * Held records are dropped by compacting the batch in place. State lives in two-level maps
 * (device, then tag) rather than one map keyed by `device + "/" + tag`: same lookups, but no
 * string built per record. {@linkcode DeadbandState.entries} exposes it as `device/tag` keys.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  DURATION_PATTERN,
  parseDuration,
  type Step,
  type StepIssue,
  type StepModule,
  StorageKind,
  type Value,
} from "../../engine/plugin.ts";
import { DevicesField, moveRecord, selected, selector, TagsField, truncate } from "../_shared.ts";

/** The `deadband` step's fields. */
export const DeadbandSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  absolute: Type.Optional(Type.Number({
    minimum: 0,
    description:
      "Pass a number when it differs from the last reported one by more than this (engineering units).",
    examples: [0.5, 10],
  })),
  percent: Type.Optional(Type.Number({
    minimum: 0,
    description:
      "Pass a number when it differs by more than this percentage of the last reported one.",
    examples: [1, 5],
  })),
  heartbeat: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description:
      "Pass a record anyway when this long has passed since the last report of its tag (checked when a record arrives).",
    examples: ["10s", "5m"],
  })),
}, {
  additionalProperties: false,
  description:
    "Report by exception: passes a record only when it differs enough from the last one reported for its tag.",
  examples: [{ absolute: 0.5, heartbeat: "10s" }, { percent: 2 }],
});

/** The `deadband` step's config. */
export type DeadbandConfig = Static<typeof DeadbandSpec>;

/** What is remembered of the last reported record of one key. */
interface Last {
  kind: number;
  quality: number;
  num: number;
  obj: Value | undefined;
  reason: string | undefined;
  ts: number;
}

/** The per-key memory of a deadband step. */
export class DeadbandState {
  /** device → tag → last reported record. */
  readonly byDevice = new Map<string, Map<string, Last>>();

  /** Every remembered key as `device/tag`, with the last reported value. */
  *entries(): IterableIterator<[string, { value: number | Value | undefined; ts: number }]> {
    for (const [device, tags] of this.byDevice) {
      for (const [tag, l] of tags) {
        const value = l.kind === StorageKind.number || l.kind === StorageKind.boolean
          ? l.num
          : l.obj;
        yield [`${device}/${tag}`, { value, ts: l.ts }];
      }
    }
  }
}

function sameObj(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A deadband step, with its state reachable for carry-over and inspection. */
export interface DeadbandStep extends Step {
  readonly state: DeadbandState;
}

/** Creates a deadband step. `state` lets a new flow revision keep the old memory. */
export function createDeadband(config: DeadbandConfig, state = new DeadbandState()): DeadbandStep {
  const abs = config.absolute;
  const pct = config.percent === undefined ? undefined : config.percent / 100;
  const anyChange = abs === undefined && pct === undefined;
  const heartbeat = config.heartbeat === undefined ? Infinity : parseDuration(config.heartbeat);
  const sel = selector(config);
  const all = sel.tags === undefined && sel.devices === undefined;
  const byDevice = state.byDevice;
  let lastDevice = "";
  let lastTags: Map<string, Last> | undefined;

  const passes = (b: Batch, i: number, l: Last): boolean => {
    const kind = b.kind[i]!;
    if (kind !== l.kind || b.quality[i] !== l.quality || b.reason[i] !== l.reason) return true;
    if (b.gatewayTs[i]! - l.ts >= heartbeat) return true;
    const v = b.num[i]!;
    if (kind === StorageKind.number) {
      const last = l.num;
      if (v === last) return false;
      const d = v > last ? v - last : last - v;
      if (d !== d) return !(v !== v && last !== last); // NaN on one side: a change
      if (anyChange) return true;
      if (abs !== undefined && d > abs) return true;
      if (pct !== undefined && d > pct * (last < 0 ? -last : last)) return true;
      return false;
    }
    if (kind === StorageKind.boolean) return v !== l.num;
    if (kind === StorageKind.null) return false;
    return !sameObj(b.obj[i], l.obj);
  };

  return {
    state,
    process(b: Batch): Batch {
      const n = b.length;
      let out = 0;
      for (let i = 0; i < n; i++) {
        let keep = true;
        if (all || selected(sel, b, i)) {
          const device = b.device[i]!;
          if (device !== lastDevice || lastTags === undefined) {
            lastTags = byDevice.get(device);
            if (lastTags === undefined) byDevice.set(device, lastTags = new Map());
            lastDevice = device;
          }
          const tag = b.tag[i]!;
          const l = lastTags.get(tag);
          if (l === undefined) {
            lastTags.set(tag, {
              kind: b.kind[i]!,
              quality: b.quality[i]!,
              num: b.num[i]!,
              obj: b.obj[i],
              reason: b.reason[i],
              ts: b.gatewayTs[i]!,
            });
          } else if (passes(b, i, l)) {
            l.kind = b.kind[i]!;
            l.quality = b.quality[i]!;
            l.num = b.num[i]!;
            l.obj = b.obj[i];
            l.reason = b.reason[i];
            l.ts = b.gatewayTs[i]!;
          } else {
            keep = false;
          }
        }
        if (keep) {
          if (out !== i) moveRecord(b, i, out);
          out++;
        }
      }
      if (out !== n) truncate(b, out);
      return b;
    },
  };
}

/** Issues of a deadband config beyond the schema. */
export function validateDeadband(config: DeadbandConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  if (config.heartbeat !== undefined) {
    try {
      if (parseDuration(config.heartbeat) <= 0) {
        issues.push({
          message: `Cannot use heartbeat "${config.heartbeat}": it must be longer than 0`,
          path: ["heartbeat"],
        });
      }
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["heartbeat"] });
    }
  }
  return issues;
}

/** The `deadband` step. */
export const deadbandStep: StepModule<DeadbandConfig> = {
  name: "deadband",
  description: "Report by exception: passes a value only when it changed by more than a band.",
  status: "stable",
  spec: DeadbandSpec,
  create: (config) => createDeadband(config),
  validate: (config) => validateDeadband(config),
};
