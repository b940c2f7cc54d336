/**
 * @module
 * The `rename` step: renames tags and routes records under another device name. A tag name
 * goes through, in order: the exact `map` (a mapped name is final for this stage), else the
 * `pattern`/`replace` regex (when it matches), then `prefix` and `suffix` on every name.
 * `device` replaces the device name of every selected record.
 *
 * `pattern` runs on RE2 (see `steps/_pattern.ts`): linear time in the tag name, so no
 * pattern can freeze the gateway; backreferences and lookaround are refused at `check`.
 *
 * New names are cached per input tag, so after the first batch a rename is one Map lookup
 * and no string is built per record.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  NAME_PATTERN,
  type Step,
  type StepIssue,
  type StepModule,
} from "../../engine/plugin.ts";
import { DevicesField, selected, selector, TagsField } from "../_shared.ts";
import { compilePattern } from "../_pattern.ts";

/** The `rename` step's fields. */
export const RenameSpec = Type.Object({
  tags: TagsField,
  devices: DevicesField,
  map: Type.Optional(Type.Record(Type.String(), Type.String({ pattern: NAME_PATTERN }), {
    description: "Exact renames, old tag name → new tag name.",
    examples: [{ temp1: "supply-temp", temp2: "return-temp" }],
  })),
  pattern: Type.Optional(Type.String({
    minLength: 1,
    description:
      "A regular expression (RE2 syntax: no backreferences or lookaround; linear-time matching) matched against tag names not in `map`; matching names are rewritten with `replace`.",
    examples: ["^temp(\\d+)$"],
  })),
  replace: Type.Optional(Type.String({
    default: "",
    description: "Replacement for `pattern` matches; `$1`, `$2`… insert capture groups.",
    examples: ["temperature-$1"],
  })),
  prefix: Type.Optional(Type.String({
    default: "",
    description: "Text put before every tag name (after map/pattern).",
    examples: ["boiler."],
  })),
  suffix: Type.Optional(Type.String({
    default: "",
    description: "Text put after every tag name (after map/pattern).",
    examples: ["_degC"],
  })),
  device: Type.Optional(Type.String({
    pattern: NAME_PATTERN,
    description:
      "Device name to put on every record (routes records under another device or area).",
    examples: ["area-1"],
  })),
}, {
  additionalProperties: false,
  description:
    "Renames tags (map, regex, prefix/suffix) and routes records to another device name.",
  examples: [{ map: { temp1: "supply-temp" } }, { prefix: "boiler.", device: "area-1" }],
});

/** The `rename` step's config. */
export type RenameConfig = Static<typeof RenameSpec>;

const CACHE_LIMIT = 10_000;

/** Creates a rename step; the config must have passed {@linkcode renameStep.validate}. */
export function createRename(config: RenameConfig): Step {
  const map = new Map(Object.entries(config.map ?? {}));
  const compiled = config.pattern === undefined ? undefined : compilePattern(config.pattern);
  if (compiled?.error !== undefined) throw new RangeError(compiled.error);
  const re = compiled?.pattern;
  const replace = config.replace ?? "";
  const prefix = config.prefix ?? "";
  const suffix = config.suffix ?? "";
  const device = config.device;
  const identity = map.size === 0 && re === undefined && prefix === "" && suffix === "";
  const sel = selector(config);
  const all = sel.tags === undefined && sel.devices === undefined;
  const cache = new Map<string, string>();

  const rename = (tag: string): string => {
    let name = map.get(tag);
    if (name === undefined) {
      name = re !== undefined && re.test(tag) ? re.matcher(tag).replaceFirst(replace) : tag;
    }
    return prefix + name + suffix;
  };

  return {
    process(b: Batch): Batch {
      const n = b.length;
      const tags = b.tag;
      for (let i = 0; i < n; i++) {
        if (!all && !selected(sel, b, i)) continue;
        if (!identity) {
          const tag = tags[i]!;
          let name = cache.get(tag);
          if (name === undefined) {
            name = rename(tag);
            if (cache.size >= CACHE_LIMIT) cache.clear();
            cache.set(tag, name);
          }
          tags[i] = name;
        }
        if (device !== undefined) b.device[i] = device;
      }
      return b;
    },
  };
}

/** Issues of a rename config beyond the schema: the pattern must compile on RE2. */
export function validateRename(config: RenameConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  if (config.pattern !== undefined) {
    const compiled = compilePattern(config.pattern);
    if (compiled.error !== undefined) issues.push({ message: compiled.error, path: ["pattern"] });
  } else if (config.replace) {
    issues.push({ message: "Cannot use replace without pattern", path: ["replace"] });
  }
  return issues;
}

/** The `rename` step. */
export const renameStep: StepModule<RenameConfig> = {
  name: "rename",
  description: "Renames tags (map, regex, prefix/suffix) and routes records to another device.",
  status: "stable",
  spec: RenameSpec,
  create: (config) => createRename(config),
  validate: (config) => validateRename(config),
};
