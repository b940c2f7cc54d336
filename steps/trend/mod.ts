/**
 * @module
 * The `trend` step: per tag, the least-squares line through the values of the last `window`
 * (by source time), reported as `{tag}.slope` (units per `unit`) and, with `threshold`, as
 * `{tag}.ttt`: the time (in `unit`) from the newest point until the line reaches the
 * threshold ("tank full in 42 min"); no ttt record while the trend is flat or heads away from
 * the threshold (which includes having passed it).
 *
 * The sums of the fit (Σt, Σv, Σt², Σtv, t in seconds from a per-tag origin) are updated as
 * points enter and leave the window, and recomputed exactly from the buffered points once per
 * window length to stop drift. Points sit in a typed-array ring per tag. Bad inputs are skipped
 * and counted; an out-of-order point is dropped and counted.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  Batch,
  DURATION_PATTERN,
  parseDuration,
  Quality,
  type Step,
  type StepContext,
  type StepIssue,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { compileTemplate, KeyIndex } from "../_keys.ts";
import { DevicesField, selected, selector, TagsField } from "../_shared.ts";
import { PointRing } from "../window/panes.ts";

const UNITS = { s: 1, m: 60, h: 3600 } as const;

/** The `trend` step's fields. */
export const TrendSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  window: Type.String({
    pattern: DURATION_PATTERN,
    description: "How far back the line is fitted.",
    examples: ["10m"],
  }),
  minPoints: Type.Optional(Type.Integer({
    minimum: 2,
    default: 3,
    description: "Fewest points in the window before a trend is reported.",
  })),
  unit: Type.Optional(Type.Union(Object.keys(UNITS).map((u) => Type.Literal(u)), {
    default: "m",
    description: "Time unit of the slope (per unit) and of the time to threshold.",
  })),
  threshold: Type.Optional(Type.Number({
    description: "Report the time until the trend line reaches this value.",
    examples: [95],
  })),
  output: Type.Optional(Type.String({
    default: "{tag}.{what}",
    description: "Tag of output records: `{tag}`, `{device}`, `{what}` (slope or ttt) replaced.",
  })),
  keep: Type.Optional(Type.Boolean({
    default: false,
    description: "Pass the input records on beside the trend records.",
  })),
}, {
  additionalProperties: false,
  description: "Least-squares slope per tag over a time window, and the time until a threshold.",
  examples: [{ tags: ["tank_level"], window: "15m", threshold: 95, unit: "m" }],
});

/** The `trend` step's config. */
export type TrendConfig = Static<typeof TrendSpec>;

/** A trend step. */
export interface TrendStep extends Step {
  process(b: Batch): Batch;
  stats(): Record<string, number>;
}

