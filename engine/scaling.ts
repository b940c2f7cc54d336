/**
 * @module
 * Linear tag scaling from raw to engineering units: gain/offset or two-point
 * (`rawMin..rawMax` to `engMin..engMax`), then an optional clamp. Used by the engine for a
 * tag's `scale:` and by the `scale` step. {@linkcode compileScaling} folds a
 * {@linkcode TagScaling} into three numbers once, so hot loops do one subtract, one
 * multiply, one add and two compares a value.
 */

import type { TagScaling, ValueKind } from "./driver.ts";
import type { Value } from "./record.ts";

/** A scaling folded for hot loops: `eng = clamp((raw - r0) * g + e0, lo, hi)`. */
export interface CompiledScaling {
  r0: number;
  /** `eng = (raw - r0) * m / dv + e0`: see {@linkcode compileScaling} for why two numbers. */
  m: number;
  dv: number;
  e0: number;
  lo: number;
  hi: number;
}

/**
 * The integer `n` when `gain` is exactly `1 / n` (0.1, 0.01, 0.001 …), else 1. Dividing by
 * `n` gives the correctly rounded decimal (`226 / 100 = 2.26`) where multiplying by the
 * inexact `0.01` gives `2.2600000000000002`, which a user then sees in every sink.
 */
function divisorOf(gain: number): number {
  if (gain === 0 || Math.abs(gain) >= 1) return 1;
  const n = Math.round(1 / gain);
  return 1 / n === gain ? n : 1;
}

/** True when the two-point fields are all present. */
function isTwoPoint(s: TagScaling): boolean {
  return s.rawMin !== undefined && s.rawMax !== undefined && s.engMin !== undefined &&
    s.engMax !== undefined;
}

/**
 * Problems with a scaling, as `[field, message]` pairs (empty when it is usable): a partial
 * two-point set, two-point mixed with gain/offset, an empty raw range, `clampMin > clampMax`,
 * or a non-finite number.
 */
export function scalingIssues(s: TagScaling): [keyof TagScaling, string][] {
  const out: [keyof TagScaling, string][] = [];
  const fields = [
    "gain",
    "offset",
    "rawMin",
    "rawMax",
    "engMin",
    "engMax",
    "clampMin",
    "clampMax",
  ] as const;
  for (const f of fields) {
    const v = s[f];
    if (v !== undefined && !Number.isFinite(v)) {
      out.push([f, `Cannot scale with ${f} ${v}: it must be a finite number`]);
    }
  }
  const two = ["rawMin", "rawMax", "engMin", "engMax"] as const;
  const given = two.filter((f) => s[f] !== undefined);
  if (given.length > 0 && given.length < 4) {
    const missing = two.filter((f) => s[f] === undefined);
    out.push([
      missing[0]!,
      `Cannot use two-point scaling without ${
        missing.join(", ")
      }: rawMin, rawMax, engMin and engMax go together`,
    ]);
  }
  // gain 1 / offset 0 are the schema defaults (ajv fills them in): they do not conflict.
  const gainSet = s.gain !== undefined && s.gain !== 1;
  const offsetSet = s.offset !== undefined && s.offset !== 0;
  if (given.length > 0 && (gainSet || offsetSet)) {
    out.push([
      gainSet ? "gain" : "offset",
      "Cannot combine gain/offset with two-point scaling (rawMin, rawMax, engMin, engMax): use one or the other",
    ]);
  }
  if (given.length === 4 && s.rawMin === s.rawMax) {
    out.push([
      "rawMax",
      `Cannot scale from an empty raw range: rawMin and rawMax are both ${s.rawMin}`,
    ]);
  }
  if (s.clampMin !== undefined && s.clampMax !== undefined && s.clampMin > s.clampMax) {
    out.push([
      "clampMin",
      `Cannot clamp to an empty range: clampMin ${s.clampMin} is above clampMax ${s.clampMax}`,
    ]);
  }
  return out;
}

/**
 * Folds a scaling into the numbers a hot loop needs. Throws a `RangeError` when the scaling
 * is not usable (see {@linkcode scalingIssues}); configs are validated before this runs.
 */
