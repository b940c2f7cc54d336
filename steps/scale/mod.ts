/**
 * @module
 * The `scale` step: linear scaling of numeric values (gain/offset or two-point, then clamp)
 * for the selected tags and devices. The scaled value replaces the input value in place.
 * Records that are not numbers, or whose quality is bad, pass unchanged.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  compileScaling,
  Quality,
  scalingIssues,
  type Step,
  type StepIssue,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { DevicesField, selected, selector, TagsField } from "../_shared.ts";

/** The `scale` step's fields. */
export const ScaleSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  gain: Type.Optional(Type.Number({
    description: "eng = raw * gain + offset",
    default: 1,
    examples: [1.8, 0.1],
  })),
  offset: Type.Optional(Type.Number({
    description: "eng = raw * gain + offset",
    default: 0,
    examples: [32, -273.15],
  })),
  rawMin: Type.Optional(Type.Number({
    description: "Two-point scaling: raw low end (with rawMax, engMin, engMax)",
    examples: [0, 4000],
  })),
  rawMax: Type.Optional(Type.Number({
    description: "Two-point scaling: raw high end",
    examples: [27648, 20000],
  })),
  engMin: Type.Optional(Type.Number({
    description: "Two-point scaling: engineering value at rawMin",
    examples: [0],
  })),
  engMax: Type.Optional(Type.Number({
    description: "Two-point scaling: engineering value at rawMax",
    examples: [100],
  })),
  clampMin: Type.Optional(Type.Number({
    description: "Lowest engineering value let through (lower values become this)",
    examples: [0],
  })),
  clampMax: Type.Optional(Type.Number({
    description: "Highest engineering value let through (higher values become this)",
    examples: [100],
  })),
}, {
  additionalProperties: false,
  description:
    "Scales numeric values: `gain`/`offset`, or two-point `rawMin`/`rawMax`/`engMin`/`engMax`, then clamps.",
  examples: [{ tags: ["temp*"], gain: 1.8, offset: 32 }, {
    rawMin: 0,
    rawMax: 27648,
    engMin: 0,
    engMax: 100,
  }],
});

/** The `scale` step's config. */
export type ScaleConfig = Static<typeof ScaleSpec>;

/** Creates a scale step; the config must have passed {@linkcode scaleStep.validate}. */
export function createScale(config: ScaleConfig): Step {
  const c = compileScaling(config);
  const sel = selector(config);
  const { r0, m, dv, e0, lo, hi } = c;
  const all = sel.tags === undefined && sel.devices === undefined;
  return {
    process(b: Batch): Batch {
      const n = b.length;
      const num = b.num, kind = b.kind, quality = b.quality;
      for (let i = 0; i < n; i++) {
        if (kind[i] !== StorageKind.number || quality[i] === Quality.bad) continue;
        if (!all && !selected(sel, b, i)) continue;
        const v = (num[i]! - r0) * m / dv + e0;
        num[i] = v < lo ? lo : v > hi ? hi : v;
      }
      return b;
    },
  };
}

/** Issues of a scale config beyond the schema. */
export function validateScale(config: ScaleConfig): StepIssue[] {
  return scalingIssues(config).map(([field, message]) => ({ message, path: [field] }));
}

/** The `scale` step. */
export const scaleStep: StepModule<ScaleConfig> = {
  name: "scale",
  description: "Scales numeric values linearly (gain/offset or two-point) and clamps them.",
  status: "stable",
  spec: ScaleSpec,
  create: (config) => createScale(config),
  validate: (config) => validateScale(config),
};
