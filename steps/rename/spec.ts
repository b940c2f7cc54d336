/**
 * @module
 * The `rename` step's config schema (see `mod.ts`).
 */

import { type Static, Type } from "@sinclair/typebox";
import { NAME_PATTERN } from "../../engine/plugin.ts";
import { DevicesField, TagsField } from "../_shared.ts";

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