/** Creates a trend step. */
export function createTrend(config: TrendConfig, ctx?: Pick<StepContext, "clock">): TrendStep {
  const issues = validateTrend(config);
  if (issues.length > 0) throw new RangeError(issues[0]!.message);
  const windowMs = parseDuration(config.window);
  const minPoints = config.minPoints ?? 3;
  const unitS = UNITS[(config.unit ?? "m") as keyof typeof UNITS];
  const threshold = config.threshold;
  const keep = config.keep === true;
  const template = compileTemplate(config.output ?? "{tag}.{what}");
  const sel = selector(config);
  const everything = sel.tags === undefined && sel.devices === undefined;
  const clock = ctx?.clock;
  const keys = new KeyIndex();
  const rings: PointRing[] = [];
  const names: [string, string][] = [];
  // Per key: origin (ms), n, Σt, Σv, Σt², Σtv, operations since the last exact sum.
  const F = 7;
  let st = new Float64Array(0);
  let seq = (clock?.now() ?? Date.now()) * 1000;
  const stats = { points: 0, bad: 0, outOfOrder: 0 };

  const resum = (o: number, r: PointRing) => {
    const origin = r.len > 0 ? r.ts[r.head]! : 0;
    let s1 = 0, sv = 0, s2 = 0, stv = 0;
    for (let j = r.head; j < r.head + r.len; j++) {
      const t = (r.ts[j]! - origin) / 1000, v = r.v[j]!;
      s1 += t;
      sv += v;
      s2 += t * t;
      stv += t * v;
    }
    st[o] = origin;
    st[o + 1] = r.len;
    st[o + 2] = s1;
    st[o + 3] = sv;
    st[o + 4] = s2;
    st[o + 5] = stv;
    st[o + 6] = 0;
  };

  const keyOf = (b: Batch, i: number): number => {
    const id = keys.idAt(b.device[i]!, b.tag[i]!, i);
    if (id >= rings.length) {
      rings.push(new PointRing());
      names.push([
        template({ tag: keys.tag[id]!, device: keys.device[id]!, what: "slope" }),
        template({ tag: keys.tag[id]!, device: keys.device[id]!, what: "ttt" }),
      ]);
      if ((id + 1) * F > st.length) {
        const s = new Float64Array(Math.max(64, (id + 1) * 2) * F);
        s.set(st);
        st = s;
      }
    }
    return id;
  };

  return {
    process(b: Batch): Batch {
      const out = keep ? b : new Batch(4);
      const now = clock?.now() ?? Date.now();
      for (let i = 0; i < b.length; i++) {
        if (!everything && !selected(sel, b, i)) continue;
        const kind = b.kind[i]!;
        if (kind !== StorageKind.number && kind !== StorageKind.boolean) continue;
        if (b.quality[i] === Quality.bad) {
          stats.bad++;
          continue;
        }
        const id = keyOf(b, i);
        const r = rings[id]!, o = id * F;
        const ts = b.sourceTs[i]!, v = b.num[i]!;
        if (r.len > 0 && ts < r.ts[r.head + r.len - 1]!) {
          stats.outOfOrder++;
          continue;
        }
        stats.points++;
        // Evict what left the window, then add the point.
        const from = ts - windowMs;
        while (r.len > 0 && r.ts[r.head]! < from) {
          const t = (r.ts[r.head]! - st[o]!) / 1000, x = r.v[r.head]!;
          st[o + 1] = st[o + 1]! - 1;
          st[o + 2] = st[o + 2]! - t;
          st[o + 3] = st[o + 3]! - x;
          st[o + 4] = st[o + 4]! - t * t;
          st[o + 5] = st[o + 5]! - t * x;
          r.shift();
          st[o + 6] = st[o + 6]! + 1;
        }
        if (r.len === 0) st[o] = ts;
        r.add(ts, v, Infinity);
        const t = (ts - st[o]!) / 1000;
        st[o + 1] = st[o + 1]! + 1;
        st[o + 2] = st[o + 2]! + t;
        st[o + 3] = st[o + 3]! + v;
        st[o + 4] = st[o + 4]! + t * t;
        st[o + 5] = st[o + 5]! + t * v;
        st[o + 6] = st[o + 6]! + 1;
        if (st[o + 6]! > Math.max(64, r.len)) resum(o, r);
        const n = st[o + 1]!;
        if (n < minPoints) continue;
        const sxx = st[o + 4]! - st[o + 2]! * st[o + 2]! / n;
        if (!(sxx > 0)) continue; // all points at one time
        const slope = (st[o + 5]! - st[o + 2]! * st[o + 3]! / n) / sxx; // per second
        const q = b.quality[i] as 0;
        out.add(keys.device[id]!, names[id]![0], slope * unitS, q, undefined, ts, now, seq++);
        if (threshold !== undefined) {
          const fit = st[o + 3]! / n + slope * ((ts - st[o]!) / 1000 - st[o + 2]! / n);
          const gap = threshold - fit;
          if (gap * slope > 0) {
            const ttt = gap / slope / unitS;
            out.add(keys.device[id]!, names[id]![1], ttt, q, undefined, ts, now, seq++);
          }
        }
      }
      return out;
    },
    stats: () => ({ ...stats }),
  };
}

/** Issues of a trend config beyond the schema. */
export function validateTrend(c: TrendConfig): StepIssue[] {
  try {
    if (parseDuration(c.window) > 0) return [];
  } catch (e) {
    return [{ message: (e as Error).message, path: ["window"] }];
  }
  return [{
    message: `Cannot fit over window "${c.window}": it must be above 0`,
    path: ["window"],
  }];
}

/** The `trend` step. */
export const trendStep: StepModule<TrendConfig> = {
  name: "trend",
  description:
    "Least-squares slope per tag over a time window, and the time until the trend reaches a threshold.",
  status: "beta",
  spec: TrendSpec,
  example: `
steps:
  # tank_level.slope in % per minute, tank_level.ttt: minutes until 95 %.
  tank:
    use: trend
    from: slow
    tags: [tank_level]
    window: 15m
    threshold: 95
    unit: m
`,
  create: (config, ctx) => createTrend(config, ctx),
  validate: (config) => validateTrend(config),
};
