/**
 * @module
 * The `anomaly` step: per tag, one detection method, an anomaly record with its score when a
 * value is judged anomalous (or a score for every value with `emit: all`):
 * - `zscore`: (value - mean) / standard deviation of the previous `window` values;
 * - `ewma`: the same against an exponentially weighted mean and variance (weight `alpha`):
 *   EWMA control limits at mean ± threshold·σ;
 * - `mad`: robust z-score 0.6745·(value - median) / MAD over the previous `window` values;
 * - `flatline`: a stuck sensor, the value unchanged (within `tolerance`) for `duration`
 *   (score: seconds unchanged), reported once per episode;
 * - `range`: outside the physical range `min`..`max` (score: distance outside).
 *
 * The value is judged against history that does not include it, then added. History lives in
 * one Float64Array ring per step (`keys × window`), running sums beside it. Bad inputs are
 * skipped and counted; statistical methods judge nothing until `window` values are in
 * (ewma: `window` values of warm-up too).
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

/** Detection methods. */
export const METHODS = ["zscore", "ewma", "mad", "flatline", "range"] as const;

/** The `anomaly` step's fields. */
export const AnomalySpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  method: Type.Union(METHODS.map((m) => Type.Literal(m)), {
    description: "zscore, ewma (control limits), mad (median absolute deviation), flatline, range.",
  }),
  window: Type.Optional(Type.Integer({
    minimum: 3,
    maximum: 100_000,
    default: 30,
    description: "zscore/mad: values of history per tag; ewma: values of warm-up.",
  })),
  threshold: Type.Optional(Type.Number({
    exclusiveMinimum: 0,
    default: 3,
    description: "zscore/ewma/mad: anomalous when |score| is above this.",
  })),
  alpha: Type.Optional(Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    description: "ewma: weight of the newest value (0.1 when absent).",
  })),
  duration: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description: "flatline: how long a value must stay unchanged.",
    examples: ["5m"],
  })),
  tolerance: Type.Optional(Type.Number({
    minimum: 0,
    description: "flatline: changes up to this count as unchanged (0 when absent).",
  })),
  min: Type.Optional(Type.Number({ description: "range: lowest physically possible value." })),
  max: Type.Optional(Type.Number({ description: "range: highest physically possible value." })),
  emit: Type.Optional(Type.Union([Type.Literal("anomalies"), Type.Literal("all")], {
    default: "anomalies",
    description: "anomalies: a record per anomalous value; all: a score for every judged value.",
  })),
  output: Type.Optional(Type.String({
    default: "{tag}.{method}",
    description: "Tag of the score records: `{tag}`, `{device}`, `{method}` replaced.",
  })),
  keep: Type.Optional(Type.Boolean({
    default: false,
    description: "Pass the input records on beside the anomaly records.",
  })),
}, {
  additionalProperties: false,
  description:
    "Flags anomalous values per tag (rolling z-score, EWMA limits, MAD, flatline, out of range) with a score.",
  examples: [{ method: "zscore", window: 60, threshold: 4 }, {
    method: "flatline",
    duration: "10m",
  }],
});

/** The `anomaly` step's config. */
export type AnomalyConfig = Static<typeof AnomalySpec>;

/** An anomaly step. */
export interface AnomalyStep extends Step {
  process(b: Batch): Batch;
  stats(): Record<string, number>;
}

