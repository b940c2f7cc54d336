/**
 * @module
 * Tag patterns of the live-data API: globs over `device/tag` names. `*` matches any run of
 * characters within a segment (never `/`), `?` exactly one; anything else matches itself.
 * So `plant1/temp*` matches the tags of `plant1` whose name starts with `temp`, `press-?/*`
 * every tag of `press-1` … `press-9`, and a device segment of `*` every device.
 *
 * Each segment is a glob of `engine/glob.ts`: O(|pattern| · |name|) at most on any name.
 */

import { compileGlob, matchGlob } from "../../engine/glob.ts";

/** A compiled pattern. */
export interface TagPattern {
  readonly source: string;
  /** Whether `device/tag` matches. */
  matches(device: string, tag: string): boolean;
}

/** Longest pattern accepted, characters. */
export const MAX_PATTERN_LENGTH = 256;

/**
 * Compiles a `device/tag` glob. Throws a RangeError saying what is wrong with it: empty,
 * longer than 256 characters, or not two segments.
 *
 * @example
 * ```ts
 * compilePattern("plant1-?/temp*").matches("plant1-a", "temp3"); // true
 * ```
 */
export function compilePattern(source: string): TagPattern {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    throw new RangeError(
      `Pattern must have 1 to ${MAX_PATTERN_LENGTH} characters, got ${source.length}`,
    );
  }
  const parts = source.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new RangeError(
      `Pattern "${source}" must be "device/tag" (one "/", e.g. "press-*/temp*" or "*/*")`,
    );
  }
  const device = compileGlob(parts[0]!);
  const tag = compileGlob(parts[1]!);
  return {
    source,
    matches: (d, t) => matchGlob(device, d) && matchGlob(tag, t),
  };
}
