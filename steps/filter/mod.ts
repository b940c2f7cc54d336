/**
 * @module
 * The `filter` step: keeps the records that match every given condition (tags, devices,
 * quality, value range) and drops the rest in place; `invert` keeps the others instead.
 * `min`/`max` test numeric values only (numbers, and booleans as 0/1) of records that are not
 * bad: other records are not judged by value, like every numeric step, so a range filter does
 * not swallow a device's strings or its bad-quality reports.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  Quality,
  QUALITY_NAMES,
  type Step,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { DevicesField, moveRecord, nameMatcher, TagsField, truncate } from "../_shared.ts";

/** The `filter` step's fields. */
export const FilterSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  quality: Type.Optional(Type.Array(
    Type.Union(QUALITY_NAMES.map((q) => Type.Literal(q))),
    {
      minItems: 1,
      uniqueItems: true,
      description: "Keep records of these qualities only.",
      examples: [["good"], ["good", "uncertain"]],
    },
  )),
  min: Type.Optional(Type.Number({
    description: "Keep numeric values at or above this.",
    examples: [0],
  })),
  max: Type.Optional(Type.Number({
    description: "Keep numeric values at or below this.",
    examples: [100],
  })),
  invert: Type.Optional(Type.Boolean({
    default: false,
    description: "Keep the records that do NOT match all conditions instead.",
    examples: [true],
  })),
}, {
  additionalProperties: false,
  description: "Keeps records matching all given conditions (tags, devices, quality, min/max).",
  examples: [{ tags: ["temp*"], quality: ["good"] }, { min: 0, max: 100, invert: true }],
});

/** The `filter` step's config. */
export type FilterConfig = Static<typeof FilterSpec>;

/** Creates a filter step. */
export function createFilter(config: FilterConfig): Step {
  const tags = nameMatcher(config.tags);
  const devices = nameMatcher(config.devices);
  // Bit q set when quality code q is kept.
  let qualities = 0b111;
  if (config.quality) {
    qualities = 0;
    for (const q of config.quality) qualities |= 1 << Quality[q];
  }
  const min = config.min ?? -Infinity;
  const max = config.max ?? Infinity;
  const ranged = config.min !== undefined || config.max !== undefined;
  const invert = config.invert === true;

  return {
    process(b: Batch): Batch {
      const n = b.length;
      const kind = b.kind, quality = b.quality, num = b.num;
      let out = 0;
      for (let i = 0; i < n; i++) {
        const q = quality[i]!;
        let match = ((qualities >> q) & 1) === 1;
        if (match && ranged && q !== Quality.bad) {
          const k = kind[i];
          if (k === StorageKind.number || k === StorageKind.boolean) {
            const v = num[i]!;
            match = v >= min && v <= max;
          }
        }
        if (match && tags !== undefined) match = tags(b.tag[i]!);
        if (match && devices !== undefined) match = devices(b.device[i]!);
        if (match !== invert) {
          if (out !== i) moveRecord(b, i, out);
          out++;
        }
      }
      if (out !== n) truncate(b, out);
      return b;
    },
  };
}

/** The `filter` step. */
export const filterStep: StepModule<FilterConfig> = {
  name: "filter",
  description: "Keeps records that match every condition (tags, devices, quality, value range).",
  status: "stable",
  spec: FilterSpec,
  create: (config) => createFilter(config),
  validate: (config) =>
    config.min !== undefined && config.max !== undefined && config.min > config.max
      ? [{
        message: `Cannot filter to an empty range: min ${config.min} is above max ${config.max}`,
        path: ["min"],
      }]
      : [],
};
