/** @module The `window` step's config spec (fields, defaults, descriptions, examples). */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { DevicesField, TagsField } from "../_shared.ts";

/** Aggregates every window can compute; `pNN` (e.g. `p95`, `p99.9`) adds a percentile. */
export const AGGREGATES = [
  "mean",
  "min",
  "max",
  "sum",
  "count",
  "first",
  "last",
  "stddev",
  "range",
  "delta",
  "rate",
  "integral",
  "twa",
] as const;
/** The pattern of a percentile aggregate name. */
export const PERCENTILE_PATTERN = "^p(100|[0-9]{1,2})(\\.[0-9]+)?$";

const duration = (description: string, examples: string[]) =>
  Type.Optional(Type.String({ pattern: DURATION_PATTERN, description, examples }));

/** The `window` step's fields. */
export const WindowSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  size: duration(
    "Time window length. Windows are aligned to the epoch: a 1m window closes on each minute.",
    ["1m", "15m"],
  ),
  hop: duration(
    "How often a time window closes (sliding/hopping); the default is `size` (tumbling). `size` must be a multiple of the greatest common divisor of both (any pair of durations is fine).",
    ["10s"],
  ),
  count: Type.Optional(Type.Integer({
    minimum: 1,
    description: "Count window: aggregate every this many records of a key instead of by time.",
    examples: [100],
  })),
  countHop: Type.Optional(Type.Integer({
    minimum: 1,
    description:
      "Count window: close a window every this many records (a divisor of `count`); default `count` (tumbling).",
    examples: [10],
  })),
  session: duration(
    "Session window: a window per key that closes after this gap without records.",
    ["30s"],
  ),
  aggregates: Type.Optional(Type.Array(
    Type.Union([
      ...AGGREGATES.map((a) => Type.Literal(a)),
      Type.String({ pattern: PERCENTILE_PATTERN }),
    ]),
    {
      minItems: 1,
      uniqueItems: true,
      default: ["mean", "min", "max", "count"],
      description:
        "What each window reports: mean, min, max, sum, count, first, last, stddev (sample), range (max-min), delta (last-first), rate (delta per second), integral (trapezoid, per `integralUnit`, e.g. kWh from kW), twa (time-weighted average), and percentiles `pNN` (interpolated between the closest ranks, as Excel's PERCENTILE.INC; see `percentiles` for their accuracy).",
      examples: [["mean", "min", "max", "p95"], ["integral"]],
    },
  )),
  group: Type.Optional(Type.String({
    minLength: 1,
    description:
      "Pool all selected tags of a device into one key with this tag name (a group of tags); by default each tag is its own key.",
    examples: ["zone-temps"],
  })),
  output: Type.Optional(Type.String({
    minLength: 1,
    default: "{tag}.{agg}",
    description: "Tag name of each output record: `{tag}`, `{device}` and `{agg}` are replaced.",
    examples: ["{tag}.{agg}", "{tag}_{agg}_1m"],
  })),
  time: Type.Optional(Type.Union([Type.Literal("source"), Type.Literal("gateway")], {
    default: "source",
    description: "Which timestamp places a record in a window.",
  })),
  lateness: duration(
    "Watermark policy: a time window closes when the newest timestamp seen is this far past its end; records older than every still-open window are dropped and counted as `late`.",
    ["5s"],
  ),
  integralUnit: Type.Optional(Type.Union(["s", "m", "h"].map((u) => Type.Literal(u)), {
    default: "h",
    description: "Time unit of `integral` (h: kW in, kWh out).",
  })),
  percentiles: Type.Optional(Type.Union([Type.Literal("sketch"), Type.Literal("exact")], {
    default: "sketch",
    description:
      "How `pNN` aggregates are computed. `sketch` (a DDSketch per key and pane, merged exactly over the window's panes): bounded memory whatever the record rate (tens of bins per key for a typical signal, at most enough for 18 decades of magnitude per pane), and each percentile within `percentileAccuracy` (relative) of the exact PERCENTILE.INC value when its two closest ranks have the same sign (else within the accuracy times the larger of their magnitudes); p0 and p100 are the exact min and max. `exact`: the window's raw values are buffered (up to `maxPoints` per key) and sorted when it closes.",
  })),
  percentileAccuracy: Type.Optional(Type.Number({
    minimum: 0.001,
    maximum: 0.1,
    description:
      "`percentiles: sketch`: the relative error each percentile is guaranteed within; default 0.01 (±1 %). Smaller costs more bins: about ln(max/min) / (2 × accuracy) per key and pane for positive values between min and max (0.01: 26 bins for 15..25 °C).",
    examples: [0.01, 0.001],
  })),
  maxPoints: Type.Optional(Type.Integer({
    minimum: 1,
    description:
      "`percentiles: exact` only: most values buffered per key, default 100,000; beyond it values are counted in `overflow` and left out of percentiles (the window is then uncertain).",
  })),
  persist: Type.Optional(Type.Boolean({
    default: false,
    description:
      "Snapshot the open windows to the data directory when the step stops, and restore them at start (or after a hot reload that changed the step), unless the windows themselves changed: a new `aggregates`, `output` or `integralUnit` keeps the state; another size, hop, selection, lateness or percentile mode starts empty.",
  })),
}, {
  additionalProperties: false,
  description:
    "Aggregates records per tag (or group of tags) over tumbling, sliding, count or session windows.",
  examples: [{ size: "1m", hop: "10s", aggregates: ["mean", "min", "max", "p95"] }, {
    size: "15m",
    aggregates: ["integral"],
    tags: ["power_kw"],
  }],
});

/** The `window` step's config. */
export type WindowConfig = Static<typeof WindowSpec>;