export function compileScaling(s: TagScaling): CompiledScaling {
  const issues = scalingIssues(s);
  if (issues.length > 0) throw new RangeError(issues[0]![1]);
  const lo = s.clampMin ?? -Infinity;
  const hi = s.clampMax ?? Infinity;
  if (isTwoPoint(s)) {
    // One rounding instead of two: 0..27648 → 0..100 gives 13824 → 50 exactly.
    return {
      r0: s.rawMin!,
      m: s.engMax! - s.engMin!,
      dv: s.rawMax! - s.rawMin!,
      e0: s.engMin!,
      lo,
      hi,
    };
  }
  const gain = s.gain ?? 1;
  const dv = divisorOf(gain);
  return { r0: 0, m: dv === 1 ? gain : 1, dv, e0: s.offset ?? 0, lo, hi };
}

/** Applies a compiled scaling. NaN stays NaN. */
export function applyCompiled(raw: number, c: CompiledScaling): number {
  const v = (raw - c.r0) * c.m / c.dv + c.e0;
  return v < c.lo ? c.lo : v > c.hi ? c.hi : v;
}

/**
 * Scales a raw value to engineering units: two-point when rawMin, rawMax, engMin and engMax
 * are all set, gain/offset otherwise (gain 1, offset 0 by default), then clamps. Does not
 * validate (see {@linkcode scalingIssues}) and allocates nothing, so it is safe per value.
 *
 * @example
 * ```ts
 * applyScaling(13824, { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 }); // 50
 * applyScaling(215, { gain: 0.01 }); // 2.15
 * ```
 */
export function applyScaling(raw: number, s: TagScaling): number {
  // Same arithmetic as compileScaling + applyCompiled, without allocating.
  let v: number;
  if (isTwoPoint(s)) {
    v = (raw - s.rawMin!) * (s.engMax! - s.engMin!) / (s.rawMax! - s.rawMin!) + s.engMin!;
  } else {
    const gain = s.gain ?? 1;
    const dv = divisorOf(gain);
    v = (dv === 1 ? raw * gain : raw / dv) + (s.offset ?? 0);
  }
  if (s.clampMin !== undefined && v < s.clampMin) return s.clampMin;
  if (s.clampMax !== undefined && v > s.clampMax) return s.clampMax;
  return v;
}

/**
 * The raw value that scales to `eng`: what a write of an engineering value sends to the
 * device. Clamping is not inverted (a clamped range has no single raw value).
 *
 * @example
 * ```ts
 * invertScaling(2.15, { gain: 0.01 }); // 215
 * ```
 */
export function invertScaling(eng: number, s: TagScaling): number {
  const c = compileScaling({ ...s, clampMin: undefined, clampMax: undefined });
  if (c.m === 0) {
    throw new RangeError(
      `Cannot write ${eng} through a scaling with gain 0: no raw value maps to it`,
    );
  }
  // A 1/n gain is undone by dividing by the gain itself (21.37 / 0.1 = 213.7, where
  // 21.37 * 10 = 213.70000000000002); a two-point scaling with one rounding.
  if (c.m === 1 && c.dv !== 1) return (eng - c.e0) / (1 / c.dv) + c.r0;
  return (eng - c.e0) * c.dv / c.m + c.r0;
}

/** Scales a tag's value: a number, or each number of an array (`count:` tags). */
export function scaleValue(v: Value, s: TagScaling): Value {
  if (typeof v === "number") return applyScaling(v, s);
  if (Array.isArray(v)) return v.map((x) => typeof x === "number" ? applyScaling(x, s) : x);
  return v;
}

/**
 * The raw value to write for an engineering value (or array of them), by the tag's value
 * kind: an `integer` or `bigint` tag gets the raw value rounded. An `array` tag's kind says
 * nothing of its elements, so each element is only freed of the floating-point noise of the
 * inversion (21.3 at gain 0.1 gives 213, not 212.99999999999997); a real fraction stays, and
 * the driver refuses it for an integer element rather than have it rounded unseen.
 */
export function unscaleValue(v: Value, s: TagScaling, kind: ValueKind): Value {
  const integer = kind === "integer" || kind === "bigint";
  const one = (x: number) => {
    const raw = invertScaling(x, s);
    if (integer) return Math.round(raw);
    if (kind !== "array") return raw;
    const r = Math.round(raw);
    return Math.abs(raw - r) <= 1e-9 * Math.max(1, Math.abs(raw)) ? r : raw;
  };
  if (typeof v === "number") return one(v);
  if (Array.isArray(v)) return v.map((x) => typeof x === "number" ? one(x) : x);
  return v;
}
