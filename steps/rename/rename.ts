/**
 * @module
 * The `rename` step's work (see `mod.ts`): loaded with the first rename step, with RE2
 * (`re2js`, about 2 MB of resident memory), so that a gateway without one does not carry it.
 */

import type { Batch, Step, StepIssue } from "../../engine/plugin.ts";
import { selected, selector } from "../_shared.ts";
import { compilePattern } from "../_pattern.ts";
import type { RenameConfig } from "./spec.ts";

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
