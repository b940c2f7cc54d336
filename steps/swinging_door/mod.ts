/**
 * @module
 * The `swinging-door` step: swinging-door trending compression (Bristol 1990, as in OSIsoft
 * PI's archive). Per tag, from the last archived point, two "doors" at ± `deviation` swing
 * open as values arrive; when they open past parallel, no straight line from the archived
 * point stays within `deviation` of every value held since, so the point before the current
 * one is archived (passed on) and becomes the new pivot. Linear interpolation between the
 * passed records reproduces the inputs within `deviation` as a rule and within twice it at
 * worst (the passed points are real inputs, not corridor points; property-tested).
 *
 * `maxTime` is a heartbeat: a point is archived at least that often. Quality changes,
 * non-numeric values and bad records pass at once and restart the door. State per tag sits
 * in typed arrays; the held point's record is copied in so it can be passed later.
 * `stats()` gives `in`, `out` and `ratio` (in/out, the compression ratio) for the metrics.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  Batch,
  DURATION_PATTERN,
  parseDuration,
  Quality,
  type Step,
  type StepIssue,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { KeyIndex } from "../_keys.ts";
import { DevicesField, moveRecord, selected, selector, TagsField, truncate } from "../_shared.ts";

/** The `swinging-door` step's fields. */
export const SwingingDoorSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  deviation: Type.Number({
    exclusiveMinimum: 0,
    description:
      "Compression deviation (engineering units): interpolating between passed records stays within it as a rule, within twice it at worst.",
    examples: [0.5],
  }),
  maxTime: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description: "Pass a record at least this often per tag (heartbeat).",
    examples: ["10m"],
  })),
}, {
  additionalProperties: false,
  description:
    "Swinging-door trending compression: passes the records needed to rebuild each tag within a deviation.",
  examples: [{ deviation: 0.5, maxTime: "10m" }],
});

/** The `swinging-door` step's config. */
export type SwingingDoorConfig = Static<typeof SwingingDoorSpec>;

/** A swinging-door step. */
export interface SwingingDoorStep extends Step {
  process(b: Batch): Batch;
  stats(): { in: number; out: number; ratio: number };
}

/** Creates a swinging-door step. */
export function createSwingingDoor(config: SwingingDoorConfig): SwingingDoorStep {
  const E = config.deviation;
  const maxTime = config.maxTime ? parseDuration(config.maxTime) : Infinity;
  const sel = selector(config);
  const everything = sel.tags === undefined && sel.devices === undefined;
  const keys = new KeyIndex();
  // Per key (F doubles): pivot ts, pivot value, upper slope, lower slope, held ts, held value,
  // held quality, held seq, held gateway ts, state (0 none, 1 pivot only, 2 pivot + held).
  const F = 10;
  let st = new Float64Array(0);
  let cap = 0;
  let inCount = 0, outCount = 0;

  const keyOf = (b: Batch, i: number): number => {
    const id = keys.idAt(b.device[i]!, b.tag[i]!, i);
    if (id >= cap) {
      cap = Math.max(64, cap * 2);
      const s = new Float64Array(cap * F);
      s.set(st);
      st = s;
    }
    return id;
  };

  const pivotAt = (o: number, ts: number, v: number) => {
    st[o] = ts;
    st[o + 1] = v;
    st[o + 2] = -Infinity;
    st[o + 3] = Infinity;
    st[o + 9] = 1;
  };

  return {
    process(b: Batch): Batch {
      const n = b.length;
      // Held points to pass come before the current record: collect the output in a new batch
      // when any is released, else compact in place.
      let out: Batch | undefined;
      let kept = 0;
      const pass = (i: number) => {
        outCount++;
        if (out) out.copyFrom(b, i);
        else {
          if (kept !== i) moveRecord(b, i, kept);
          kept++;
        }
      };
      const release = (id: number, o: number) => {
        if (!out) {
          out = new Batch(n + 4);
          for (let j = 0; j < kept; j++) out.copyFrom(b, j);
        }
        outCount++;
        out.add(
          keys.device[id]!,
          keys.tag[id]!,
          st[o + 5]!,
          st[o + 6]! as 0,
          undefined,
          st[o + 4]!,
          st[o + 8]!,
          st[o + 7]!,
        );
      };
      for (let i = 0; i < n; i++) {
        if (!everything && !selected(sel, b, i)) {
          pass(i);
          continue;
        }
        inCount++;
        const id = keyOf(b, i);
        const o = id * F;
        const kind = b.kind[i]!, q = b.quality[i]!;
        const ts = b.sourceTs[i]!, v = b.num[i]!;
        const state = st[o + 9]!;
        if (kind !== StorageKind.number || q === Quality.bad || !Number.isFinite(v)) {
          if (state === 2) release(id, o);
          st[o + 9] = 0;
          pass(i);
          continue;
        }
        if (state === 0 || st[o + 6] !== q || ts <= st[o]!) {
          if (state === 2 && ts > st[o]!) release(id, o);
          pivotAt(o, ts, v);
          st[o + 6] = q;
          pass(i);
          continue;
        }
        const dt = ts - st[o]!;
        const up = Math.max(st[o + 2]!, (v - st[o + 1]! - E) / dt);
        const low = Math.min(st[o + 3]!, (v - st[o + 1]! + E) / dt);
        if (up > low || dt >= maxTime) {
          if (dt >= maxTime) {
            // Heartbeat: pass this record, it becomes the pivot.
            if (state === 2 && st[o + 4]! > st[o]!) release(id, o);
            pivotAt(o, ts, v);
            st[o + 6] = q;
            pass(i);
            continue;
          }
          // The doors opened past parallel: archive the held point, swing again from it.
          release(id, o);
          const pts = st[o + 4]!, pv = st[o + 5]!;
          pivotAt(o, pts, pv);
          const d2 = ts - pts;
          st[o + 2] = (v - pv - E) / d2;
          st[o + 3] = (v - pv + E) / d2;
        } else {
          st[o + 2] = up;
          st[o + 3] = low;
        }
        // Hold the current record.
        st[o + 4] = ts;
        st[o + 5] = v;
        st[o + 6] = q;
        st[o + 7] = b.seq[i]!;
        st[o + 8] = b.gatewayTs[i]!;
        st[o + 9] = 2;
      }
      if (out) return out;
      if (kept !== n) truncate(b, kept);
      return b;
    },
    stats() {
      return { in: inCount, out: outCount, ratio: outCount > 0 ? inCount / outCount : 0 };
    },
  };
}

/** Issues of a swinging-door config beyond the schema. */
export function validateSwingingDoor(c: SwingingDoorConfig): StepIssue[] {
  if (c.maxTime === undefined) return [];
  try {
    if (parseDuration(c.maxTime) > 0) return [];
  } catch (e) {
    return [{ message: (e as Error).message, path: ["maxTime"] }];
  }
  return [{ message: `Cannot use maxTime "${c.maxTime}": it must be above 0`, path: ["maxTime"] }];
}

/** The `swinging-door` step. */
export const swingingDoorStep: StepModule<SwingingDoorConfig> = {
  name: "swinging-door",
  description:
    "Swinging-door trending compression with a max-time heartbeat; the compression ratio is in the metrics.",
  status: "beta",
  spec: SwingingDoorSpec,
  example: `
steps:
  # Keep enough points to redraw each temperature within 0.2 °C, at least one per 10 minutes.
  compressed:
    use: swinging-door
    from: fast
    tags: ["temp*"]
    deviation: 0.2
    maxTime: 10m
`,
  create: (config) => createSwingingDoor(config),
  validate: (config) => validateSwingingDoor(config),
};