/** Median of the first `n` values of `a` (sorted in place). */
function median(a: Float64Array, n: number): number {
  const s = a.subarray(0, n).sort();
  const m = n >> 1;
  return n % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Creates an anomaly step. */
export function createAnomaly(
  config: AnomalyConfig,
  ctx?: Pick<StepContext, "clock">,
): AnomalyStep {
  const issues = validateAnomaly(config);
  if (issues.length > 0) throw new RangeError(issues[0]!.message);
  const method = config.method;
  const W = config.window ?? 30;
  const threshold = config.threshold ?? 3;
  const alpha = config.alpha ?? 0.1;
  const flatMs = config.duration ? parseDuration(config.duration) : 0;
  const tol = config.tolerance ?? 0;
  const lo = config.min ?? -Infinity, hi = config.max ?? Infinity;
  const all = config.emit === "all";
  const keep = config.keep === true;
  const template = compileTemplate(config.output ?? "{tag}.{method}");
  const sel = selector(config);
  const everything = sel.tags === undefined && sel.devices === undefined;
  const clock = ctx?.clock;
  const keys = new KeyIndex();
  const names: string[] = [];
  const ringed = method === "zscore" || method === "mad";
  // Per key: ring (W values), count, head; sums; ewma mean/var; flatline value/since/reported.
  let ring = new Float64Array(0);
  let st = new Float64Array(0);
  const S = 6; // fields of st per key
  let cap = 0;
  const scratch = new Float64Array(W);
  let seq = (clock?.now() ?? Date.now()) * 1000;
  const stats = { judged: 0, anomalies: 0, bad: 0 };

  const keyOf = (b: Batch, i: number): number => {
    const id = keys.idAt(b.device[i]!, b.tag[i]!, i);
    if (id >= cap) {
      cap = Math.max(64, cap * 2);
      if (ringed) {
        const r = new Float64Array(cap * W);
        r.set(ring);
        ring = r;
      }
      const s = new Float64Array(cap * S);
      s.set(st);
      st = s;
    }
    if (names[id] === undefined) {
      names[id] = template({ tag: keys.tag[id]!, device: keys.device[id]!, method });
      st[id * S + 3] = NaN; // flatline: no value yet
    }
    return id;
  };

  /** The score of `v` for key `id` (NaN: not judged), updating the key's history. */
  const score = (id: number, v: number, ts: number): number => {
    const o = id * S;
    switch (method) {
      case "range":
        return v < lo ? lo - v : v > hi ? v - hi : 0;
      case "flatline": {
        // st: [3] value, [4] since, [5] reported
        const last = st[o + 3]!;
        if (last !== last || Math.abs(v - last) > tol) {
          st[o + 3] = v;
          st[o + 4] = ts;
          st[o + 5] = 0;
          return 0;
        }
        return (ts - st[o + 4]!) / 1000;
      }
      case "ewma": {
        // st: [0] n, [1] mean, [2] variance
        const n = st[o]!, m = st[o + 1]!, s2 = st[o + 2]!;
        let z = NaN;
        if (n >= W) z = s2 > 0 ? (v - m) / Math.sqrt(s2) : (v === m ? 0 : Infinity);
        if (n === 0) {
          st[o + 1] = v;
        } else {
          const d = v - m;
          const a = n < W ? 1 / (n + 1) : alpha; // warm-up: plain mean and variance
          st[o + 1] = m + a * d;
          st[o + 2] = (1 - a) * (s2 + a * d * d);
        }
        st[o] = n + 1;
        return z;
      }
      default: {
        // st: [0] n, [1] sum, [2] sum of squares; ring head at n % W
        const n = st[o]!, base = id * W;
        let z = NaN;
        if (n >= W) {
          if (method === "zscore") {
            const mean = st[o + 1]! / W;
            const vr = Math.max(0, (st[o + 2]! - W * mean * mean) / (W - 1));
            z = vr > 0 ? (v - mean) / Math.sqrt(vr) : (v === mean ? 0 : Infinity);
          } else {
            scratch.set(ring.subarray(base, base + W));
            const med = median(scratch, W);
            for (let j = 0; j < W; j++) scratch[j] = Math.abs(ring[base + j]! - med);
            const mad = median(scratch, W);
            z = mad > 0 ? 0.6745 * (v - med) / mad : (v === med ? 0 : Infinity);
          }
          const old = ring[base + (n % W)]!;
          st[o + 1] = st[o + 1]! - old;
          st[o + 2] = st[o + 2]! - old * old;
        }
        ring[base + (n % W)] = v;
        st[o + 1] = st[o + 1]! + v;
        st[o + 2] = st[o + 2]! + v * v;
        st[o] = n + 1;
        if ((n + 1) % W === 0) {
          // Running sums drift (added and removed values of large offset): resum exactly,
          // once per W values.
          let s1 = 0, s2 = 0;
          for (let j = 0; j < W; j++) {
            const x = ring[base + j]!;
            s1 += x;
            s2 += x * x;
          }
          st[o + 1] = s1;
          st[o + 2] = s2;
        }
        return z;
      }
    }
  };

  return {
    process(b: Batch): Batch {
      const out = keep ? b : new Batch(4);
      const now = clock?.now() ?? Date.now();
      const n = b.length;
      for (let i = 0; i < n; i++) {
        if (!everything && !selected(sel, b, i)) continue;
        const kind = b.kind[i]!;
        if (kind !== StorageKind.number && kind !== StorageKind.boolean) continue;
        if (b.quality[i] === Quality.bad) {
          stats.bad++;
          continue;
        }
        const id = keyOf(b, i);
        const ts = b.sourceTs[i]!;
        const z = score(id, b.num[i]!, ts);
        if (z !== z) continue;
        stats.judged++;
        let anomalous: boolean;
        if (method === "flatline") {
          anomalous = z * 1000 >= flatMs && st[id * S + 5] === 0;
          if (anomalous) st[id * S + 5] = 1;
        } else if (method === "range") anomalous = z > 0;
        else anomalous = Math.abs(z) > threshold;
        if (anomalous) stats.anomalies++;
        if (anomalous || all) {
          out.add(keys.device[id]!, names[id]!, z, Quality.good, undefined, ts, now, seq++);
        }
      }
      return out;
    },
    stats: () => ({ ...stats }),
  };
}

/** Issues of an anomaly config beyond the schema. */
export function validateAnomaly(c: AnomalyConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  if (c.method === "flatline" && c.duration === undefined) {
    issues.push({ message: "Cannot detect a flatline without duration", path: ["method"] });
  }
  if (c.method === "range" && c.min === undefined && c.max === undefined) {
    issues.push({ message: "Cannot check a range without min or max", path: ["method"] });
  }
  if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
    issues.push({ message: `Cannot use min ${c.min} above max ${c.max}`, path: ["min"] });
  }
  for (const [k, m] of [["duration", "flatline"], ["tolerance", "flatline"], ["alpha", "ewma"]]) {
    if ((c as Record<string, unknown>)[k!] !== undefined && c.method !== m) {
      issues.push({
        message: `Cannot use ${k} with method ${c.method}: it is for ${m}`,
        path: [k!],
      });
    }
  }
  return issues;
}

/** The `anomaly` step. */
export const anomalyStep: StepModule<AnomalyConfig> = {
  name: "anomaly",
  description:
    "Flags anomalous values per tag: rolling z-score, EWMA control limits, median absolute deviation, flatline (stuck sensor), out of physical range; each anomaly record carries its score.",
  status: "beta",
  spec: AnomalySpec,
  example: `
steps:
  spikes:
    use: anomaly
    from: fast
    tags: ["temp*"]
    method: zscore
    window: 60
    threshold: 4
  stuck:
    use: anomaly
    from: fast
    method: flatline
    duration: 10m
    tolerance: 0.01
  impossible:
    use: anomaly
    from: fast
    tags: [pressure]
    method: range
    min: 0
    max: 400
`,
  create: (config, ctx) => createAnomaly(config, ctx),
  validate: (config) => validateAnomaly(config),
};
