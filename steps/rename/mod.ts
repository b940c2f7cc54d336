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
 * and no string is built per record. The work is in `rename.ts`, loaded with the first
 * rename step or check (RE2 with it).
 */

import type { StepModule } from "../../engine/plugin.ts";
import { type RenameConfig, RenameSpec } from "./spec.ts";

export { type RenameConfig, RenameSpec } from "./spec.ts";

/** The `rename` step. */
export const renameStep: StepModule<RenameConfig> = {
  name: "rename",
  description: "Renames tags (map, regex, prefix/suffix) and routes records to another device.",
  status: "stable",
  spec: RenameSpec,
  create: async (config) => (await import("./rename.ts")).createRename(config),
  validate: async (config) => (await import("./rename.ts")).validateRename(config),
};
